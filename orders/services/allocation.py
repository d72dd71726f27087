"""Allocate order lines to stock: the sourcing engine chooses, locked rows decide.

The plan is made on an unlocked read of availability; the chosen rows are then
locked in pk order and checked again. If stock moved meanwhile the order is
re-planned (bounded); the last attempt locks every candidate row first, so it
plans on figures nobody can change. No unit is ever promised twice: the
allocation and the rise of `allocated` happen on rows this transaction holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.utils import timezone

from fulfilment import sourcing
from fulfilment.models import Fulfilment
from inventory.locks import lock_stock
from inventory.models import Allocation, Location, StockLevel
from inventory.selectors import available_by_location, channel_location_q
from orders.models import Channel, Order, OrderEvent, OrderLine

OPTIMISTIC_ATTEMPTS = 2
Place = tuple[int, int]  # (product_id, location_id)


@dataclass(frozen=True)
class Want:
    """Units one order line still lacks."""

    line: int  # the line's position in the order (line_no - 1)
    product_id: int
    sku: str
    quantity: int


@dataclass
class Sourced:
    """A plan whose stock rows this transaction holds, confirmed against them."""

    plan: dict
    wants: Sequence[Want]
    by_code: dict[str, Location]
    locked: dict[Place, StockLevel]

    def picks(self):
        """Yield (want, location, stock row, units) for each allocation of the plan."""
        for item in self.plan["allocations"]:
            want = self.wants[item["line"]]
            location = self.by_code[item["location"]]
            yield want, location, self.locked[(want.product_id, location.pk)], item["quantity"]

    @property
    def units(self) -> int:
        return sum(item["quantity"] for item in self.plan["allocations"])


def candidate_locations(
    *,
    channel: Channel,
    delivery_method: str,
    pickup_location_id: int | None,
    exclude: set[int] | frozenset[int] = frozenset(),
) -> list[Location]:
    """Return the locations that may serve an order: the channel's shipping ones, or the
    pickup store alone for click & collect; never those in `exclude` (rejected before)."""
    if delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT:
        locations = Location.objects.filter(pk=pickup_location_id, active=True)
    else:
        locations = Location.objects.filter(active=True, ships=True).filter(
            channel_location_q(channel)
        )
    return [loc for loc in locations if loc.pk not in exclude]


def destination_of(
    *, lat: float | None, lon: float | None, pickup: Location | None, locations
) -> dict:
    if lat is not None and lon is not None:
        return {"lat": lat, "lon": lon}
    if pickup is not None:
        return {"lat": pickup.lat, "lon": pickup.lon}
    # No coordinates: measure from the centre of the candidates, so distance weighs the same
    # for each and the other costs decide.
    if locations:
        return {
            "lat": sum(loc.lat for loc in locations) / len(locations),
            "lon": sum(loc.lon for loc in locations) / len(locations),
        }
    return {"lat": 0.0, "lon": 0.0}


def stock_source(
    *,
    channel: Channel,
    destination: dict,
    wants: Sequence[Want],
    locations: Sequence[Location],
    strategy: str | None = None,
) -> Sourced | None:
    """Plan where `wants` come from and lock the chosen stock rows; None when nothing can.

    Call inside a transaction; the rows stay locked until it ends.
    """
    if not wants or not locations:
        return None
    by_code = {loc.code: loc for loc in locations}
    product_ids = {want.product_id for want in wants}
    strategy = strategy or settings.OMS_SOURCING_STRATEGY
    has_buffer = bool(channel.buffer_units or channel.buffer_percent)

    for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
        pessimistic = attempt == OPTIMISTIC_ATTEMPTS
        if pessimistic:
            # Stock kept moving under us: lock every candidate row, then plan on fixed figures.
            locked = lock_stock(
                [(p, loc.pk) for p in product_ids for loc in locations], create=False
            )
        sellable = _sellable(channel, product_ids, locations)
        instance = _instance(wants, locations, sellable, destination)
        if not instance["locations"]:
            return None
        plan = sourcing.plan(
            instance, strategy=strategy, budget_ms=settings.OMS_SOURCING_BUDGET_MS
        ).to_dict()
        need: dict[Place, int] = defaultdict(int)
        for item in plan["allocations"]:
            need[(wants[item["line"]].product_id, by_code[item["location"]].pk)] += item["quantity"]
        if not need:
            return None
        if not pessimistic:
            locked = lock_stock(need.keys(), create=False)
            if has_buffer:
                # The buffer depends on the SKU's whole network: read it again, the rows
                # we hold showing figures nobody else can change.
                sellable = _sellable(channel, product_ids, locations)
            else:
                sellable = _raw_available(locked, wants, locations)
        if _covers(sellable, need, wants, locations):
            return Sourced(plan=plan, wants=wants, by_code=by_code, locked=locked)
    raise AssertionError("the pessimistic attempt plans on locked rows and cannot go stale")


def _sellable(channel, product_ids, locations) -> dict[str, dict[str, int]]:
    """Return `{sku: {code: units}}` the channel may sell (its buffer held back)."""
    return available_by_location(
        product_ids=product_ids, channel=channel, locations=[loc.pk for loc in locations]
    )


def _raw_available(locked, wants, locations) -> dict[str, dict[str, int]]:
    sku_of = {want.product_id: want.sku for want in wants}
    code_of = {loc.pk: loc.code for loc in locations}
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for (product_id, location_id), row in locked.items():
        found[sku_of[product_id]][code_of[location_id]] = row.available
    return found


def _covers(sellable, need, wants, locations) -> bool:
    sku_of = {want.product_id: want.sku for want in wants}
    code_of = {loc.pk: loc.code for loc in locations}
    return all(
        sellable.get(sku_of[product_id], {}).get(code_of[location_id], 0) >= units
        for (product_id, location_id), units in need.items()
    )


def _instance(wants, locations, sellable, destination) -> dict:
    by_location: dict[str, dict[str, int]] = defaultdict(dict)
    for sku, by_code in sellable.items():
        for code, units in by_code.items():
            by_location[code][sku] = units
    return {
        "order": {
            "lines": [{"sku": want.sku, "quantity": want.quantity} for want in wants],
            "destination": destination,
        },
        "locations": [
            {
                "code": loc.code,
                "lat": loc.lat,
                "lon": loc.lon,
                # Eligibility was decided above; the pickup store need not ship parcels.
                "ships": True,
                "priority": loc.priority,
                "shipment_cost": float(loc.shipment_cost),
                "cost_per_km": float(loc.cost_per_km),
                "unit_cost": float(loc.unit_cost),
                "stock": by_location[loc.code],
            }
            for loc in locations
            if by_location.get(loc.code)
        ],
        "policy": {
            "split_penalty": settings.OMS_SPLIT_PENALTY,
            "allow_line_split": True,
            "max_shipments": settings.OMS_MAX_SHIPMENTS,
        },
    }


def allocations_record(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    sourced: Sourced,
    actor: AbstractBaseUser | None = None,
    reuse_requests: bool = True,
    events: Sequence[OrderEvent] = (),
) -> list[Allocation]:
    """Write the allocations of a confirmed plan, raise `allocated` on the held rows, and send
    one request per location (joining a pending one at that location, if any).

    `events` are written in the same statement as the allocation's own. The caller adds
    `plan_cost(sourced)` to the order's logistics cost.
    """
    now = timezone.now()
    locations = {location.pk: location for _, location, _, _ in sourced.picks()}
    fulfilments: dict[int, Fulfilment] = {}
    if reuse_requests:
        for fulfilment in Fulfilment.objects.filter(
            order=order, location_id__in=locations, status=Fulfilment.Status.REQUESTED
        ):
            fulfilments[fulfilment.location_id] = fulfilment
    new = [
        Fulfilment(order=order, location=location, created_at=now, updated_at=now)
        for pk, location in sorted(locations.items())
        if pk not in fulfilments
    ]
    for fulfilment in Fulfilment.objects.bulk_create(new):
        fulfilments[fulfilment.location_id] = fulfilment
    allocations = []
    raise_by: dict[int, int] = defaultdict(int)
    for want, location, stock, units in sourced.picks():
        allocations.append(
            Allocation(
                order_line=lines[want.line],
                stock=stock,
                fulfilment=fulfilments[location.pk],
                quantity=units,
            )
        )
        raise_by[stock.pk] += units
    Allocation.objects.bulk_create(allocations)
    StockLevel.objects.filter(pk__in=raise_by).update(
        allocated=F("allocated")
        + Case(
            *(When(pk=pk, then=Value(units)) for pk, units in raise_by.items()),
            output_field=IntegerField(),
        ),
        updated_at=now,
    )
    plan = sourced.plan
    events = [
        *events,
        OrderEvent(
            order=order,
            kind=OrderEvent.Kind.ALLOCATED,
            message=_allocation_message(plan),
            data={
                "allocations": plan["allocations"],
                "cost": plan["cost"],
                "strategy": plan.get("strategy"),
                "proven": plan.get("proven"),
                "explanation": plan.get("explanation"),
            },
            actor=_person(actor),
            public=False,
        ),
    ]
    events += [
        OrderEvent(
            order=order,
            kind=OrderEvent.Kind.FULFILMENT_REQUESTED,
            # Customers read this on the tracking page: no internal location names.
            message="Your order has been passed to our team for preparation.",
            data={"fulfilment": fulfilments[pk].pk, "location": locations[pk].code},
            actor=_person(actor),
        )
        for pk in sorted(locations)
        if fulfilments[pk] in new
    ]
    OrderEvent.objects.bulk_create(events)
    return allocations


def plan_cost(sourced: Sourced | None) -> Decimal | None:
    """Return what the plan's locations cost us, to the cent."""
    return None if sourced is None else Decimal(str(round(sourced.plan["cost"], 2)))


