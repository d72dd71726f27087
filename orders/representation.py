"""An order as the API answers it: one function draws every answer that shows an order.

`order_representation` works on rows in memory, wherever they come from: read by
`orders_for_output()` (the detail and the list, through the output serializers, which
describe the shape for the schema), or just written by order capture (its answer needs no
second read). Values are drawn as DRF's fields would draw them: decimals as strings to
the cent, times in the current time zone in ISO 8601.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import tzinfo

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.api.values import moment, money
from fulfilment.models import Fulfilment
from fulfilment.representation import (
    address_representation,
    customer_representation,
    fulfilment_lines,
)
from inventory.models import Allocation
from orders.models import Order, OrderEvent, OrderLine
from orders.order_returns import order_returns_drawn, order_returns_prefetch
from orders.tracking.links import tracking_url


def orders_for_output(*, events: bool = True) -> QuerySet[Order]:
    """Return orders with all that `OrderOutputSerializer` reads, in a fixed number of queries."""
    orders = Order.objects.select_related("channel", "pickup_location").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
        Prefetch(
            "lines__allocations",
            queryset=Allocation.objects.holding().select_related("stock__location"),
            to_attr="holding",
        ),
        Prefetch(
            "fulfilments",
            queryset=Fulfilment.objects.select_related("location").order_by("created_at", "id"),
        ),
        *order_returns_prefetch(),
    )
    if events:
        orders = orders.prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor"))
        )
    return orders


def order_representation(
    order: Order,
    *,
    lines: Sequence[OrderLine],
    holding: Sequence[Allocation],
    fulfilments: Sequence[Fulfilment],
    events: Sequence[OrderEvent] | None,
    request: HttpRequest | None,
    returns: Sequence[dict] = (),
) -> dict:
    """Return the order as the API shows it.

    `lines` with their product, in line order; `holding`, the open and shipped allocations
    of those lines with their stock row's location, in pk order; `fulfilments` with their
    location, oldest first; `events` with their actor, oldest first, or None to leave the
    timeline out (the list); `returns`, the order's returns as the returns endpoints answer
    them, oldest first (none for an order just placed).
    """
    zone = timezone.get_current_timezone()
    line_of = {line.pk: line for line in lines}
    held: dict[int, int] = defaultdict(int)
    by_fulfilment: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in holding:
        held[allocation.order_line_id] += allocation.quantity
        by_fulfilment[allocation.fulfilment_id].append(allocation)
    pickup = order.pickup_location if order.pickup_location_id else None
    body = {
        "number": order.number,
        "status": str(order.status),
        "channel": order.channel.code,
        "external_id": order.external_id,
        "customer": customer_representation(order),
        "shipping_address": address_representation(order),
        "delivery_method": str(order.delivery_method),
        "pickup_location": pickup.code if pickup is not None else None,
        "currency": order.currency,
        "promised_date": order.promised_date.isoformat() if order.promised_date else None,
        "shipping_price": None if order.shipping_price is None else money(order.shipping_price),
        "lines": [
            {
                "line": line.line_no,
                "sku": line.product.sku,
                "name": line.product.name,
                "quantity": line.quantity,
                "allocated": held[line.pk],
                "shipped": line.quantity_shipped,
                "cancelled": line.quantity_cancelled,
                "returned": line.quantity_returned,
                "unit_price": money(line.unit_price),
            }
            for line in lines
        ],
        "allocations": [
            {
                "line": line_of[allocation.order_line_id].line_no,
                "sku": line_of[allocation.order_line_id].product.sku,
                "location": allocation.stock.location.code,
                "quantity": allocation.quantity,
                "status": str(allocation.status),
            }
            for allocation in holding
        ],
        "fulfilments": [
            {
                "id": fulfilment.pk,
                "location": fulfilment.location.code,
                "status": str(fulfilment.status),
                "carrier": fulfilment.carrier,
                "tracking_number": fulfilment.tracking_number,
                "lines": fulfilment_lines(by_fulfilment[fulfilment.pk], line_of),
            }
            for fulfilment in fulfilments
        ],
        "returns": list(returns),
        "tracking_url": tracking_url(order, request),
        "logistics_cost": None if order.logistics_cost is None else money(order.logistics_cost),
        # Why the order waits before its locations are asked for it (an exchange waiting
        # for its return), or null: the status values are the contract's, the hold is not one.
        "held_for": order.held_for or None,
        "needs_attention": order.needs_attention,
        "attention_reason": order.attention_reason,
        "created_at": moment(order.created_at, zone),
        "updated_at": moment(order.updated_at, zone),
    }
    if events is not None:
        body["events"] = events_drawn(events, zone)
    return body


def events_drawn(events: Sequence[OrderEvent], zone: tzinfo) -> list[dict]:
    """Return an order's timeline as its answer shows it (`events`, with their actor)."""
    return [
        {
            "kind": str(event.kind),
            "message": event.message,
            "public": event.public,
            "actor": event.actor.get_username() if event.actor_id else None,
            "created_at": moment(event.created_at, zone),
        }
        for event in events
    ]


def order_representation_read(order: Order, *, events: bool, request: HttpRequest | None) -> dict:
    """Return an order read by `orders_for_output()` as the API shows it."""
    lines = list(order.lines.all())
    return order_representation(
        order,
        lines=lines,
        holding=sorted(
            (allocation for line in lines for allocation in line_holding(line)),
            key=lambda allocation: allocation.pk,
        ),
        fulfilments=list(order.fulfilments.all()),
        events=list(order.events.all()) if events else None,
        request=request,
        returns=order_returns_drawn(order),
    )


def line_holding(line: OrderLine) -> list[Allocation]:
    """Return the line's open and shipped allocations: prefetched by `orders_for_output()`,
    or read now for an order that came from elsewhere."""
    holding = getattr(line, "holding", None)
    if holding is None:
        holding = list(line.allocations.holding().select_related("stock__location"))
    return holding
