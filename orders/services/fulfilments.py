"""What a location does with a fulfilment request: accept, reject, ship, stage for pickup,
hand over. Each locks the order first (then stock rows), like every order write.

The workflow lives with the orders, above the fulfilment app: every action moves the order
as well (its timeline and status; a rejection sources the lines again elsewhere), so it
calls down to each part in turn rather than the fulfilment app reaching up.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.exceptions import ConflictError, DomainError, NotFoundError
from core.retry import retry_on_conflict
from fulfilment.models import Fulfilment, RejectReason
from fulfilment.payloads import fulfilment_draft
from inventory.locks import lock_stock_ids
from inventory.models import StockMovement
from inventory.services.allocations import (
    allocation_shrink,
    allocations_release,
    allocations_ship,
)
from inventory.services.ledger import units_write_off
from orders.events import order_event_add
from orders.locks import lock_order
from orders.models import Order, OrderEvent
from orders.payloads import order_draft
from orders.pickup_transfers import pickup_units_awaiting
from orders.services.lifecycle import rejected_location_ids
from orders.services.pickup import pickup_code_check, pickup_code_new, pickup_ready_announce
from orders.services.resourcing import order_allocate
from orders.services.status import order_status_refresh
from orders.transitions import fulfilment_ensure_can_become
from outbox.emit import events_emit
from outbox.events import FULFILMENT_SHIPPED, ORDER_SHIPPED

FS = Fulfilment.Status


def _ensure_not_held(order: Order) -> None:
    """Refuse to let a held order's units leave (Order.held_for): they are prepared, and
    wait for the release."""
    if order.held_for:
        raise ConflictError(
            f"Order {order.number} is on hold ({order.held_for}): it cannot leave yet.",
            field="status",
        )


def _ensure_nothing_on_its_way(order: Order) -> None:
    """Refuse a pickup step while a transfer still brings units of the order to the store:
    the customer collects the whole basket at once."""
    units = sum(pickup_units_awaiting(order).values())
    if units:
        raise ConflictError(
            f"Order {order.number} waits for {units} unit(s) on their way to the store by "
            "transfer: it is ready for pickup once they are received.",
            field="status",
        )


def _locked(fulfilment_id: int) -> tuple[Fulfilment, Order]:
    order_id = Fulfilment.objects.filter(pk=fulfilment_id).values_list("order_id", flat=True)
    order_id = order_id.first()
    if order_id is None:
        raise NotFoundError(f"No fulfilment {fulfilment_id}.", field="id")
    order = lock_order(order_id)
    # Every writer of a fulfilment holds its order's lock, so this read is current.
    fulfilment = Fulfilment.objects.select_related("location").get(pk=fulfilment_id)
    return fulfilment, order


@transaction.atomic(durable=True)
def fulfilment_accept(*, fulfilment_id: int, actor: AbstractBaseUser | None = None) -> Fulfilment:
    fulfilment, order = _locked(fulfilment_id)
    if fulfilment.status == FS.ACCEPTED:
        return fulfilment
    if order.held_for:
        # Its location was not asked for the units yet (no fulfilment.requested).
        raise ConflictError(
            f"Order {order.number} is on hold ({order.held_for}): its locations are not "
            "asked for its units until it is released.",
            field="status",
        )
    fulfilment_ensure_can_become(fulfilment, FS.ACCEPTED)
    fulfilment.status = FS.ACCEPTED
    fulfilment.accepted_at = timezone.now()
    fulfilment.save(update_fields=["status", "accepted_at", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.FULFILMENT_ACCEPTED,
        message="Your order is being prepared.",
        data={"fulfilment": fulfilment.pk, "location": fulfilment.location.code},
        actor=actor,
    )
    return fulfilment


@transaction.atomic(durable=True)
def fulfilment_ship(
    *,
    fulfilment_id: int,
    carrier: str,
    tracking_number: str,
    actor: AbstractBaseUser | None = None,
) -> Fulfilment:
    """Ship the fulfilment's units: they leave on hand and allocated through the ledger.

    Shipping again with the same tracking number changes nothing.
    """
    return fulfilment_ship_within(
        fulfilment_id=fulfilment_id, carrier=carrier, tracking_number=tracking_number, actor=actor
    )


def fulfilment_ship_within(
    *,
    fulfilment_id: int,
    carrier: str,
    tracking_number: str,
    actor: AbstractBaseUser | None = None,
) -> Fulfilment:
    """`fulfilment_ship` inside the caller's transaction (a shipment file: all or nothing)."""
    fulfilment, order = _locked(fulfilment_id)
    if fulfilment.status == FS.SHIPPED:
        if fulfilment.tracking_number == tracking_number and fulfilment.carrier == carrier:
            return fulfilment
        raise ConflictError(
            f"Fulfilment {fulfilment.pk} was already shipped with tracking number "
            f"{fulfilment.tracking_number}.",
            field="tracking_number",
        )
    if order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT:
        raise ConflictError(
            f"Order {order.number} is click & collect: mark it ready for pickup, then collected.",
            field="status",
        )
    fulfilment_ensure_can_become(fulfilment, FS.SHIPPED)
    _ensure_not_held(order)
    allocations = _units_leave(fulfilment, order, actor)
    now = timezone.now()
    fulfilment.status = FS.SHIPPED
    fulfilment.carrier = carrier
    fulfilment.tracking_number = tracking_number
    fulfilment.shipped_at = now
    fulfilment.accepted_at = fulfilment.accepted_at or now
    fulfilment.save(
        update_fields=[
            "status",
            "carrier",
            "tracking_number",
            "shipped_at",
            "accepted_at",
            "updated_at",
        ]
    )
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.SHIPPED,
        message=f"Shipped by {carrier}, tracking number {tracking_number}.",
        data={
            "fulfilment": fulfilment.pk,
            "location": fulfilment.location.code,
            "carrier": carrier,
            "tracking_number": tracking_number,
            "units": sum(a.quantity for a in allocations),
        },
        actor=actor,
    )
    order_status_refresh(order=order, actor=actor)
    drafts = [fulfilment_draft(FULFILMENT_SHIPPED, fulfilment.pk)]
    if order.status == Order.Status.SHIPPED:  # this parcel was the last one
        drafts.append(order_draft(ORDER_SHIPPED, order.pk))
    events_emit(drafts=drafts)
    return fulfilment