def _person(actor):
    return actor if actor is not None and actor.is_authenticated else None


def lines_wanting(order: Order) -> tuple[list[OrderLine], list[Want]]:
    """Return the order's lines, and what each still lacks (ordered, less cancelled, less held)."""
    lines = list(order.lines.select_related("product").order_by("line_no"))
    held = dict(
        Allocation.objects.holding()
        .filter(order_line__order=order)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    wants = []
    for index, line in enumerate(lines):
        missing = line.quantity_open - held.get(line.pk, 0)
        if missing > 0:
            wants.append(Want(index, line.product_id, line.product.sku, missing))
    return lines, wants


def order_allocate(
    *,
    order: Order,
    exclude: set[int] | frozenset[int] = frozenset(),
    actor: AbstractBaseUser | None = None,
    strategy: str | None = None,
) -> list[Allocation]:
    """Allocate what an existing order's lines still lack. The caller holds the order's lock."""
    lines, wants = lines_wanting(order)
    if not wants:
        return []
    locations = candidate_locations(
        channel=order.channel,
        delivery_method=order.delivery_method,
        pickup_location_id=order.pickup_location_id,
        exclude=exclude,
    )
    destination = destination_of(
        lat=order.ship_lat,
        lon=order.ship_lon,
        pickup=order.pickup_location if order.pickup_location_id else None,
        locations=locations,
    )
    # Plan the lacking units as lines of their own; map them back to the order's lines.
    compact = [Want(i, w.product_id, w.sku, w.quantity) for i, w in enumerate(wants)]
    sourced = stock_source(
        channel=order.channel,
        destination=destination,
        wants=compact,
        locations=locations,
        strategy=strategy,
    )
    if sourced is None:
        return []
    allocations = allocations_record(
        order=order, lines=[lines[w.line] for w in wants], sourced=sourced, actor=actor
    )
    order.logistics_cost = (order.logistics_cost or Decimal(0)) + plan_cost(sourced)
    order.save(update_fields=["logistics_cost", "updated_at"])
    return allocations


def _allocation_message(plan: dict) -> str:
    units = sum(a["quantity"] for a in plan["allocations"])
    codes = sorted({a["location"] for a in plan["allocations"]})
    return f"{units} unit(s) allocated from {', '.join(codes)} (logistics cost {plan['cost']:.2f})."
