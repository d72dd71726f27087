"""Allocate order lines to stock: the sourcing engine chooses, locked rows decide.

The plan is made on an unlocked read of availability; the chosen rows are then
locked in pk order and checked again. If stock moved meanwhile the order is
re-planned (bounded); the last attempt locks every candidate row first, so it
plans on figures nobody can change. No unit is ever promised twice: the
allocation and the rise of `allocated` happen on rows this transaction holds.

Reads, locks and writes go through the connection's cursor (inventory.selectors,
inventory.locks, inventory.services, core.sql): order capture runs them for every order,
and the ORM's compilation of these statements cost more than the database's work.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

import sourcing
from accounts.actors import acting_person
from core.metrics import sourcing_seconds
from core.sql import Writes, rows_insert
from fulfilment.models import Fulfilment
from fulfilment.payloads import fulfilment_draft
from inventory.locks import lock_stock, lock_stock_at
from inventory.models import Allocation, Location, StockLevel
from inventory.selectors import (
    Candidates,
    Place,
    Sellable,
    Site,
    candidate_sites,
    rows_reserved_settle,
    sellable_stock,
)
from inventory.services.allocations import stock_allocate_many
from orders.models import Channel, Order, OrderEvent, OrderLine
from orders.pickup_transfers import pickup_units_awaiting
from outbox.emit import events_emit
from outbox.events import FULFILMENT_REQUESTED
from sourcing.jsonio import allocation_to_json, explanation_to_json, runner_up_to_json

OPTIMISTIC_ATTEMPTS = 2


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

    plan: sourcing.Plan
    wants: Sequence[Want]
    sites: dict[str, Site]  # by code
    locked: dict[Place, StockLevel]

    def picks(self):
        """Yield (want, site, stock row, units) for each allocation of the plan."""
        for item in self.plan.allocations:
            want = self.wants[item.line]
            site = self.sites[item.location]
            yield want, site, self.locked[(want.product_id, site.pk)], item.quantity

    @property
    def units(self) -> int:
        return self.plan.units


@dataclass
class Recorded:
    """What `allocations_write` wrote, and the timeline entries that tell it (not written)."""

    allocations: list[Allocation]
    fulfilments: list[Fulfilment]  # the requests it made (not those it joined)
    events: list[OrderEvent] = field(default_factory=list)


def order_candidates(
    *,
    channel: Channel,
    delivery_method: str,
    pickup_location_id: int | None,
    exclude: set[int] | frozenset[int] = frozenset(),
) -> Candidates:
    """Return the locations that may serve an order: the channel's shipping ones, or the
    pickup store alone for click & collect (with the shipping ones when the channel allows
    a transfer to the store); never those in `exclude` (rejected before)."""
    pickup = delivery_method == Order.DeliveryMethod.CLICK_AND_COLLECT
    return Candidates(
        channel=channel,
        location_id=pickup_location_id if pickup else None,
        exclude=frozenset(exclude),
        with_shipping=pickup and channel.pickup_transfer,
    )


def destination_of(
    *, lat: float | None, lon: float | None, pickup: Location | None, candidates: Candidates
) -> dict:
    if lat is not None and lon is not None:
        return {"lat": lat, "lon": lon}
    if pickup is not None:
        return {"lat": pickup.lat, "lon": pickup.lon}
    # No coordinates: measure from the centre of the candidates, so distance weighs the same
    # for each and the other costs decide.
    sites = candidate_sites(candidates)
    if sites:
        return {
            "lat": sum(site.lat for site in sites) / len(sites),
            "lon": sum(site.lon for site in sites) / len(sites),
        }
    return {"lat": 0.0, "lon": 0.0}


def stock_source(
    *,
    destination: dict,
    wants: Sequence[Want],
    candidates: Candidates,
    strategy: str | None = None,
) -> Sourced | None:
    """Plan where `wants` come from and lock the chosen stock rows; None when nothing can.

    Call inside a transaction; the rows stay locked until it ends.
    """
    if not wants:
        return None
    product_ids = {want.product_id for want in wants}
    strategy = strategy or settings.OMS_SOURCING_STRATEGY
    channel = candidates.channel
    has_buffer = bool(channel.buffer_units or channel.buffer_percent)

    for attempt in range(OPTIMISTIC_ATTEMPTS + 1):
        pessimistic = attempt == OPTIMISTIC_ATTEMPTS
        if pessimistic:
            # Stock kept moving under us: lock every candidate row, then plan on fixed figures.
            locked = lock_stock_at(product_ids=product_ids, candidates=candidates)
            sellable = sellable_stock(
                product_ids=product_ids, candidates=candidates, only=locked.keys()
            )
        else:
            sellable = sellable_stock(product_ids=product_ids, candidates=candidates)
        instance = sourcing_instance(wants, sellable, destination, candidates)
        if not instance.locations:
            return None
        started = time.perf_counter()
        # The explanation's runner-ups are solved when someone opens the order's page
        # (`runner_ups_now`), not for every order.
        plan = sourcing.plan(
            instance,
            strategy=strategy,
            budget_ms=settings.OMS_SOURCING_BUDGET_MS,
            explain_runner_ups=False,
        )
        sourcing_seconds.labels(plan.strategy).observe(time.perf_counter() - started)
        sites = sellable.sites
        need: dict[Place, int] = defaultdict(int)
        for item in plan.allocations:
            need[(wants[item.line].product_id, sites[item.location].pk)] += item.quantity
        if not need:
            return None
        if not pessimistic:
            locked = lock_stock(need.keys(), create=False)
            if has_buffer:
                # The buffer depends on the SKU's whole network: read it again, the rows
                # we hold showing figures nobody else can change.
                sellable = sellable_stock(product_ids=product_ids, candidates=candidates)
            else:
                sellable = _raw_available(locked, sites)
        if _covers(sellable, need, sites):
            return Sourced(plan=plan, wants=wants, sites=sites, locked=locked)
    raise AssertionError("the pessimistic attempt plans on locked rows and cannot go stale")


def _raw_available(locked: dict[Place, StockLevel], sites: dict[str, Site]) -> Sellable:
    code_of = {site.pk: code for code, site in sites.items()}
    # Rows holding reservations: their expired ones are sellable (no query when none).
    rows_reserved_settle(locked.values())
    units: dict[int, dict[str, int]] = defaultdict(dict)
    for (product_id, location_id), row in locked.items():
        units[product_id][code_of[location_id]] = row.available
    return Sellable(sites, units)


def _covers(sellable: Sellable, need: dict[Place, int], sites: dict[str, Site]) -> bool:
    code_of = {site.pk: code for code, site in sites.items()}
    return all(
        sellable.units.get(product_id, {}).get(code_of[location_id], 0) >= units
        for (product_id, location_id), units in need.items()
    )


def sourcing_instance(
    wants: Sequence[Want], sellable: Sellable, destination: dict, candidates: Candidates
) -> sourcing.Instance:
    """Return the sourcing engine's instance for `wants` over what `sellable` holds."""
    # Click & collect by transfer: the pickup store's own units cost nothing to bring to the
    # store, so the plan takes from elsewhere only what the store lacks.
    free = candidates.location_id if candidates.with_shipping else None
    by_location: dict[str, dict[str, int]] = defaultdict(dict)
    for want in wants:
        for code, units in sellable.units.get(want.product_id, {}).items():
            by_location[code][want.sku] = units
    return sourcing.Instance(
        lines=tuple(sourcing.Line(want.sku, want.quantity) for want in wants),
        destination=(float(destination["lat"]), float(destination["lon"])),
        locations=tuple(
            sourcing.Location(
                code=site.code,
                lat=float(site.lat),
                lon=float(site.lon),
                # Eligibility was decided above; the pickup store need not ship parcels.
                ships=True,
                priority=float(site.priority),
                shipment_cost=0.0 if site.pk == free else site.shipment_cost,
                cost_per_km=0.0 if site.pk == free else site.cost_per_km,
                unit_cost=0.0 if site.pk == free else site.unit_cost,
                stock=by_location[site.code],
            )
            for site in sorted(sellable.sites.values(), key=lambda site: site.code)
            if by_location.get(site.code)
        ),
        policy=sourcing.Policy(
            split_penalty=float(settings.OMS_SPLIT_PENALTY),
            allow_line_split=True,
            max_shipments=settings.OMS_MAX_SHIPMENTS,
        ),
    )


