"""The `data` of each event, drawn as the API draws the same things.

For `fulfilment.*`, the fulfilment as the fulfilments endpoint shows it; for `order.*`, the
order as the orders endpoint shows it (without its timeline). Order capture builds both from
the rows it has just written (no read on the hot path); the other writers read them back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.models import Allocation
from orders.api.representation import fulfilment_lines, moment, order_representation
from orders.models import Order, OrderLine
from outbox.emit import Draft
from outbox.events import (
    FULFILMENT_REQUESTED,
    ORDER_CREATED,
    fulfilment_key,
    order_key,
)


def fulfilment_payload(fulfilment: Fulfilment, *, order: Order, lines: list[dict]) -> dict:
    """Return the fulfilment as `FulfilmentOutputSerializer` shows it, from rows in memory
    (`fulfilment.location` loaded; `lines` as `fulfilment_lines` draws them)."""
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
            "lat": None if order.ship_lat is None else float(order.ship_lat),
            "lon": None if order.ship_lon is None else float(order.ship_lon),
        },
        "created_at": moment(fulfilment.created_at, zone),
        "updated_at": moment(fulfilment.updated_at, zone),
        "accepted_at": moment(fulfilment.accepted_at, zone),
        "shipped_at": moment(fulfilment.shipped_at, zone),
        "ready_at": moment(fulfilment.ready_at, zone),
        "collected_at": moment(fulfilment.collected_at, zone),
    }


def order_captured_drafts(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    allocations: Sequence[Allocation],
    fulfilments: Sequence[Fulfilment],
) -> list[Draft]:
    """Return `order.created` and one `fulfilment.requested` per request, from the rows order
    capture has just written (allocations with their line and stock location)."""
    by_fulfilment: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in allocations:
        by_fulfilment[allocation.fulfilment_id].append(allocation)
    drafts = [
        Draft(
            ORDER_CREATED,
            order_representation(
                order,
                lines=lines,
                holding=allocations,
                fulfilments=fulfilments,
                events=None,
                request=None,
            ),
            None,
            order_key(order.pk),
        )
    ]
    drafts += [
        Draft(
            FULFILMENT_REQUESTED,
            fulfilment_payload(
                fulfilment, order=order, lines=fulfilment_lines(by_fulfilment[fulfilment.pk])
            ),
            fulfilment.location_id,
            fulfilment_key(fulfilment.pk),
        )
        for fulfilment in fulfilments
    ]
    return drafts


def fulfilment_draft(event: str, fulfilment_id: int) -> Draft:
    """Return `event` for a fulfilment as it is now in this transaction (read back)."""
    from fulfilment.api.serializers import FulfilmentOutputSerializer, fulfilments_for_output

    fulfilment = fulfilments_for_output().get(pk=fulfilment_id)
    return Draft(
        event,
        _plain(FulfilmentOutputSerializer(fulfilment).data),
        fulfilment.location_id,
        fulfilment_key(fulfilment.pk),
    )


def order_draft(event: str, order_id: int) -> Draft:
    """Return `event` for an order as it is now in this transaction (read back)."""
    from orders.api.representation import order_representation_read
    from orders.api.serializers import orders_for_output

    order = orders_for_output(events=False).get(pk=order_id)
    return Draft(
        event,
        order_representation_read(order, events=False, request=None),
        None,
        order_key(order.pk),
    )


def _plain(value):
    """Return serializer output as plain dicts and lists (what JSON gives back)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
