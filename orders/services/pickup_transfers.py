"""Click & collect by transfer, on the orders' side: at capture, the plan's units away from
the pickup store become transfers to it (orders.pickup_transfers); on their receipt, the
units are allocated to the order at the store and the store is asked to prepare them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from accounts.actors import acting_person
from core.sql import rows_insert
from fulfilment.models import Fulfilment
from fulfilment.payloads import fulfilment_draft
from inventory.locks import lock_stock
from inventory.models import Allocation
from inventory.selectors import Candidates
from inventory.services.allocations import stock_allocate_many
from orders.models import Order, OrderEvent, OrderLine
from orders.pickup_transfers import Bound
from orders.services.status import order_status_refresh
from outbox.emit import events_emit
from outbox.events import FULFILMENT_REQUESTED

if TYPE_CHECKING:
    # Allocation sources an order again through this module: the plan is only named here.
    from orders.services.allocation import Sourced


def pickup_plan_split(
    sourced: Sourced | None, candidates: Candidates
) -> tuple[Sourced | None, list[tuple[int, int, int, int]]]:
    """Split a click & collect plan made with the shipping locations (the channel allows a
    transfer to the store): return what the pickup store holds itself, as a plan to allocate,
    and the units found elsewhere as (line position, product id, location id, units), for
    transfers to bring. Any other plan is returned whole."""
    if sourced is None or not candidates.with_shipping:
        return sourced, []
    store_id = candidates.location_id
    away = [
        (want.line, want.product_id, site.pk, units)
        for want, site, _, units in sourced.picks()
        if site.pk != store_id
    ]
    if not away:
        return sourced, []
    codes = {code for code, site in sourced.sites.items() if site.pk == store_id}
    kept = tuple(item for item in sourced.plan.allocations if item.location in codes)
    if not kept:
        return None, away
    plan = replace(
        sourced.plan,
        allocations=kept,
        units=sum(item.quantity for item in kept),
        shipments=1,
    )
    return replace(sourced, plan=plan), away


def pickup_bound(
    lines: Sequence[OrderLine], away: Sequence[tuple[int, int, int, int]]
) -> list[Bound]:
    """Name the order lines (just written) the units found away from the store are for."""
    return [
        Bound(lines[position].pk, product_id, location_id, units)
        for position, product_id, location_id, units in away
    ]


def pickup_units_allocate(
    *,
    order: Order,
    units_by_line: Mapping[int, int],
    transfer_number: str,
    actor: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> list[Allocation]:
    """Allocate units a transfer brought to the order's pickup store to its lines, and ask
    the store to prepare them (joining its pending request, if any).

    The caller holds the order's lock, then the transfer's, and has just put the units on
    hand at the store: the units were sold when the transfer was requested, so neither the
    store's safety stock nor a channel buffer holds them back.
    """
    units_by_line = {pk: n for pk, n in units_by_line.items() if n > 0}
    if not units_by_line:
        return []
    now = now or timezone.now()
    store = order.pickup_location
    if store is None:
        raise ValueError(f"order {order.number} has no pickup store")
    lines = {line.pk: line for line in order.lines.filter(pk__in=units_by_line)}
    rows = lock_stock([(line.product_id, store.pk) for line in lines.values()], create=False)
    fulfilment = (
        Fulfilment.objects.filter(order=order, location=store, status=Fulfilment.Status.REQUESTED)
        .order_by("id")
        .first()
    )
    events = []
    person = acting_person(actor)
    if fulfilment is None:
        fulfilment = Fulfilment(
            order=order,
            location=store,
            status=Fulfilment.Status.REQUESTED,
            created_at=now,
            updated_at=now,
        )
        rows_insert([fulfilment])
        events.append(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.FULFILMENT_REQUESTED,
                message="Your order has been passed to our team for preparation.",
                data={"fulfilment": fulfilment.pk, "location": store.code},
                actor=person,
                created_at=now,
            )
        )
    allocations = []
    raise_by: dict[int, int] = defaultdict(int)
    for pk, units in sorted(units_by_line.items()):
        stock = rows[(lines[pk].product_id, store.pk)]
        allocations.append(
            Allocation(
                order_line=lines[pk],
                stock=stock,
                fulfilment=fulfilment,
                quantity=units,
                status=Allocation.Status.OPEN,
                created_at=now,
                updated_at=now,
            )
        )
        raise_by[stock.pk] += units
    rows_insert(allocations)
    stock_allocate_many(units_by_stock=raise_by, now=now)
    total = sum(units_by_line.values())
    events.insert(
        0,
        OrderEvent(
            order=order,
            kind=OrderEvent.Kind.ALLOCATED,
            message=f"{total} unit(s) arrived at {store.code} by transfer {transfer_number} "
            "and are set aside for this order.",
            data={
                "transfer": transfer_number,
                "location": store.code,
                "units": {str(pk): n for pk, n in sorted(units_by_line.items())},
            },
            actor=person,
            public=False,
            created_at=now,
        ),
    )
    rows_insert(events)
    events_emit(drafts=[fulfilment_draft(FULFILMENT_REQUESTED, fulfilment.pk)])
    order_status_refresh(order=order, actor=actor)
    return allocations
