"""Changes customer service and channels make to an order: cancel, cancel a line, note,
source again; and the allocation of backorders when stock arrives."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef

from core.exceptions import DomainError, NotFoundError
from core.retry import retry_on_conflict
from fulfilment.models import Fulfilment
from fulfilment.payloads import fulfilment_draft
from inventory.incoming import incoming_release
from inventory.models import Allocation
from inventory.services.allocations import allocation_shrink, allocations_release
from orders.events import order_event_add
from orders.exceptions import InvalidTransition
from orders.locks import lock_order
from orders.models import Order, OrderEvent, OrderLine
from orders.payloads import fulfilments_released_drafts, order_draft
from orders.pickup_transfers import pickup_sources_refused, pickup_transfers_cancel
from orders.services.resourcing import order_allocate
from orders.services.status import order_status_refresh
from orders.transitions import order_ensure_can_become
from outbox.emit import events_emit
from outbox.events import FULFILMENT_CANCELLED, ORDER_CANCELLED

logger = logging.getLogger(__name__)
S = Order.Status
SHIPPED_STATUSES = {S.PARTIALLY_SHIPPED, S.SHIPPED, S.COLLECTED, S.DELIVERED}


@transaction.atomic(durable=True)
def order_cancel(*, order: Order, actor: AbstractBaseUser | None = None, reason: str = "") -> Order:
    """Cancel the whole order and release its stock. Refused once anything has shipped."""
    order = lock_order(order.pk)
    if order.status == S.CANCELLED:
        return order
    if order.status in SHIPPED_STATUSES or order.lines.filter(quantity_shipped__gt=0).exists():
        raise InvalidTransition(
            f"Order {order.number} has shipped; it can no longer be cancelled.", field="status"
        )
    order_ensure_can_become(order, S.CANCELLED)
    # Before the stock rows: the house lock order is the order, its transfers, then stock.
    pickup_transfers_cancel(order=order, actor=actor)
    allocations_release(
        allocations=Allocation.objects.open().filter(order_line__order=order),
        reason=reason or "order cancelled",
    )
    _close_fulfilments(order, reason or "order cancelled")
    for line in order.lines.all():
        line.quantity_cancelled = line.quantity - line.quantity_shipped
        line.save(update_fields=["quantity_cancelled"])
    order.status = S.CANCELLED
    order.needs_attention = False
    order.save(update_fields=["status", "needs_attention", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.CANCELLED,
        message="Order cancelled.",
        # The reason is for staff; the customer sees the plain fact.
        data={"reason": reason},
        actor=actor,
    )
    events_emit(drafts=[order_draft(ORDER_CANCELLED, order.pk)])
    return order


@transaction.atomic(durable=True)
def order_line_cancel(
    *,
    order: Order,
    line_no: int,
    quantity: int | None = None,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
) -> OrderLine:
    """Cancel units of one line (all its unshipped units by default) and release their stock."""
    order = lock_order(order.pk)
    if order.status in {S.CANCELLED, S.COLLECTED, S.DELIVERED}:
        raise InvalidTransition(f"Order {order.number} is {order.status}.", field="status")
    # Only the line's row: a lock on the joined product would hold up every write that
    # refers to the product (its stock rows, new order lines) until this one commits.
    line = (
        order.lines.select_for_update(of=("self",))
        .select_related("product")
        .filter(line_no=line_no)
    )
    line = line.first()
    if line is None:
        raise NotFoundError(f"Order {order.number} has no line {line_no}.", field="line")
    cancellable = line.quantity_open - line.quantity_shipped
    units = cancellable if quantity is None else quantity
    if cancellable <= 0:
        raise InvalidTransition(f"Line {line_no} has nothing left to cancel.", field="quantity")
    if units <= 0 or units > cancellable:
        raise DomainError(
            f"Line {line_no} has {cancellable} unit(s) that can still be cancelled.",
            field="quantity",
        )
    _line_units_cancel(order=order, line=line, units=units, actor=actor, reason=reason)
    _close_emptied_fulfilments(order, reason or "line cancelled")
    order_status_refresh(order=order, actor=actor)
    return line


def _line_units_cancel(*, order: Order, line: OrderLine, units: int, actor, reason: str) -> None:
    """Cancel `units` unshipped units of a locked line and give their stock back."""
    # Units never allocated go first; then allocations are given back, newest first.
    held = sum(a.quantity for a in line.allocations.holding())
    to_free = units - max(0, line.quantity_open - held)
    for allocation in line.allocations.open().order_by("-id"):
        if to_free <= 0:
            break
        to_free -= allocation_shrink(
            allocation=allocation, units=to_free, reason=reason or "line cancelled"
        )
    line.quantity_cancelled += units
    line.save(update_fields=["quantity_cancelled"])
    # What the line still lacks is all incoming supply may keep promised to it.
    held = sum(a.quantity for a in line.allocations.holding())
    incoming_release(order_line_id=line.pk, keep=line.quantity_open - held)
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.LINE_CANCELLED,
        message=f"{units} × {line.product.sku} cancelled."
        + (f" Reason: {reason}" if reason else ""),
        data={"line": line.line_no, "quantity": units},
        actor=actor,
    )


def order_release_within(
    *, order_id: int, message: str, actor: AbstractBaseUser | None = None
) -> Order:
    """Let a held order ship (Order.held_for), inside the caller's transaction: an exchange
    whose return has come back. Its locations are asked for the units now, once: a held
    order's requests are not sent (`fulfilment.requested`, the 3PL's export file) until
    this. An order not held is left as it is."""
    order = lock_order(order_id)
    if not order.held_for:
        return order
    order.held_for = ""
    order.save(update_fields=["held_for", "updated_at"])
    order_event_add(
        order=order, kind=OrderEvent.Kind.RELEASED_TO_SHIP, message=message, actor=actor
    )
    events_emit(drafts=fulfilments_released_drafts(order))
    return order


@transaction.atomic(durable=True)
def order_note_add(*, order: Order, text: str, actor: AbstractBaseUser | None = None) -> None:
    """Add an internal note to the order's timeline (not shown to the customer)."""
    order = lock_order(order.pk)
    order_event_add(order=order, kind=OrderEvent.Kind.NOTE, message=text, actor=actor, public=False)


