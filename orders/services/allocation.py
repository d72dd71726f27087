"""Allocate order lines to stock: the sourcing engine chooses, locked rows decide.

The plan is made on an unlocked read of availability; the chosen rows are then
locked in pk order and checked again. If stock moved meanwhile the order is
re-planned (bounded); the last attempt locks every candidate row first, so it
plans on figures nobody can change. No unit is ever promised twice: the
allocation and the rise of `allocated` happen on rows this transaction holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Sum
from django.utils import timezone

from fulfilment import sourcing
from fulfilment.models import Fulfilment
from inventory.locks import lock_stock
from inventory.models import Allocation, Location, StockLevel
from inventory.selectors import available_by_location
from orders.channels import channel_locations
from orders.events import order_event_add
from orders.models import Order, OrderEvent, OrderLine

OPTIMISTIC_ATTEMPTS = 2
Place = tuple[int, int]  # (product_id, location_id)


@dataclass
class AllocationResult:
    allocations: list[Allocation]
    plan: dict | None

    @property
    def units(self) -> int:
        return sum(a.quantity for a in self.allocations)


def lines_wanting(order: Order) -> list[tuple[OrderLine, int]]:
    """Return each line with the units it still lacks (ordered, less cancelled, less held)."""
    lines = list(order.lines.select_related("product").order_by("line_no"))
    held = dict(
        Allocation.objects.holding()
        .filter(order_line__order=order)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    wanting = []
    for line in lines:
        missing = line.quantity_open - held.get(line.pk, 0)
        if missing > 0:
            wanting.append((line, missing))
    return wanting


def candidate_locations(order: Order, *, exclude: set[int] | frozenset[int] = frozenset()):
    """Return the locations that may serve this order: the channel's, shipping ones, or the
    pickup store for click & collect; never those in `exclude` (rejected before)."""
    if order.delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT:
        locations = Location.objects.filter(pk=order.pickup_location_id, active=True)
    else:
        locations = channel_locations(order.channel).filter(ships=True)
    return [loc for loc in locations if loc.pk not in exclude]


def _sellable(order: Order, product_ids, locations) -> dict[str, dict[str, int]]:
    """Return `{sku: {code: units}}` the order's channel may sell (its buffer held back)."""
    return available_by_location(
        product_ids=product_ids, channel=order.channel, locations=[loc.pk for loc in locations]
    )


def _instance(order, wanting, locations, sellable: dict[str, dict[str, int]]) -> dict:
    by_location: dict[str, dict[str, int]] = defaultdict(dict)
    for sku, by_code in sellable.items():
        for code, units in by_code.items():
            by_location[code][sku] = units
    used = [loc for loc in locations if by_location.get(loc.code)]
    destination = _destination(order, used or locations)
    return {
        "order": {
            "lines": [{"sku": line.product.sku, "quantity": qty} for line, qty in wanting],
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
            for loc in used
        ],
        "policy": {
            "split_penalty": settings.OMS_SPLIT_PENALTY,
            "allow_line_split": True,
            "max_shipments": settings.OMS_MAX_SHIPMENTS,
        },
    }


def _destination(order: Order, locations) -> dict:
    if order.ship_lat is not None and order.ship_lon is not None:
        return {"lat": order.ship_lat, "lon": order.ship_lon}
    if order.pickup_location_id and order.pickup_location:
        return {"lat": order.pickup_location.lat, "lon": order.pickup_location.lon}
    # No coordinates: measure from the centre of the candidates, so distance weighs the same
    # for each and the other costs decide.
    if locations:
        return {
            "lat": sum(loc.lat for loc in locations) / len(locations),
            "lon": sum(loc.lon for loc in locations) / len(locations),
        }
    return {"lat": 0.0, "lon": 0.0}


