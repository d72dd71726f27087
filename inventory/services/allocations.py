"""Moving allocated units: promise them to orders, release them back to available, or
ship them out of on hand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone

from core.sql import Writes
from inventory.locks import lock_stock_ids
from inventory.models import Allocation, StockLevel, StockMovement
from inventory.moved import stock_changed
from inventory.notify import stock_freed
from inventory.services.counters import counter_move
from inventory.services.ledger import movement_apply


def stock_allocate_many(
    *, units_by_stock: Mapping[int, int], now: datetime, writes: Writes | None = None
) -> None:
    """Raise `allocated` by `{stock id: units}` on rows this transaction holds locked, in
    one statement (with `writes`: a part of the caller's one statement, core.sql.Writes):
    order capture allocates every order."""
    if not units_by_stock:
        return
    counter_move(column="allocated", units_by_stock=units_by_stock, now=now, writes=writes)
    # Allocation lowers available: low-stock alerts are evaluated after commit.
    stock_changed(units_by_stock)


def allocations_release(*, allocations: Iterable[Allocation], reason: str) -> int:
    """Give open allocations' units back to available. Return the units released.

    The caller holds the order's lock; stock rows are locked here, in pk order.
    """
    allocations = [a for a in allocations if a.status == Allocation.Status.OPEN]
    if not allocations:
        return 0
    rows = lock_stock_ids(a.stock_id for a in allocations)
    lower: dict[int, int] = defaultdict(int)
    for allocation in allocations:
        lower[allocation.stock_id] += allocation.quantity
    now = timezone.now()
    for stock_id, units in sorted(lower.items()):
        StockLevel.objects.filter(pk=stock_id).update(
            allocated=F("allocated") - units, updated_at=now
        )
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(
        status=Allocation.Status.RELEASED, release_reason=reason[:255], updated_at=now
    )
    for allocation in allocations:
        allocation.status = Allocation.Status.RELEASED
    stock_freed(product_ids={rows[a.stock_id].product_id for a in allocations})
    stock_changed(lower)
    return sum(lower.values())


def allocations_ship(
    *, allocations: Iterable[Allocation], reference: str, actor: AbstractBaseUser | None = None
) -> int:
    """Ship open allocations: the units leave on hand (a ledger line) and allocated together."""
    allocations = [a for a in allocations if a.status == Allocation.Status.OPEN]
    if not allocations:
        return 0
    locked = lock_stock_ids(a.stock_id for a in allocations)
    now = timezone.now()
    by_stock: dict[int, int] = defaultdict(int)
    for allocation in allocations:
        by_stock[allocation.stock_id] += allocation.quantity
    for stock_id, units in sorted(by_stock.items()):
        stock = locked[stock_id]
        movement_apply(
            stock=stock,
            kind=StockMovement.Kind.SHIPMENT,
            quantity=-units,
            reference=reference,
            actor=actor,
            at=now,
        )
        StockLevel.objects.filter(pk=stock_id).update(allocated=F("allocated") - units)
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(
        status=Allocation.Status.SHIPPED, updated_at=now
    )
    for allocation in allocations:
        allocation.status = Allocation.Status.SHIPPED
    return sum(by_stock.values())


def allocation_shrink(*, allocation: Allocation, units: int, reason: str) -> int:
    """Give back `units` of one open allocation (all of it when units >= its quantity)."""
    if allocation.status != Allocation.Status.OPEN or units <= 0:
        return 0
    if units >= allocation.quantity:
        return allocations_release(allocations=[allocation], reason=reason)
    rows = lock_stock_ids([allocation.stock_id])
    now = timezone.now()
    StockLevel.objects.filter(pk=allocation.stock_id).update(
        allocated=F("allocated") - units, updated_at=now
    )
    Allocation.objects.filter(pk=allocation.pk).update(
        quantity=F("quantity") - units, updated_at=now
    )
    allocation.quantity -= units
    stock_freed(product_ids=[rows[allocation.stock_id].product_id])
    stock_changed([allocation.stock_id])
    return units