def order_resource(*, order: Order, actor: AbstractBaseUser | None = None) -> Order:
    """Source again what the order still lacks (customer service), leaving the queue."""
    return retry_on_conflict(lambda: _resource(order.pk, actor), operation="order_source_again")


@transaction.atomic(durable=True)
def _resource(order_id: int, actor) -> Order:
    order = lock_order(order_id)
    if order.status in {S.CANCELLED, S.COLLECTED, S.DELIVERED, S.SHIPPED}:
        raise InvalidTransition(f"Order {order.number} is {order.status}.", field="status")
    # Pre-order lines wait for the supply promised to them, whoever asks.
    found = order_allocate(
        order=order, exclude=rejected_location_ids(order), actor=actor, skip_preorders=True
    )
    if order.needs_attention:
        order.needs_attention = False
        order.attention_reason = ""
        order.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    order_status_refresh(order=order, actor=actor)
    if not found:
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            message="Sourced again: no stock available yet.",
            actor=actor,
            public=False,
        )
    return order


def rejected_location_ids(order: Order) -> set[int]:
    """Return the locations that refused the order: a rejected request, a cancelled
    transfer to its pickup store. Sourcing it again asks none of them."""
    return set(
        order.fulfilments.filter(status=Fulfilment.Status.REJECTED).values_list(
            "location_id", flat=True
        )
    ) | pickup_sources_refused(order)


def backorders_allocate(*, product_ids: list[int] | None = None, limit: int = 500) -> int:
    """Allocate waiting orders, oldest first, to the stock there is now. Return orders helped."""
    waiting = Order.objects.filter(
        status__in=[S.BACKORDERED, S.PARTIALLY_ALLOCATED], needs_attention=False
    )
    if product_ids:
        waiting = waiting.filter(
            Exists(OrderLine.objects.filter(order=OuterRef("pk"), product_id__in=product_ids))
        )
    helped = 0
    for order_id in waiting.order_by("created_at", "id").values_list("pk", flat=True)[:limit]:
        # The sweep serves any waiting order from any stock, except pre-order lines: their
        # units come from the supply promised to them (order_backorder_allocate).
        if retry_on_conflict(
            lambda order_id=order_id: _allocate_waiting(order_id, skip_preorders=True),
            operation="backorder_allocate",
        ):
            helped += 1
    return helped


def order_backorder_allocate(*, order_id: int) -> bool:
    """Allocate what one waiting order lacks to the stock there is now (supply received for
    it); return whether it got any."""
    return bool(
        retry_on_conflict(lambda: _allocate_waiting(order_id), operation="backorder_allocate")
    )


@transaction.atomic(durable=True)
def _allocate_waiting(order_id: int, *, skip_preorders: bool = False) -> bool:
    order = lock_order(order_id)
    if order.status not in (S.BACKORDERED, S.PARTIALLY_ALLOCATED) or order.needs_attention:
        return False
    found = order_allocate(
        order=order, exclude=rejected_location_ids(order), skip_preorders=skip_preorders
    )
    order_status_refresh(order=order)
    return bool(found)


def _close_fulfilments(order: Order, reason: str) -> None:
    closed = []
    for fulfilment in order.fulfilments.filter(status__in=Fulfilment.ACTIVE_STATUSES):
        fulfilment.status = Fulfilment.Status.CANCELLED
        fulfilment.reason = reason[:255]
        fulfilment.save(update_fields=["status", "reason", "updated_at"])
        closed.append(fulfilment.pk)
    _fulfilments_cancelled_emit(closed)


def _close_emptied_fulfilments(order: Order, reason: str) -> None:
    has_open = Exists(Allocation.objects.open().filter(fulfilment=OuterRef("pk")))
    closed = []
    for fulfilment in order.fulfilments.filter(status__in=Fulfilment.ACTIVE_STATUSES).exclude(
        has_open
    ):
        fulfilment.status = Fulfilment.Status.CANCELLED
        fulfilment.reason = reason[:255]
        fulfilment.save(update_fields=["status", "reason", "updated_at"])
        closed.append(fulfilment.pk)
    _fulfilments_cancelled_emit(closed)


def _fulfilments_cancelled_emit(fulfilment_ids: list[int]) -> None:
    """Tell each location that a request it had is off."""
    events_emit(drafts=[fulfilment_draft(FULFILMENT_CANCELLED, pk) for pk in fulfilment_ids])
