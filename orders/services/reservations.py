"""Basket reservations: stock held before payment, for a few minutes.

A reservation holds units of chosen stock rows: its lines raise `StockLevel.reserved`,
which lowers `available` for everyone else. It ends one of three ways, each giving the
units back on rows locked in pk order:

* an order names it (`reservation_consume`, inside order capture): the units go back and
  the order allocates on the same locked rows, so no one can take them in between;
* the client deletes it (`reservation_cancel`);
* it expires: from `expires_at` on, availability no longer counts it (inventory.selectors),
  and `reservations_expire` (a periodic task) gives the units back for good.

Placing a reservation works like allocating an order: plan on an unlocked read, lock the
chosen rows in pk order, check them again (orders.services.allocation.stock_source).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from core.exceptions import ConflictError
from core.retry import retry_on_conflict
from inventory.locks import lock_stock_at_and, lock_stock_ids
from inventory.models import Location, Product, StockLevel
from inventory.moved import stock_changed
from inventory.notify import stock_freed
from inventory.selectors import Candidates
from orders.exceptions import OrderRejected
from orders.models import Channel, Order, Reservation, ReservationLine
from orders.services.allocation import Want, destination_of, order_candidates, stock_source

R = Reservation.Status


class NotEnoughStock(ConflictError):
    code = "not_enough_stock"


@dataclass(frozen=True)
class ReservedLine:
    product: Product
    quantity: int


def reservation_create(
    *,
    channel: Channel,
    lines: Sequence[ReservedLine],
    minutes: int | None = None,
    pickup_location: Location | None = None,
    actor: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold the units of `lines` for `minutes` (default `OMS_RESERVATION_MINUTES`).

    With `pickup_location` the units are held at that store (a click & collect basket);
    otherwise at the channel's shipping locations, in as few places as possible. All or
    nothing: a basket the network cannot hold whole is refused with `NotEnoughStock`.
    """
    return retry_on_conflict(
        lambda: _create(channel, lines, minutes, pickup_location, actor, now or timezone.now())
    )


@transaction.atomic(durable=True)
def _create(channel, lines, minutes, pickup, actor, now) -> Reservation:
    minutes = minutes or settings.OMS_RESERVATION_MINUTES
    wants = [
        Want(i, line.product.pk, line.product.sku, line.quantity) for i, line in enumerate(lines)
    ]
    candidates = order_candidates(
        channel=channel,
        delivery_method=(
            Order.DeliveryMethod.CLICK_AND_COLLECT if pickup else Order.DeliveryMethod.STANDARD
        ),
        pickup_location_id=pickup.pk if pickup else None,
    )
    if pickup is not None:
        # Held at the store itself: a transfer is for orders, not for a basket's few minutes.
        candidates = Candidates(channel=channel, location_id=pickup.pk)
    sourced = stock_source(
        destination=destination_of(lat=None, lon=None, pickup=pickup, candidates=candidates),
        wants=wants,
        candidates=candidates,
        strategy="fewest_shipments",
    )
    given: dict[int, int] = defaultdict(int)
    for item in sourced.plan["allocations"] if sourced else []:
        given[item["line"]] += item["quantity"]
    short = [
        f"{want.quantity - given[want.line]} × {want.sku}"
        for want in wants
        if given[want.line] < want.quantity
    ]
    if short:
        where = f" at {pickup.code}" if pickup else ""
        raise NotEnoughStock(f"Not enough stock{where} to hold: {', '.join(short)}.", field="lines")
    expires_at = now + timedelta(minutes=minutes)
    reservation = Reservation.objects.create(
        channel=channel,
        expires_at=expires_at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        created_at=now,
    )
    rows, raise_by = [], defaultdict(int)
    for want, _site, stock, units in sourced.picks():
        rows.append(
            ReservationLine(
                reservation=reservation,
                line_no=want.line + 1,
                product_id=want.product_id,
                stock=stock,
                quantity=units,
                expires_at=expires_at,
            )
        )
        raise_by[stock.pk] += units
    ReservationLine.objects.bulk_create(rows)
    _reserved_move(raise_by, +1, now)
    return reservation


def reservation_cancel(*, reservation: Reservation, now: datetime | None = None) -> Reservation:
    """Give a reservation's units back at the client's request. A reservation already
    released or expired stays so; one consumed by an order is a conflict."""
    return retry_on_conflict(lambda: _cancel(reservation.pk, now or timezone.now()))


