"""A fulfilment as the API and its events show it: one function draws every such answer.

`fulfilment_representation` works on rows in memory: read back by `fulfilments_for_output()`
(the endpoints, the export file, `fulfilment.*` events written after a change), or just
written by order capture (its `fulfilment.requested` events need no read). The output
serializer declares the same shape for the schema and draws it with this function. Values
are drawn as DRF's fields would draw them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from core.api.values import moment
from fulfilment.models import Fulfilment
from inventory.models import Allocation


def fulfilments_for_output() -> QuerySet[Fulfilment]:
    """Return fulfilments with what `fulfilment_representation_read` reads, in three queries."""
    return Fulfilment.objects.select_related("order", "location").prefetch_related(
        Prefetch(
            "allocations",
            queryset=Allocation.objects.holding().select_related("order_line__product"),
            to_attr="holding",
        )
    )


def customer_representation(order) -> dict:
    """Return the customer of an order, as the order and its fulfilments show it."""
    return {
        "email": order.customer_email,
        "name": order.customer_name,
        "phone": order.customer_phone,
    }


def recipient_representation(order) -> dict:
    """Return whom a fulfilment ships to, as its carrier needs it: name and phone.

    A location (a 3PL, a store) sees an order only through its fulfilments and their events:
    what the parcel needs, not the customer's e-mail (the order's own answer has it).
    """
    return {"name": order.customer_name, "phone": order.customer_phone}


def address_representation(order) -> dict:
    """Return the shipping address of an order, as the order and its fulfilments show it."""
    return {
        "line1": order.ship_line1,
        "line2": order.ship_line2,
        "city": order.ship_city,
        "postcode": order.ship_postcode,
        "country": order.ship_country,
        "lat": None if order.ship_lat is None else float(order.ship_lat),
        "lon": None if order.ship_lon is None else float(order.ship_lon),
    }


def fulfilment_lines(allocations: Iterable[Allocation], line_of: Mapping | None = None) -> list:
    """Group allocations by SKU, in the order their lines come: `[{"sku", "quantity"}]`.

    `line_of` maps order line ids to lines with their product; without it, each allocation's
    `order_line` is used (loaded with its product).
    """
    allocations = list(allocations)
    if line_of is None:
        line_of = {allocation.order_line_id: allocation.order_line for allocation in allocations}
    by_sku: dict[str, int] = defaultdict(int)
    for allocation in sorted(allocations, key=lambda a: (line_of[a.order_line_id].line_no, a.pk)):
        by_sku[line_of[allocation.order_line_id].product.sku] += allocation.quantity
    return [{"sku": sku, "quantity": quantity} for sku, quantity in by_sku.items()]


def fulfilment_representation(fulfilment: Fulfilment, *, order, lines: list[dict]) -> dict:
    """Return the fulfilment as the API shows it, from rows in memory (`fulfilment.location`
    loaded; `lines` as `fulfilment_lines` draws them)."""
    zone = timezone.get_current_timezone()
    return {
        "id": fulfilment.pk,
        "order": order.number,
        "location": fulfilment.location.code,
        "status": str(fulfilment.status),
        "lines": lines,
        "carrier": fulfilment.carrier,
        "tracking_number": fulfilment.tracking_number,
        "reason": fulfilment.reason,
        "delivery_method": str(order.delivery_method),
        "customer": recipient_representation(order),
        "shipping_address": address_representation(order),
        "created_at": moment(fulfilment.created_at, zone),
        "updated_at": moment(fulfilment.updated_at, zone),
        "accepted_at": moment(fulfilment.accepted_at, zone),
        "shipped_at": moment(fulfilment.shipped_at, zone),
        "ready_at": moment(fulfilment.ready_at, zone),
        "collected_at": moment(fulfilment.collected_at, zone),
    }


def fulfilment_representation_read(fulfilment: Fulfilment) -> dict:
    """Return a fulfilment read by `fulfilments_for_output()` as the API shows it (one read
    elsewhere, e.g. by a webhook, has its lines read now)."""
    holding = getattr(fulfilment, "holding", None)
    if holding is None:
        holding = fulfilment.allocations.holding().select_related("order_line__product")
    return fulfilment_representation(
        fulfilment, order=fulfilment.order, lines=fulfilment_lines(holding)
    )
