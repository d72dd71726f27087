"""The one place supply locks its documents: a transfer or a purchase order first, then (in
inventory's services) the stock rows it moves, in pk order."""

from __future__ import annotations

from supply.models import PurchaseOrder, Transfer


def lock_transfer(pk: int) -> Transfer:
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("source", "destination")
        .get(pk=pk)
    )


def lock_purchase_order(pk: int) -> PurchaseOrder:
    return (
        PurchaseOrder.objects.select_for_update(of=("self",)).select_related("location").get(pk=pk)
    )
