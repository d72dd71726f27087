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
from decimal import Decimal

from django.http import HttpRequest
from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.models import Allocation
from orders.models import Order, OrderEvent, OrderLine
from orders.tracking.links import tracking_url

CENT = Decimal("0.01")


def order_representation(
    order: Order,
    *,
    lines: Sequence[OrderLine],
    holding: Sequence[Allocation],
    fulfilments: Sequence[Fulfilment],
    events: Sequence[OrderEvent] | None,
    request: HttpRequest | None,
) -> dict:
    """Return the order as the API shows it.

    `lines` with their product, in line order; `holding`, the open and shipped allocations
    of those lines with their stock row's location, in pk order; `fulfilments` with their
    location, oldest first; `events` with their actor, oldest first, or None to leave the
    timeline out (the list).
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
        "customer": {
            "email": order.customer_email,
            "name": order.customer_name,
            "phone": order.customer_phone,
        },
        "shipping_address": {
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
            "lat": _float(order.ship_lat),
            "lon": _float(order.ship_lon),
        },
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
                "lines": _fulfilment_lines(by_fulfilment[fulfilment.pk], line_of),
            }
            for fulfilment in fulfilments
        ],
        "tracking_url": tracking_url(order, request),
        "logistics_cost": None if order.logistics_cost is None else money(order.logistics_cost),
        "needs_attention": order.needs_attention,
        "attention_reason": order.attention_reason,
        "created_at": moment(order.created_at, zone),
        "updated_at": moment(order.updated_at, zone),
    }
    if events is not None:
        body["events"] = [
            {
                "kind": str(event.kind),
                "message": event.message,
                "public": event.public,
                "actor": event.actor.get_username() if event.actor_id else None,
                "created_at": moment(event.created_at, zone),
            }
            for event in events
        ]
    return body


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
    )


def line_holding(line: OrderLine) -> list[Allocation]:
    """Return the line's open and shipped allocations: prefetched by `orders_for_output()`,
    or read now for an order that came from elsewhere."""
    holding = getattr(line, "holding", None)
    if holding is None:
        holding = list(line.allocations.holding().select_related("stock__location"))
    return holding


def fulfilment_lines(allocations) -> list[dict]:
    """Group allocations by SKU, in the order their lines come: `[{"sku", "quantity"}]`."""
    return _fulfilment_lines(
        allocations, {allocation.order_line_id: allocation.order_line for allocation in allocations}
    )


def _fulfilment_lines(allocations, line_of: dict[int, OrderLine]) -> list[dict]:
    by_sku: dict[str, int] = defaultdict(int)
    for allocation in sorted(allocations, key=lambda a: (line_of[a.order_line_id].line_no, a.pk)):
        by_sku[line_of[allocation.order_line_id].product.sku] += allocation.quantity
    return [{"sku": sku, "quantity": quantity} for sku, quantity in by_sku.items()]


def money(value) -> str:
    """Return an amount as DRF's DecimalField(decimal_places=2) draws it: "19.90"."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    return f"{value.quantize(CENT):f}"


def moment(value, zone=None) -> str | None:
    """Return a time as DRF's DateTimeField draws it: ISO 8601, in the current time zone."""
    if not value:
        return None
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _float(value) -> float | None:
    return None if value is None else float(value)