def order_allocate(
    *,
    order: Order,
    exclude: set[int] | frozenset[int] = frozenset(),
    actor: AbstractBaseUser | None = None,
    strategy: str | None = None,
) -> AllocationResult:
    """Allocate what the order's lines still lack. The caller holds the order's row lock
    (or has just created it) inside a transaction."""
    wanting = lines_wanting(order)
    if not wanting:
        return AllocationResult([], None)
    locations = candidate_locations(order, exclude=exclude)
    if not locations:
        return AllocationResult([], None)
    by_code = {loc.code: loc for loc in locations}
    product_ids = {line.product_id for line, _ in wanting}
    location_ids = [loc.pk for loc in locations]
    strategy = strategy or settings.OMS_SOURCING_STRATEGY

    for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
        pessimistic = attempt == OPTIMISTIC_ATTEMPTS
        if pessimistic:
            # Stock kept moving under us: lock every candidate row, then plan on fixed figures.
            places = [(p, loc) for p in product_ids for loc in location_ids]
            locked = lock_stock(places, create=False)
        sellable = _sellable(order, product_ids, locations)
        instance = _instance(order, wanting, locations, sellable)
        if not instance["locations"]:
            return AllocationResult([], None)
        plan = sourcing.plan(
            instance, strategy=strategy, budget_ms=settings.OMS_SOURCING_BUDGET_MS
        ).to_dict()
        need: dict[Place, int] = defaultdict(int)
        for item in plan["allocations"]:
            line = wanting[item["line"]][0]
            need[(line.product_id, by_code[item["location"]].pk)] += item["quantity"]
        if not need:
            return AllocationResult([], plan)
        if pessimistic:
            fresh = sellable
        else:
            locked = lock_stock(need.keys(), create=False)
            # Read again: the rows we hold now show figures nobody else can change.
            fresh = _sellable(order, product_ids, locations)
        sku_of = {line.product_id: line.product.sku for line, _ in wanting}
        code_of = {loc.pk: loc.code for loc in locations}
        if all(
            fresh.get(sku_of[product_id], {}).get(code_of[location_id], 0) >= units
            for (product_id, location_id), units in need.items()
        ):
            allocations = _write(order, wanting, plan, by_code, locked, actor)
            return AllocationResult(allocations, plan)
    raise AssertionError("the pessimistic attempt plans on locked rows and cannot go stale")


def _write(order, wanting, plan, by_code, locked, actor) -> list[Allocation]:
    now = timezone.now()
    fulfilments: dict[int, Fulfilment] = {}
    allocations = []
    raise_by: dict[int, int] = defaultdict(int)
    for item in plan["allocations"]:
        line = wanting[item["line"]][0]
        location = by_code[item["location"]]
        stock = locked[(line.product_id, location.pk)]
        if location.pk not in fulfilments:
            fulfilments[location.pk] = _fulfilment_for(order, location)
        allocations.append(
            Allocation(
                order_line=line,
                stock=stock,
                fulfilment=fulfilments[location.pk],
                quantity=item["quantity"],
            )
        )
        raise_by[stock.pk] += item["quantity"]
    Allocation.objects.bulk_create(allocations)
    for stock_id, units in sorted(raise_by.items()):
        StockLevel.objects.filter(pk=stock_id).update(
            allocated=F("allocated") + units, updated_at=now
        )
    cost = Decimal(str(round(plan["cost"], 2)))
    order.logistics_cost = (order.logistics_cost or Decimal(0)) + cost
    order.save(update_fields=["logistics_cost", "updated_at"])
    order_event_add(
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
        actor=actor,
        public=False,
    )
    for fulfilment in fulfilments.values():
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.FULFILMENT_REQUESTED,
            message=f"Sent to {fulfilment.location.name}.",
            data={"fulfilment": fulfilment.pk, "location": fulfilment.location.code},
            actor=actor,
        )
    return allocations


def _fulfilment_for(order: Order, location: Location) -> Fulfilment:
    """Return the order's pending request at this location, or a new one."""
    existing = Fulfilment.objects.filter(
        order=order, location=location, status=Fulfilment.Status.REQUESTED
    ).first()
    if existing:
        return existing
    return Fulfilment.objects.create(order=order, location=location)


def _allocation_message(plan: dict) -> str:
    units = plan.get("units", 0)
    codes = sorted({a["location"] for a in plan["allocations"]})
    return f"{units} unit(s) allocated from {', '.join(codes)} (logistics cost {plan['cost']:.2f})."
