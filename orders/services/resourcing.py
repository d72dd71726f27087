"""Allocate what an existing order still lacks: after a location refused its units, when
customer service sources it again, when stock or supply arrives for a backorder.

It sources as capture does. A click & collect order whose channel allows a transfer to the
store (`Channel.pickup_transfer`) is planned over the store and the shipping locations: the
store's own units are allocated there, the units found elsewhere are held by a transfer to
the store (orders.pickup_transfers), never sent as a parcel, and the day the order is ready
moves with the new transfer. The caller holds the order's lock; the house lock order holds:
the order, its transfers, then stock rows by primary key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from core.sql import rows_insert
from inventory.models import Allocation
from orders.models import Order
from orders.pickup_transfers import pickup_transfers_request
from orders.services.allocation import (
    Sourced,
    Want,
    allocations_record,
    destination_of,
    lines_wanting,
    order_candidates,
    plan_cost,
    stock_source,
)
from orders.services.delivery_options import order_promise
from orders.services.pickup_transfers import pickup_bound, pickup_plan_split
from orders.services.promised import order_promise_move


@dataclass(frozen=True)
class Resourced:
    """What sourcing an order again found: allocations, and units transfers now bring."""

    allocations: list[Allocation] = field(default_factory=list)
    brought: int = 0

    def __bool__(self) -> bool:
        return bool(self.allocations) or self.brought > 0


def order_allocate(
    *,
    order: Order,
    exclude: set[int] | frozenset[int] = frozenset(),
    actor: AbstractBaseUser | None = None,
    strategy: str | None = None,
    skip_preorders: bool = False,
) -> Resourced:
    """Allocate what the order's lines still lack, away from the locations in `exclude`, or
    bring it to its pickup store by transfer. The caller holds the order's lock."""
    lines, wants = lines_wanting(order, skip_preorders=skip_preorders)
    if not wants:
        return Resourced()
    candidates = order_candidates(
        channel=order.channel,
        delivery_method=order.delivery_method,
        pickup_location_id=order.pickup_location_id,
        exclude=exclude,
    )
    pickup = order.pickup_location if order.pickup_location_id else None
    destination = destination_of(
        lat=order.ship_lat, lon=order.ship_lon, pickup=pickup, candidates=candidates
    )
    # Plan the lacking units as lines of their own; map them back to the order's lines.
    compact = [Want(i, w.product_id, w.sku, w.quantity) for i, w in enumerate(wants)]
    sourced = stock_source(
        destination=destination, wants=compact, candidates=candidates, strategy=strategy
    )
    if sourced is None:
        return Resourced()
    wanting = [lines[w.line] for w in wants]
    held, away = pickup_plan_split(sourced, candidates)
    allocations = (
        allocations_record(order=order, lines=wanting, sourced=held, actor=actor)
        if held is not None
        else []
    )
    bound = pickup_bound(wanting, away)
    if bound:
        now = timezone.now()
        rows_insert(pickup_transfers_request(order=order, bound=bound, actor=actor, now=now))
        _ready_later(order, sourced, actor)
    order.logistics_cost = (order.logistics_cost or Decimal(0)) + (plan_cost(sourced) or 0)
    order.save(update_fields=["logistics_cost", "updated_at"])
    return Resourced(allocations, sum(item.units for item in bound))


def _ready_later(order: Order, sourced: Sourced, actor: AbstractBaseUser | None) -> None:
    """Move the day a click & collect order is ready to the day the units just requested
    reach its store, if that is later: dated as capture dates a basket brought by transfer."""
    ready, _ = order_promise(
        channel=order.channel,
        method=order.delivery_method,
        sourced=sourced,
        lat=order.ship_lat,
        lon=order.ship_lon,
        pickup=order.pickup_location,
        value=Decimal(0),
        at=timezone.now(),
    )
    if ready is None or (order.promised_date is not None and ready <= order.promised_date):
        return
    store = order.pickup_location
    order_promise_move(
        order=order,
        to=ready,
        # Customers read this: no internal location names.
        message=f"Some items are now brought to {store.name if store else 'the store'} from "
        f"elsewhere: the order is ready for pickup on {ready.isoformat()}.",
        data={"pickup_transfer": True},
        actor=actor,
    )
