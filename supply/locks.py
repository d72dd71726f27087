"""The one place supply locks its documents: a transfer or a purchase order first, then (in
inventory's services) the stock rows it moves, in pk order."""

from __future__ import annotations

from alerts.models import Alert
from supply.models import (
    PurchaseOrder,
    ReplenishmentProposal,
    ReplenishmentRun,
    Transfer,
)


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


def lock_replenishment_run(pk: int) -> ReplenishmentRun:
    return ReplenishmentRun.objects.select_for_update().get(pk=pk)


def lock_proposal(pk: int) -> ReplenishmentProposal:
    return (
        ReplenishmentProposal.objects.select_for_update(of=("self",))
        .select_related("source", "destination")
        .get(pk=pk)
    )


def lock_alert(pk: int) -> Alert:
    """An alert whose suggestion becomes a transfer: locked before the stock rows, so that
    two clicks on it request one transfer."""
    return (
        Alert.objects.select_for_update(of=("self",))
        .select_related("product", "location")
        .get(pk=pk)
    )