def allocations_write(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    sourced: Sourced,
    actor: AbstractBaseUser | None = None,
    reuse_requests: bool = True,
    now: datetime | None = None,
    writes: Writes | None = None,
) -> Recorded:
    """Write the allocations of a confirmed plan, raise `allocated` on the held rows, and send
    one request per location (joining a pending one at that location, if any). With
    `writes`, the rows join the caller's one statement (core.sql.Writes), their keys drawn
    beforehand.

    Return what was written with the timeline entries that tell it, for the caller to write
    with its own in one statement. The caller adds `plan_cost(sourced)` to the order's
    logistics cost.
    """
    insert = writes.insert if writes is not None else rows_insert
    now = now or timezone.now()
    sites = {site.pk: site for _, site, _, _ in sourced.picks()}
    locations = {pk: _location(site) for pk, site in sites.items()}
    fulfilments: dict[int, Fulfilment] = {}
    if reuse_requests:
        for fulfilment in Fulfilment.objects.filter(
            order=order, location_id__in=sites, status=Fulfilment.Status.REQUESTED
        ):
            fulfilments[fulfilment.location_id] = fulfilment
    new = [
        Fulfilment(
            order=order,
            location=locations[pk],
            status=Fulfilment.Status.REQUESTED,
            created_at=now,
            updated_at=now,
        )
        for pk in sorted(sites)
        if pk not in fulfilments
    ]
    insert(new)
    fulfilments.update((fulfilment.location_id, fulfilment) for fulfilment in new)
    allocations = []
    raise_by: dict[int, int] = defaultdict(int)
    for want, site, stock, units in sourced.picks():
        # The answer to the order names the location of each allocation.
        stock.location = locations[site.pk]
        allocations.append(
            Allocation(
                order_line=lines[want.line],
                stock=stock,
                fulfilment=fulfilments[site.pk],
                quantity=units,
                status=Allocation.Status.OPEN,
                created_at=now,
                updated_at=now,
            )
        )
        raise_by[stock.pk] += units
    insert(allocations)
    stock_allocate_many(units_by_stock=raise_by, now=now, writes=writes)
    plan = sourced.plan
    person = acting_person(actor)
    events = [
        OrderEvent(
            order=order,
            kind=OrderEvent.Kind.ALLOCATED,
            message=_allocation_message(plan),
            data={
                "allocations": [allocation_to_json(item) for item in plan.allocations],
                "cost": round(plan.cost, 6),  # as the plan's JSON states it
                "strategy": plan.strategy,
                "proven": plan.proven,
                "explanation": explanation_to_json(plan.explanation),
            },
            actor=person,
            public=False,
            created_at=now,
        ),
        *(
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind.FULFILMENT_REQUESTED,
                # Customers read this on the tracking page: no internal location names.
                message="Your order has been passed to our team for preparation.",
                data={"fulfilment": fulfilment.pk, "location": sites[fulfilment.location_id].code},
                actor=person,
                created_at=now,
            )
            for fulfilment in new
        ),
    ]
    return Recorded(allocations=allocations, fulfilments=new, events=events)


