"""Every write of a return: create, receive, refund, cancel.

Locks are taken in the house order: the order, then its lines, then the return, then the
return's lines, then stock rows by primary key. Receiving is set-based: one receipt or a
3PL's whole file goes through `returns.receiving` in the same few statements.
Creating a return locks the order's lines, so two returns made at the same moment count
each other's units (the database's CHECK on `quantity_returned <= quantity_shipped` is the
last word).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.exceptions import DomainError
from inventory.models import Allocation, Location, Product
from orders.delivery.promise import distance_km
from orders.events import order_event_add
from orders.locks import lock_order
from orders.models import Order, OrderEvent, OrderLine
from outbox.emit import Draft, events_emit
from outbox.events import RETURN_CREATED, RETURN_REFUNDED, return_key
from returns.exceptions import ReturnConflict, ReturnRejected
from returns.exchange import (
    exchange_cancel,
    exchange_check,
    exchange_place,
)
from returns.inputs import ReceiveLineInput, ReturnInput, ReturnLineInput
from returns.models import Refund, Return, ReturnLine, ReturnReceipt, ReturnReceiptLine
from returns.numbers import return_number_new
from returns.receiving import ReceiptRefused, ReceivedRow, returns_receive_rows
from returns.representation import (
    refund_computed,
    return_read,
)
from returns.transitions import return_ensure_can_become

RS = Return.Status
Disposition = ReturnReceiptLine.Disposition


def _line_name(index: int, product: Product) -> str:
    return f"Line {index + 1} ({product.sku})"


# Create


def return_create(
    *, data: ReturnInput, actor: AbstractBaseUser | None = None, now: datetime | None = None
) -> Return:
    """Record a return of units the customer received; for an exchange, place the new order.

    Refused (400, naming the line) for more units than were received and are not on another
    return, for a SKU not on the order, an order not shipped yet, or after the channel's
    return period.
    """
    _input_check(data)
    exchange = data.resolution == Return.Resolution.EXCHANGE
    if exchange:
        exchange_check(order=data.order, lines=data.exchange_lines)
    ret = _create(data, actor, now or timezone.now())
    if exchange:
        exchange_place(ret=ret, lines=data.exchange_lines, actor=actor)
        ret.refresh_from_db()
    return ret


def _input_check(data: ReturnInput) -> None:
    if not data.lines:
        raise ReturnRejected("A return needs at least one line.", field="lines")
    for index, line in enumerate(data.lines):
        if line.quantity < 1:
            raise ReturnRejected(
                f"{_line_name(index, line.product)}: the quantity must be at least 1.",
                field="lines",
            )
    exchange = data.resolution == Return.Resolution.EXCHANGE
    if exchange and not data.exchange_lines:
        raise ReturnRejected("An exchange needs exchange_lines.", field="exchange_lines")
    if not exchange and data.exchange_lines:
        raise ReturnRejected("Only an exchange takes exchange_lines.", field="exchange_lines")
    location = data.location
    if location is not None:
        if not location.active:
            raise ReturnRejected(f"{location.code} is not active.", field="location")
        if data.method == Return.Method.STORE and location.kind != Location.Kind.STORE:
            raise ReturnRejected(
                f"{location.code} is not a store: a return in store names a store.",
                field="location",
            )


@transaction.atomic(durable=True)
def _create(data: ReturnInput, actor, now: datetime) -> Return:
    order = lock_order(data.order.pk)
    order_lines = list(
        OrderLine.objects.select_for_update()
        .filter(order=order)
        .select_related("product")
        .order_by("pk")
    )
    if not any(line.quantity_shipped for line in order_lines):
        raise ReturnRejected(
            f"Order {order.number} has not been shipped or collected yet: nothing to return.",
            field="order",
        )
    by_product: dict[int, list[OrderLine]] = defaultdict(list)
    for line in order_lines:
        by_product[line.product_id].append(line)
    shipped_at = _last_shipped(order_lines)
    deadline_days = order.channel.return_days
    # Spread each requested line over the order lines of its SKU, oldest line first.
    plan: list[tuple[ReturnLineInput, OrderLine, int]] = []
    taken: dict[int, int] = defaultdict(int)
    for index, wanted in enumerate(data.lines):
        name = _line_name(index, wanted.product)
        candidates = by_product.get(wanted.product.pk)
        if not candidates:
            raise ReturnRejected(f"{name}: not on order {order.number}.", field="lines")
        left = wanted.quantity
        returnable = 0
        for line in candidates:
            free = line.quantity_shipped - line.quantity_returned - taken[line.pk]
            if free <= 0:
                continue
            since = shipped_at.get(line.pk)
            if since is not None and now > since + timedelta(days=deadline_days):
                raise ReturnRejected(
                    f"{name}: received on {since.date().isoformat()}; the {order.channel.code} "
                    f"channel takes returns for {deadline_days} days.",
                    field="lines",
                )
            returnable += free
            part = min(free, left)
            if part:
                plan.append((wanted, line, part))
                taken[line.pk] += part
                left -= part
        if left:
            already = sum(line.quantity_returned for line in candidates)
            raise ReturnRejected(
                f"{name}: {wanted.quantity} asked, but only {returnable} received and not "
                f"yet returned ({already} already on other returns).",
                field="lines",
            )
    location = data.location or _location_choose(order, data.method)
    ret = Return.objects.create(
        number=return_number_new(),
        order=order,
        method=data.method,
        resolution=data.resolution,
        location=location,
        currency=order.currency,
        actor=_person(actor),
    )
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(
                return_request=ret,
                line_no=line_no,
                order_line=order_line,
                product=order_line.product,
                quantity=quantity,
                reason=wanted.reason,
            )
            for line_no, (wanted, order_line, quantity) in enumerate(plan, start=1)
        ]
    )
    for line_id, quantity in sorted(taken.items()):
        # The CHECK (returned <= shipped) refuses what the count above let through.
        OrderLine.objects.filter(pk=line_id).update(
            quantity_returned=F("quantity_returned") + quantity
        )
    units = sum(quantity for _, _, quantity in plan)
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.RETURN_REQUESTED,
        message=f"Return {ret.number} of {units} unit(s) requested.",
        data={"return": ret.number, "units": units, "method": data.method},
        actor=actor,
    )
    _emit(RETURN_CREATED, ret, location_id=ret.location_id)
    return ret


def _last_shipped(order_lines: Sequence[OrderLine]) -> dict[int, datetime]:
    """Return, per order line, when its last units left for the customer (shipped or
    collected): the return period counts from there."""
    rows = (
        Allocation.objects.filter(
            order_line__in=[line.pk for line in order_lines],
            status=Allocation.Status.SHIPPED,
        )
        .values("order_line_id")
        .annotate(at=Max(Coalesce("fulfilment__shipped_at", "fulfilment__collected_at")))
    )
    return {row["order_line_id"]: row["at"] for row in rows if row["at"] is not None}


def _location_choose(order: Order, method: str) -> Location | None:
    """Where the OMS expects the units: in store, the nearest store to the customer (the
    pickup store for click & collect); by mail, the warehouse that shipped most of them,
    else the preferred active warehouse."""
    if method == Return.Method.STORE:
        if order.pickup_location_id:
            return order.pickup_location
        stores = list(Location.objects.filter(kind=Location.Kind.STORE, active=True))
        if not stores:
            return None
        if order.ship_lat is None or order.ship_lon is None:
            return min(stores, key=lambda s: s.code)
        lat, lon = order.ship_lat, order.ship_lon
        return min(stores, key=lambda s: (distance_km(lat, lon, s.lat, s.lon), s.code))
    shipped_from = (
        Allocation.objects.filter(
            order_line__order=order,
            status=Allocation.Status.SHIPPED,
            stock__location__active=True,
        )
        .exclude(stock__location__kind=Location.Kind.STORE)
        .values("stock__location_id")
        .annotate(units=Max("quantity"))
        .order_by("-units", "stock__location_id")
        .first()
    )
    if shipped_from is not None:
        return Location.objects.get(pk=shipped_from["stock__location_id"])
    return (
        Location.objects.filter(kind=Location.Kind.WAREHOUSE, active=True)
        .order_by("priority", "code")
        .first()
    )


# Receive


def return_receive(
    *,
    ret: Return,
    location: Location,
    lines: Sequence[ReceiveLineInput],
    actor: AbstractBaseUser | None = None,
    source: str = ReturnReceipt.Source.API,
) -> dict:
    """Receive units of a return at `location`: `restock` puts them back on hand through the
    ledger (movement `return`), `damaged` sets them aside in quarantine, `dispose` records
    them only. More units than the return still expects: 400 naming the line, nothing
    applied; a return that takes no more units: 409. Return the return as the API answers
    it, drawn from the rows written (returns.receiving, the same as a returns file)."""
    if not lines:
        raise ReturnRejected("A receipt needs at least one line.", field="lines")
    if not location.active:
        raise ReturnRejected(f"{location.code} is not active.", field="location")
    rows = [
        ReceivedRow(index + 1, ret.number, line.product.sku, line.quantity, line.disposition)
        for index, line in enumerate(lines)
    ]
    try:
        with transaction.atomic(durable=True):
            (answer,) = returns_receive_rows(rows=rows, at=location, source=source, actor=actor)
    except ReceiptRefused as refused:
        raise _receipt_refusal(refused, lines) from None
    return answer


def _receipt_refusal(refused: ReceiptRefused, lines: Sequence[ReceiveLineInput]) -> DomainError:
    """The refusal of one receipt: its return's state (409), else its first bad line."""
    for problem in refused.problems:
        if problem.conflict:
            return ReturnConflict(f"{problem.message}.", field="status")
    problem = refused.problems[0]
    name = _line_name(problem.row - 1, lines[problem.row - 1].product)
    return ReturnRejected(f"{name}: {problem.message}.", field="lines")