def _units_leave(fulfilment: Fulfilment, order: Order, actor) -> list:
    """The fulfilment's units leave the location (shipped or handed over): through the ledger,
    out of allocated, and counted as shipped on their lines."""
    allocations = list(fulfilment.allocations.open().select_related("order_line"))
    allocations_ship(allocations=allocations, reference=f"order {order.number}", actor=actor)
    for allocation in allocations:
        line = allocation.order_line
        line.quantity_shipped += allocation.quantity
        line.save(update_fields=["quantity_shipped"])
    return allocations


@transaction.atomic(durable=True)
def fulfilment_ready(*, fulfilment_id: int, actor: AbstractBaseUser | None = None) -> Fulfilment:
    """The pickup store has the parcel ready for the customer."""
    fulfilment, order = _locked(fulfilment_id)
    if fulfilment.status == FS.READY_FOR_PICKUP:
        return fulfilment
    if order.delivery_method != Order.DeliveryMethod.CLICK_AND_COLLECT:
        raise ConflictError(
            f"Order {order.number} is not click & collect; ship it instead.", field="status"
        )
    fulfilment_ensure_can_become(fulfilment, FS.READY_FOR_PICKUP)
    _ensure_not_held(order)
    _ensure_nothing_on_its_way(order)
    now = timezone.now()
    fulfilment.status = FS.READY_FOR_PICKUP
    fulfilment.ready_at = now
    fulfilment.accepted_at = fulfilment.accepted_at or now
    fulfilment.save(update_fields=["status", "ready_at", "accepted_at", "updated_at"])
    if not order.pickup_code:
        order.pickup_code = pickup_code_new()
        order.save(update_fields=["pickup_code", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.READY_FOR_PICKUP,
        message=f"Ready for pickup at {fulfilment.location.name}.",
        data={"fulfilment": fulfilment.pk, "location": fulfilment.location.code},
        actor=actor,
    )
    order_status_refresh(order=order, actor=actor)
    # The whole order waits at the store now: the customer is told by e-mail, after commit.
    pickup_ready_announce(order=order)
    return fulfilment


@transaction.atomic(durable=True)
def fulfilment_collect(
    *,
    fulfilment_id: int,
    actor: AbstractBaseUser | None = None,
    pickup_code: str | None = None,
    collected_by: str = "",
) -> Fulfilment:
    """The customer took the parcel: the units leave the store's stock.

    At the counter the customer's pickup code is checked first (`pickup_code`; a wrong one
    changes nothing); `collected_by` names someone collecting for the customer.
    """
    fulfilment, order = _locked(fulfilment_id)
    if fulfilment.status == FS.COLLECTED:
        return fulfilment
    fulfilment_ensure_can_become(fulfilment, FS.COLLECTED)
    _ensure_not_held(order)
    _ensure_nothing_on_its_way(order)
    if pickup_code is not None:
        pickup_code_check(order=order, code=pickup_code)
    collected_by = collected_by.strip()[:255]
    _units_leave(fulfilment, order, actor)
    fulfilment.status = FS.COLLECTED
    fulfilment.collected_at = timezone.now()
    fulfilment.collected_by = collected_by
    fulfilment.save(update_fields=["status", "collected_at", "collected_by", "updated_at"])
    data = {"fulfilment": fulfilment.pk, "location": fulfilment.location.code}
    if pickup_code is not None:
        data["pickup_code_checked"] = True
    if collected_by:
        data["collected_by"] = collected_by
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.COLLECTED,
        message=f"Collected at {fulfilment.location.name}"
        + (f" by {collected_by}, for the customer." if collected_by else "."),
        data=data,
        actor=actor,
    )
    order_status_refresh(order=order, actor=actor)
    return fulfilment