def allocations_record(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    sourced: Sourced,
    actor: AbstractBaseUser | None = None,
    reuse_requests: bool = True,
) -> list[Allocation]:
    """`allocations_write`, and the timeline entries with it."""
    recorded = allocations_write(
        order=order, lines=lines, sourced=sourced, actor=actor, reuse_requests=reuse_requests
    )
    rows_insert(recorded.events)
    if order.held_for:
        # An order on hold asks no location for anything: its requests go out at release.
        return recorded.allocations
    # Each location hears of the units it must now send: a new request, or one that grew.
    events_emit(
        drafts=[
            fulfilment_draft(FULFILMENT_REQUESTED, fulfilment_id)
            for fulfilment_id in sorted({a.fulfilment_id for a in recorded.allocations})
        ]
    )
    return recorded.allocations


def _location(site: Site) -> Location:
    """Return the site as a Location with the fields sourcing read; the others load on use."""
    return Location.from_db(connection.alias, ["id", "code", "lat", "lon", "priority"], site[:5])


def plan_cost(sourced: Sourced | None) -> Decimal | None:
    """Return what the plan's locations cost us, to the cent."""
    # From the cost as the plan's JSON states it (6 decimals), as the timeline records it.
    return None if sourced is None else Decimal(str(round(round(sourced.plan.cost, 6), 2)))