# Refund


def return_refund(
    *,
    ret: Return,
    amount: Decimal | None = None,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> Return:
    """Record the return's refund once: the received units at the order's prices (and the
    delivery price when the retailer was at fault), or `amount` given by a person with a
    reason. The same refund asked again answers the return as it is."""
    try:
        return _refund(ret.pk, amount, reason, actor)
    except IntegrityError:
        # A concurrent refund of the same return committed first (one row per return).
        return Return.objects.get(pk=ret.pk)


@transaction.atomic(durable=True)
def _refund(return_id: int, amount: Decimal | None, reason: str, actor) -> Return:
    order_id = Return.objects.values_list("order_id", flat=True).get(pk=return_id)
    order = lock_order(order_id)
    ret = _lock_return(return_id)
    existing = Refund.objects.filter(return_request=ret).first()
    if existing is not None:
        if amount is not None and amount != existing.amount:
            raise ReturnConflict(
                f"Return {ret.number} was already refunded {existing.amount} {existing.currency}.",
                field="amount",
            )
        return ret
    lines = list(ret.lines.select_related("order_line"))
    ret.order = order
    computed = refund_computed(ret, lines)
    if amount is None:
        if ret.resolution != Return.Resolution.REFUND:
            raise ReturnConflict(
                f"Return {ret.number} is an exchange: give an amount to refund anyway.",
                field="amount",
            )
        if not any(line.received for line in lines):
            raise ReturnConflict(
                f"Return {ret.number}: nothing received yet, so nothing to refund; "
                "give an amount to refund before receiving.",
                field="amount",
            )
        amount = computed
    elif amount < 0:
        raise ReturnRejected("The amount must not be negative.", field="amount")
    return_ensure_can_become(ret, RS.REFUNDED)
    now = timezone.now()
    Refund.objects.create(
        return_request=ret,
        amount=amount,
        currency=ret.currency,
        computed_amount=computed,
        reason=reason[:255],
        actor=_person(actor),
        created_at=now,
    )
    ret.status = RS.REFUNDED
    ret.save(update_fields=["status", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.RETURN_REFUNDED,
        message=f"Return {ret.number}: {amount} {ret.currency} refunded.",
        data={"return": ret.number, "amount": str(amount), "reason": reason},
        actor=actor,
    )
    _emit(RETURN_REFUNDED, ret, location_id=ret.location_id)
    return ret


# Cancel


def return_cancel(
    *, ret: Return, actor: AbstractBaseUser | None = None, reason: str = ""
) -> Return:
    """Cancel a return before any unit is received: its units may be returned again. An
    exchange order not shipped yet is cancelled with it."""
    ret = _cancel(ret.pk, actor, reason)
    if ret.exchange_order_id:
        exchange_cancel(ret=ret, actor=actor)
    return ret


@transaction.atomic(durable=True)
def _cancel(return_id: int, actor, reason: str) -> Return:
    order_id = Return.objects.values_list("order_id", flat=True).get(pk=return_id)
    order = lock_order(order_id)
    ret = Return.objects.get(pk=return_id)
    if ret.status == RS.CANCELLED:
        return ret
    lines = list(ret.lines.order_by("pk"))
    order_lines = list(
        OrderLine.objects.select_for_update()
        .filter(pk__in=[line.order_line_id for line in lines])
        .order_by("pk")
    )
    ret = _lock_return(return_id)
    if ret.status == RS.CANCELLED:
        return ret
    if ret.status != RS.REQUESTED or any(line.received for line in lines):
        raise ReturnConflict(
            f"Return {ret.number} has received units: it can no longer be cancelled.",
            field="status",
        )
    return_ensure_can_become(ret, RS.CANCELLED)
    given_back: dict[int, int] = defaultdict(int)
    for line in lines:
        given_back[line.order_line_id] += line.quantity
    for order_line in order_lines:
        OrderLine.objects.filter(pk=order_line.pk).update(
            quantity_returned=F("quantity_returned") - given_back[order_line.pk]
        )
    ret.status = RS.CANCELLED
    ret.cancelled_at = timezone.now()
    ret.save(update_fields=["status", "cancelled_at", "updated_at"])
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.RETURN_CANCELLED,
        message=f"Return {ret.number} cancelled.",
        data={"return": ret.number, "reason": reason},
        actor=actor,
    )
    return ret


def _person(actor: AbstractBaseUser | None) -> Any:
    """Return the user to record as the author of a row: none for anonymous callers."""
    return actor if actor is not None and actor.is_authenticated else None


def _lock_return(return_id: int) -> Return:
    return (
        Return.objects.select_for_update(of=("self",))
        .select_related("order__channel")
        .get(pk=return_id)
    )


def _emit(event: str, ret: Return, *, location_id: int | None) -> None:
    events_emit(
        drafts=[Draft(event, return_read(ret.pk), location_id, return_key(ret.pk))],
    )