def fulfilment_reject(
    *,
    fulfilment_id: int,
    reason: str,
    reason_code: str = RejectReason.OTHER,
    actor: AbstractBaseUser | None = None,
) -> Fulfilment:
    """The location refuses: release its units, record what the reason says about its stock,
    and source the lines again elsewhere (a person decides after too many attempts)."""
    return retry_on_conflict(
        lambda: _reject(fulfilment_id, reason, reason_code, actor), operation="fulfilment_reject"
    )


@transaction.atomic(durable=True)
def _reject(fulfilment_id, reason, reason_code, actor) -> Fulfilment:
    fulfilment, order = _locked(fulfilment_id)
    if fulfilment.status == FS.REJECTED:
        return fulfilment
    return _reject_within(fulfilment, order, reason, reason_code, actor)


def _reject_within(fulfilment, order, reason, reason_code, actor) -> Fulfilment:
    fulfilment_ensure_can_become(fulfilment, FS.REJECTED)
    allocations = list(fulfilment.allocations.open())
    rows = lock_stock_ids(a.stock_id for a in allocations)
    allocations_release(allocations=allocations, reason=f"rejected: {reason}")
    _record_stock_finding(rows, allocations, reason, reason_code, order, actor)
    fulfilment.status = FS.REJECTED
    fulfilment.reason = (reason or reason_code)[:255]
    fulfilment.save(update_fields=["status", "reason", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.FULFILMENT_REJECTED,
        message=f"{fulfilment.location.name} could not fulfil: {reason or reason_code}.",
        data={
            "fulfilment": fulfilment.pk,
            "location": fulfilment.location.code,
            "reason": reason,
            "reason_code": reason_code,
        },
        actor=actor,
        public=False,
    )
    order_source_again(order=order, actor=actor)
    order_status_refresh(order=order, actor=actor)
    return fulfilment


def order_source_again(
    *, order: Order, actor: AbstractBaseUser | None, also_exclude: int | None = None
) -> None:
    """Source what the order lacks again, away from the locations that refused it; after
    too many refusals a person decides instead. The caller holds the order's lock."""
    order.sourcing_attempts += 1
    if order.sourcing_attempts > settings.OMS_MAX_SOURCING_ATTEMPTS:
        order.needs_attention = True
        order.attention_reason = (
            f"Rejected by {order.sourcing_attempts - 1} location(s); sourcing stopped."
        )
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.NEEDS_ATTENTION,
            message=order.attention_reason,
            actor=actor,
            public=False,
        )
    else:
        exclude = rejected_location_ids(order)
        if also_exclude is not None:
            exclude.add(also_exclude)
        order_allocate(order=order, exclude=exclude, actor=actor)
    order.save(
        update_fields=["sourcing_attempts", "needs_attention", "attention_reason", "updated_at"]
    )