def lines_wanting(
    order: Order, *, skip_preorders: bool = False
) -> tuple[list[OrderLine], list[Want]]:
    """Return the order's lines, and what each still lacks (ordered, less cancelled, less held);
    with `skip_preorders`, nothing for a pre-order product's lines (only the receipt of the
    supply promised to them, or the end of the pre-order, lets the shelves serve them)."""
    lines = list(order.lines.select_related("product").order_by("line_no"))
    held = dict(
        Allocation.objects.holding()
        .filter(order_line__order=order)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
    # Units on their way to the pickup store by transfer are the order's already.
    for line_id, units in pickup_units_awaiting(order).items():
        held[line_id] = held.get(line_id, 0) + units
    wants = []
    for index, line in enumerate(lines):
        missing = line.quantity_open - held.get(line.pk, 0)
        if skip_preorders and line.product.preorder:
            continue
        if missing > 0:
            wants.append(Want(index, line.product_id, line.product.sku, missing))
    return lines, wants


def runner_ups_now(
    *, order: Order, decision: dict, lines: Sequence[OrderLine], allocations: Sequence[Allocation]
) -> list[dict] | None:
    """Return the runner-ups of one sourcing decision (an "allocated" event's `data`), solved
    now: the units it placed, planned over the network as it is (what the order's candidate
    locations may sell, with the units this order holds there given back to them, as if it
    were placed now) by the engine with capture's budget. The chosen plan is the decision's
    as recorded: its locations, units and cost. None when the decision names no plan.

    `lines` are the order's lines with their products, `allocations` theirs with their stock
    rows (the order page has read both). Capture leaves the runner-ups out (the order page
    asks for them): solving them cost every order a few re-solves that only someone opening
    the page reads.
    """
    placed: dict[tuple[int, str], int] = defaultdict(int)
    codes: set[str] = set()
    for item in decision.get("allocations") or []:
        if not isinstance(item, dict):
            return None
        line, sku, units = item.get("line"), item.get("sku"), item.get("quantity")
        code = item.get("location")
        if not all(
            isinstance(v, t) for v, t in ((line, int), (sku, str), (units, int), (code, str))
        ):
            return None
        if units > 0:
            placed[line, sku] += units
            codes.add(code)
    cost, strategy = decision.get("cost"), decision.get("strategy")
    if not placed or not isinstance(cost, int | float) or strategy not in sourcing.STRATEGIES:
        return None
    product_of = {order_line.product.sku: order_line.product_id for order_line in lines}
    if any(sku not in product_of for _, sku in placed):
        return None
    wants = [
        Want(line, product_of[sku], sku, units) for (line, sku), units in sorted(placed.items())
    ]
    candidates = order_candidates(
        channel=order.channel,
        delivery_method=order.delivery_method,
        pickup_location_id=order.pickup_location_id,
    )
    sellable = sellable_stock(product_ids=set(product_of.values()), candidates=candidates)
    held: dict[Place, int] = defaultdict(int)
    for allocation in allocations:
        if allocation.status == Allocation.Status.OPEN and allocation.quantity > 0:
            stock = allocation.stock
            held[stock.product_id, stock.location_id] += allocation.quantity
    code_of = {site.pk: code for code, site in sellable.sites.items()}
    if any(location_id not in code_of for _, location_id in held):
        # A location the order emptied is not in what may be sold: read it as a candidate
        # (one that is no longer a candidate gets nothing back).
        for site in candidate_sites(candidates):
            if site.pk in {location_id for _, location_id in held}:
                sellable.sites.setdefault(site.code, site)
                code_of[site.pk] = site.code
    for (product_id, location_id), units in held.items():
        if location_id in code_of:
            by_code = sellable.units.setdefault(product_id, {})
            by_code[code_of[location_id]] = by_code.get(code_of[location_id], 0) + units
    pickup = order.pickup_location if order.pickup_location_id else None
    destination = destination_of(
        lat=order.ship_lat, lon=order.ship_lon, pickup=pickup, candidates=candidates
    )
    instance = sourcing_instance(wants, sellable, destination, candidates)
    if not instance.locations:
        return []
    found = sourcing.runner_ups(
        instance,
        codes=sorted(codes),
        units=sum(placed.values()),
        cost=float(cost),
        strategy=strategy,
        budget_ms=settings.OMS_SOURCING_BUDGET_MS,
    )
    return [runner_up_to_json(alt) for alt in found]


def _allocation_message(plan: sourcing.Plan) -> str:
    units = sum(a.quantity for a in plan.allocations)
    cost = round(plan.cost, 6)
    return (
        f"{units} unit(s) allocated from {', '.join(plan.locations)} (logistics cost {cost:.2f})."
    )
