"""The event types the OMS sends to subscribers."""

from __future__ import annotations

ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"
FULFILMENT_REQUESTED = "fulfilment.requested"
FULFILMENT_CANCELLED = "fulfilment.cancelled"
FULFILMENT_SHIPPED = "fulfilment.shipped"
STOCK_LOW = "stock.low"
STOCK_CHANGED = "stock.changed"
RETURN_CREATED = "return.created"
RETURN_RECEIVED = "return.received"
RETURN_REFUNDED = "return.refunded"
TRANSFER_REQUESTED = "transfer.requested"
TRANSFER_SHIPPED = "transfer.shipped"
TRANSFER_RECEIVED = "transfer.received"
TRANSFER_CANCELLED = "transfer.cancelled"
ORDER_PROMISE_CHANGED = "order.promise_changed"

EVENT_TYPES = (
    ORDER_CREATED,
    ORDER_CANCELLED,
    ORDER_SHIPPED,
    FULFILMENT_REQUESTED,
    FULFILMENT_CANCELLED,
    FULFILMENT_SHIPPED,
    STOCK_LOW,
    STOCK_CHANGED,
    RETURN_CREATED,
    RETURN_RECEIVED,
    RETURN_REFUNDED,
    TRANSFER_REQUESTED,
    TRANSFER_SHIPPED,
    TRANSFER_RECEIVED,
    TRANSFER_CANCELLED,
    ORDER_PROMISE_CHANGED,
)

# Which events a subscription with a location receives is decided by the location written on
# each event (outbox.models.WebhookSubscription.wants): fulfilment and stock events carry
# theirs; order events carry none, so they reach subscriptions without a location only.
# Return events carry the location the units are expected at (created, refunded) or were
# received at (received).
# A transfer's events are about two locations: they carry the second as
# `other_location`.


def fulfilment_key(fulfilment_id: int) -> str:
    """Return the ordering key of a fulfilment's events: they reach a subscriber in order."""
    return f"fulfilment:{fulfilment_id}"


def order_key(order_id: int) -> str:
    """Return the ordering key of an order's own events (created before shipped or cancelled)."""
    return f"order:{order_id}"


def return_key(return_id: int) -> str:
    """Return the ordering key of a return's events (created before received before refunded)."""
    return f"return:{return_id}"
