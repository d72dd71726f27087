"""The promised date of an order that moves after capture: a purchase order expected later,
units brought to the pickup store by a new transfer. The customer hears of it (timeline,
`order.promise_changed`); the date told at capture (`promised_to_customer`) stays, so a
date moved past it is a broken promise (orders.selectors.promise_broken, the late-order
alert)."""

from __future__ import annotations

from datetime import date
from typing import Any

from orders.events import order_event_add
from orders.models import Order, OrderEvent
from orders.payloads import order_draft
from outbox.emit import events_emit
from outbox.events import ORDER_PROMISE_CHANGED


def order_promise_move(
    *, order: Order, to: date | None, message: str, data: dict, actor: Any = None
) -> bool:
    """Move the order's promised date to `to` (None: no date can be told any more) and tell
    the customer why (`message`, and `data` beside the dates); return whether it moved.
    The caller holds the order's lock, or the rows its date is drawn from."""
    before = order.promised_date
    if to == before:
        return False
    order.promised_date = to
    Order.objects.filter(pk=order.pk).update(promised_date=to)
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        message=message,
        data={
            "promise_changed": {
                "from": before.isoformat() if before else None,
                "to": to.isoformat() if to else None,
                **data,
            }
        },
        actor=actor,
    )
    events_emit(drafts=[order_draft(ORDER_PROMISE_CHANGED, order.pk)])
    return True