@transaction.atomic(durable=True)
def _cancel(reservation_id: int, now: datetime) -> Reservation:
    reservation = _lock(reservation_id)
    if reservation.status == R.CONSUMED:
        number = reservation.order.number if reservation.order_id else "an order"
        raise ConflictError(
            f"Reservation {reservation.public_id} was used by order {number}.", field="status"
        )
    if reservation.status == R.ACTIVE:
        _release(reservation, status=R.RELEASED, reason="released by the client", now=now)
    return reservation


def reservations_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Give back the units of reservations past their time, oldest first; return how many.

    Each in its own transaction, re-checked under its lock: a reservation an order consumed
    meanwhile is left alone, and a second run does nothing.
    """
    now = now or timezone.now()
    due = Reservation.objects.filter(status=R.ACTIVE, expires_at__lte=now).order_by("expires_at")
    expired = 0
    for pk in due.values_list("pk", flat=True)[:limit]:
        expired += retry_on_conflict(lambda pk=pk: _expire(pk, now))
    return expired


@transaction.atomic(durable=True)
def _expire(reservation_id: int, now: datetime) -> int:
    reservation = _lock(reservation_id)
    if reservation.status != R.ACTIVE or reservation.expires_at > now:
        return 0
    _release(reservation, status=R.EXPIRED, reason="expired", now=now)
    return 1


def reservation_consume(
    *,
    reservation: Reservation,
    channel: Channel,
    product_ids: Collection[int],
    candidates: Candidates,
    now: datetime,
) -> Reservation:
    """Give back a reservation's units for the order being placed, inside its transaction.

    Its stock rows and every row the order's plan may use are locked together, in pk order,
    before anything moves: the units given back can then only go to this order. An expired
    reservation is let go (its units are sellable anyway) and the order proceeds without
    it; one of another channel, consumed or released is refused on `reservation`.
    """
    reservation = _lock(reservation.pk)
    if reservation.channel_id != channel.pk:
        raise OrderRejected(
            f"Reservation {reservation.public_id} was made on another channel.",
            field="reservation",
        )
    if reservation.status in (R.CONSUMED, R.RELEASED):
        raise OrderRejected(
            f"Reservation {reservation.public_id} is {reservation.get_status_display().lower()}.",
            field="reservation",
        )
    if reservation.status == R.EXPIRED or reservation.expires_at <= now:
        if reservation.status == R.ACTIVE:
            _release(reservation, status=R.EXPIRED, reason="expired before its order", now=now)
        return reservation
    stock_ids = list(reservation.lines.filter(active=True).values_list("stock_id", flat=True))
    lock_stock_at_and(stock_ids=stock_ids, product_ids=product_ids, candidates=candidates)
    _release(reservation, status=R.CONSUMED, reason="consumed by its order", now=now, locked=True)
    return reservation


def reservation_attach(*, reservation: Reservation, order: Order) -> None:
    """Record which order consumed the reservation (the order exists only now)."""
    Reservation.objects.filter(pk=reservation.pk).update(order=order)
    reservation.order = order


def _lock(reservation_id: int) -> Reservation:
    return Reservation.objects.select_for_update().get(pk=reservation_id)


def _release(
    reservation: Reservation, *, status: str, reason: str, now: datetime, locked: bool = False
) -> None:
    """End a locked, active reservation: its units leave `reserved`."""
    lines = list(reservation.lines.filter(active=True))
    if not locked:
        lock_stock_ids(line.stock_id for line in lines)
    lower: dict[int, int] = defaultdict(int)
    for line in lines:
        lower[line.stock_id] += line.quantity
    _reserved_move(lower, -1, now)
    ReservationLine.objects.filter(pk__in=[line.pk for line in lines]).update(active=False)
    reservation.status = status
    reservation.released_at = now
    reservation.release_reason = reason
    reservation.save(update_fields=["status", "released_at", "release_reason"])
    if status != R.CONSUMED:
        # Backordered orders may be waiting for exactly these units.
        stock_freed(product_ids={line.product_id for line in lines})


def _reserved_move(units_by_stock: dict[int, int], sign: int, now: datetime) -> None:
    """Move `reserved` on stock rows this transaction holds: `{stock id: units}`."""
    if not units_by_stock:
        return
    table = StockLevel._meta.db_table
    rows = sorted(units_by_stock.items())
    values = ", ".join(["(%s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET reserved = reserved + v.column2, updated_at = %s"
            f" FROM (VALUES {values}) AS v WHERE {table}.id = v.column1",
            [
                connection.ops.adapt_datetimefield_value(now),
                *(x for stock_id, units in rows for x in (stock_id, sign * units)),
            ],
        )
    # Reserved units are not available: low-stock alerts are evaluated after commit.
    stock_changed(units_by_stock)