def _record_stock_finding(rows, allocations, reason, reason_code, order, actor) -> None:
    """An empty shelf corrects on hand; damaged units are written off. Both through the ledger."""
    by_stock: dict[int, int] = {}
    for allocation in allocations:
        by_stock[allocation.stock_id] = by_stock.get(allocation.stock_id, 0) + allocation.quantity
    _write_off(rows, by_stock, reason, reason_code, order, actor)


def _write_off(rows, units_by_stock, reason, reason_code, order, actor) -> None:
    if reason_code not in (RejectReason.OUT_OF_STOCK, RejectReason.DAMAGED):
        return
    kind = (
        StockMovement.Kind.ADJUSTMENT
        if reason_code == RejectReason.OUT_OF_STOCK
        else StockMovement.Kind.DAMAGE
    )
    units_write_off(
        rows=rows,
        units_by_stock=units_by_stock,
        kind=kind,
        reference=f"order {order.number}",
        reason=f"fulfilment rejected ({reason_code}): {reason}"[:255],
        actor=actor,
    )


def fulfilment_reject_lines(
    *,
    fulfilment_id: int,
    units_by_line: Mapping[int, int],
    reason: str,
    reason_code: str = RejectReason.OTHER,
    actor: AbstractBaseUser | None = None,
) -> Fulfilment:
    """The location refuses some units of some lines (`{order line id: units}`) and keeps
    the rest: those units are released, written off when damaged or missing, and sourced
    again elsewhere. Refusing every unit it holds is a whole rejection."""
    return retry_on_conflict(
        lambda: _reject_lines(fulfilment_id, dict(units_by_line), reason, reason_code, actor),
        operation="fulfilment_reject",
    )


@transaction.atomic(durable=True)
def _reject_lines(fulfilment_id, units_by_line, reason, reason_code, actor) -> Fulfilment:
    if reason_code not in RejectReason.CHOICES:
        raise DomainError("Choose a known reason.", field="reason_code")
    if not (reason or "").strip():
        raise DomainError("Give a reason.", field="reason")
    fulfilment, order = _locked(fulfilment_id)
    fulfilment_ensure_can_become(fulfilment, FS.REJECTED)
    allocations = list(
        fulfilment.allocations.open().select_related("order_line__product").order_by("-id")
    )
    held: dict[int, int] = {}
    for allocation in allocations:
        held[allocation.order_line_id] = held.get(allocation.order_line_id, 0) + allocation.quantity
    units_by_line = {line: units for line, units in units_by_line.items() if units}
    if not units_by_line:
        raise DomainError("Give the units refused on at least one line.", field="lines")
    for line_id, units in sorted(units_by_line.items()):
        if line_id not in held:
            raise DomainError(f"Line {line_id} is not in this request.", field="lines")
        if units < 0 or units > held[line_id]:
            raise DomainError(
                f"Line {line_id}: between 0 and {held[line_id]} unit(s) can be refused.",
                field="lines",
            )
    if units_by_line == held:
        return _reject_within(fulfilment, order, reason, reason_code, actor)
    rows = lock_stock_ids(a.stock_id for a in allocations)
    skus = {a.order_line_id: a.order_line.product.sku for a in allocations}
    freed: dict[int, int] = {}
    told = []
    for line_id, units in sorted(units_by_line.items()):
        left = units
        for allocation in (a for a in allocations if a.order_line_id == line_id):
            if left <= 0:
                break
            given = allocation_shrink(
                allocation=allocation, units=left, reason=f"rejected: {reason}"
            )
            freed[allocation.stock_id] = freed.get(allocation.stock_id, 0) + given
            left -= given
        told.append({"sku": skus[line_id], "quantity": units})
    _write_off(rows, freed, reason, reason_code, order, actor)
    summary = ", ".join(f"{item['quantity']} × {item['sku']}" for item in told)
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.FULFILMENT_REJECTED,
        message=f"{fulfilment.location.name} could not fulfil {summary}: {reason or reason_code}.",
        data={
            "fulfilment": fulfilment.pk,
            "location": fulfilment.location.code,
            "reason": reason,
            "reason_code": reason_code,
            "lines": told,
        },
        actor=actor,
        public=False,
    )
    order_source_again(order=order, actor=actor, also_exclude=fulfilment.location_id)
    order_status_refresh(order=order, actor=actor)
    return fulfilment
