"""Replay a period of orders under a policy: the stock as it was, each order planned again.

The stock starts as it stood at the period's start (`lab.history`); the period's events
then run in time order, in memory:

* a non-order ledger movement (receipt, count, transfer, return, damage, adjustment)
  changes `on_hand` by what it changed really (a count's difference is shrinkage found, so
  it carries over to a replay whose shelves differ);
* an order is planned by the sourcing engine on what the candidate locations may sell then
  (the one availability rule, `units_available`, and the channel buffer, `buffer_apply`),
  through the instance order capture builds (`sourcing_instance`), under the policy under
  test; its units are allocated;
* its units leave (`on_hand` and `allocated` fall together) when the real order shipped,
  or go back (`allocated` falls) when the real order was cancelled; an allocation made
  before the period ships or goes back when it really did.

Nothing is written: the database is only read, by `history_load`, before the first event.
Not replayed: basket reservations (they hold units for minutes; the orders that consumed
them are replayed), and allocations made after capture (backorders filled on a receipt,
re-sourcing after a location's rejection): what a capture left unfilled counts as
backordered.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

import sourcing
from inventory.availability import buffer_apply, units_available
from inventory.models import Location
from inventory.selectors import Candidates, Sellable, Site
from lab.history import HistOrder, History
from lab.policy import EVERY_STORE, ReplayPolicy
from orders.models import Order, OrderEvent
from orders.services.allocation import Sourced, Want, sourcing_instance
from orders.services.delivery_options import order_promise
from sourcing.instance import haversine_km
from sourcing.jsonio import explanation_to_json

PICKUP = Order.DeliveryMethod.CLICK_AND_COLLECT
# The orders shown as those that changed most, with both explanations.
CHANGED_KEPT = 20
PROGRESS_EVERY = 1000

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class Figures:
    """What one plan of one order comes to."""

    units: int  # allocated
    unfilled: int  # wanted but not allocated: backordered, or refused for click & collect
    parcels: int
    cost: float  # logistics: shipment + distance + handling, without the split penalty
    km: float
    on_time: bool | None  # the plan's date keeps the date promised; None: nothing promised
    by_location: dict[str, tuple[int, float, float]]  # code -> (units, cost, km)
    picks: dict[tuple[int, int], int]  # (line_no, location id) -> units

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(sorted(self.by_location))


@dataclass(slots=True)
class OrderOutcome:
    number: str
    at: datetime
    channel: str
    method: str
    wanted: int
    real: Figures
    replay: Figures

    @property
    def changed(self) -> bool:
        return self.real.picks != self.replay.picks

    def weight(self) -> tuple[int, float]:
        """How much the order changed: units first, then logistics cost."""
        return (
            abs(self.real.unfilled - self.replay.unfilled),
            abs(self.real.cost - self.replay.cost),
        )


@dataclass
class ReplayResult:
    outcomes: list[OrderOutcome]
    # The orders that changed most, most first, with both explanations (lines of text).
    changed_most: list[dict] = field(default_factory=list)


@dataclass
class _Stock:
    on_hand: int
    allocated: int
    safety_stock: int


@dataclass(order=True)
class _Kept:
    weight: tuple[int, float]
    seq: int
    order_pk: int = field(compare=False)
    outcome: OrderOutcome = field(compare=False)
    instance: sourcing.Instance | None = field(compare=False)


# Event kinds at one instant: stock moves before an order captured at that instant.
_MOVE, _HELD_END, _SHIP, _CANCEL, _ORDER = range(5)


def replay(
    history: History, policy: ReplayPolicy, *, progress: Progress | None = None
) -> ReplayResult:
    """Replay the history's orders under `policy`; return each order's outcome beside what
    really happened, and the orders that changed most."""
    run = _Replay(history, policy)
    return run.go(progress)


class _Replay:
    def __init__(self, history: History, policy: ReplayPolicy):
        self.history = history
        self.policy = policy
        self.engine_policy = policy.engine_policy()
        self.places = history.places
        self.sites = {pk: _priced(place.site, policy) for pk, place in self.places.items()}
        self.code_to_pk = {place.code: pk for pk, place in self.places.items()}
        self.stock: dict[int, _Stock] = {}
        self.by_product: dict[int, dict[int, _Stock]] = {}
        self.row_of: dict[int, _Stock] = {}
        for row in history.rows:
            state = _Stock(row.on_hand, row.allocated, row.safety_stock)
            self.row_of[row.pk] = state
            self.by_product.setdefault(row.product_id, {})[row.location_id] = state
        self.held: dict[int, list[tuple[_Stock, int]]] = {}
        self.promises: dict[tuple, date | None] = {}
        self.kept: list[_Kept] = []
        self.seq = 0
        # The network changes only with an exclusion's days: one list per kind of order.
        self.candidate_sets: dict[tuple, list[int]] = {}

    # -- the timeline

    def go(self, progress: Progress | None) -> ReplayResult:
        history = self.history
        events: list[tuple] = []
        for move in history.movements:
            events.append((move.at, _MOVE, move.pk, move))
        for i, held in enumerate(history.held):
            if held.ended_at is not None:
                events.append((held.ended_at, _HELD_END, i, held))
        for i, order in enumerate(history.orders):
            events.append((order.at, _ORDER, i, order))
            if order.cancelled_at is not None and order.cancelled_at < history.end:
                events.append((order.cancelled_at, _CANCEL, i, order))
            elif order.shipped_at is not None and order.shipped_at < history.end:
                events.append((order.shipped_at, _SHIP, i, order))
        events.sort(key=lambda event: event[:3])
        total, done = len(history.orders), 0
        outcomes: list[OrderOutcome] = []
        for _, kind, _, item in events:
            if kind == _MOVE:
                row = self.row_of.get(item.stock_id)
                if row is not None:
                    row.on_hand = max(0, row.on_hand + item.quantity)
            elif kind == _HELD_END:
                row = self.row_of.get(item.stock_id)
                if row is not None:
                    row.allocated = max(0, row.allocated - item.quantity)
                    if item.shipped:
                        row.on_hand = max(0, row.on_hand - item.quantity)
            elif kind == _ORDER:
                outcomes.append(self.order(item))
                done += 1
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress(done, total)
            else:
                for row, units in self.held.pop(item.pk, ()):
                    row.allocated -= units
                    if kind == _SHIP:
                        row.on_hand = max(0, row.on_hand - units)
        if progress is not None:
            progress(done, total)
        return ReplayResult(outcomes=outcomes, changed_most=self.changed_most())

    # -- one order

    def order(self, order: HistOrder) -> OrderOutcome:
        channel = self.history.channels[order.channel_id]
        pickup = order.pickup_location_id if order.delivery_method == PICKUP else None
        with_shipping = pickup is not None and channel.pickup_transfer
        candidates = self.candidates(order, channel, pickup, with_shipping)
        destination = self.destination(order, candidates)
        wants = [
            Want(i, line.product_id, line.sku, line.quantity) for i, line in enumerate(order.lines)
        ]
        sellable = self.sellable(wants, candidates, channel)
        instance = None
        picks: dict[tuple[int, int], int] = {}
        plan = None
        if sellable.sites:
            frame = Candidates(channel=channel, location_id=pickup, with_shipping=with_shipping)
            instance = sourcing_instance(wants, sellable, destination, frame)
            instance = replace(instance, policy=self.engine_policy)
            if instance.locations:
                plan = sourcing.plan(
                    instance,
                    strategy=self.policy.strategy,
                    budget_ms=self.policy.budget_ms,
                    explain_runner_ups=False,
                )
                for item in plan.allocations:
                    location_id = sellable.sites[item.location].pk
                    want = wants[item.line]
                    key = (order.lines[want.line].line_no, location_id)
                    picks[key] = picks.get(key, 0) + item.quantity
        if order.delivery_method == PICKUP and sum(picks.values()) < sum(w.quantity for w in wants):
            # Capture refuses a click & collect order it cannot fill whole: nothing is held.
            picks = {}
        held = []
        product_of = {line.line_no: line.product_id for line in order.lines}
        for (line_no, location_id), units in picks.items():
            row = self.by_product[product_of[line_no]][location_id]
            row.allocated += units
            held.append((row, units))
        if held:
            self.held[order.pk] = held
        wanted = sum(line.quantity for line in order.lines)
        free = pickup if with_shipping else None
        real = self.figures(order, channel, order.real, destination, free, wanted)
        again = self.figures(order, channel, picks, destination, free, wanted)
        outcome = OrderOutcome(
            order.number, order.at, channel.code, order.delivery_method, wanted, real, again
        )
        if outcome.changed:
            self.keep(order, outcome, instance)
        return outcome

    def candidates(
        self, order: HistOrder, channel, pickup: int | None, with_shipping: bool
    ) -> list[int]:
        """The location ids that may serve the order, in code order (`Candidates.sql`)."""
        excluded = frozenset(e.code for e in self.policy.exclusions if e.applies(order.at))
        key = (channel.pk, pickup, with_shipping, excluded)
        found = self.candidate_sets.get(key)
        if found is None:
            found = self.candidate_sets[key] = self._candidates(
                channel, pickup, with_shipping, excluded
            )
        return found

    def _candidates(
        self, channel, pickup: int | None, with_shipping: bool, excluded: frozenset[str]
    ) -> list[int]:
        serves = channel.location_ids
        let_ship = self.policy.let_ship
        found = []
        for pk, place in self.places.items():
            if not place.active or (serves and pk not in serves) or place.code in excluded:
                continue
            ships = (
                place.ships
                or place.code in let_ship
                or (EVERY_STORE in let_ship and place.kind == Location.Kind.STORE)
            )
            if pickup is None:
                if not ships:
                    continue
            elif pk != pickup and not (with_shipping and ships):
                continue
            found.append(pk)
        found.sort(key=lambda pk: self.places[pk].code)
        return found

    def destination(self, order: HistOrder, candidates: list[int]) -> dict:
        """`destination_of`, from memory."""
        if order.lat is not None and order.lon is not None:
            return {"lat": order.lat, "lon": order.lon}
        if order.pickup_location_id is not None:
            store = self.places[order.pickup_location_id].site
            return {"lat": store.lat, "lon": store.lon}
        if candidates:
            sites = [self.places[pk].site for pk in candidates]
            return {
                "lat": sum(site.lat for site in sites) / len(sites),
                "lon": sum(site.lon for site in sites) / len(sites),
            }
        return {"lat": 0.0, "lon": 0.0}

    def sellable(self, wants: list[Want], candidates: list[int], channel) -> Sellable:
        """`sellable_stock`, from memory."""
        allowed = set(candidates)
        sites: dict[str, Site] = {}
        units: dict[int, dict[str, int]] = {}
        for product_id in {want.product_id for want in wants}:
            for location_id, row in self.by_product.get(product_id, {}).items():
                if location_id not in allowed:
                    continue
                available = units_available(
                    on_hand=row.on_hand,
                    allocated=row.allocated,
                    reserved=0,
                    safety_stock=row.safety_stock,
                    reserved_expired=0,
                )
                if available > 0:
                    site = self.sites[location_id]
                    sites[site.code] = site
                    units.setdefault(product_id, {})[site.code] = available
        if channel.buffer_percent or channel.buffer_units:
            units = {
                product_id: held
                for product_id, by_code in units.items()
                if (
                    held := buffer_apply(
                        by_code, percent=channel.buffer_percent, units=channel.buffer_units
                    )
                )
            }
        return Sellable(sites, {pid: dict(sorted(by.items())) for pid, by in units.items()})

    # -- what a plan comes to

    def figures(
        self,
        order: HistOrder,
        channel,
        picks: dict[tuple[int, int], int],
        destination: dict,
        free: int | None,
        wanted: int,
    ) -> Figures:
        lat, lon = float(destination["lat"]), float(destination["lon"])
        by_location: dict[str, tuple[int, float, float]] = {}
        per_location: dict[int, int] = {}
        for (_, location_id), units in picks.items():
            per_location[location_id] = per_location.get(location_id, 0) + units
        cost = km_total = 0.0
        for location_id, units in per_location.items():
            site = self.sites[location_id]
            if location_id == free:
                part, km = 0.0, 0.0
            else:
                km = haversine_km(site.lat, site.lon, lat, lon)
                part = site.shipment_cost + site.cost_per_km * km + site.unit_cost * units
            by_location[site.code] = (units, part, km)
            cost += part
            km_total += km
        units = sum(per_location.values())
        on_time = None
        if order.promised_date is not None:
            when = self.promise(order, channel, frozenset(per_location))
            on_time = units >= wanted and when is not None and when <= order.promised_date
        return Figures(
            units=units,
            unfilled=wanted - units,
            parcels=len(per_location),
            cost=cost,
            km=km_total,
            on_time=on_time,
            by_location=by_location,
            picks=dict(picks),
        )

    def promise(self, order: HistOrder, channel, location_ids: frozenset[int]) -> date | None:
        """The date the delivery promise gives a plan from these locations (once per order
        and set of locations: the real plan and its replay often share one)."""
        key = (order.pk, location_ids)
        if key in self.promises:
            return self.promises[key]
        sites = {self.places[pk].code: self.places[pk].site for pk in location_ids}
        plan = sourcing.Plan(
            allocations=tuple(sourcing.Allocation(0, code, "", 1) for code in sorted(sites)),
            unallocated=(),
            units=len(sites),
            shipments=len(sites),
            cost=0.0,
            elapsed_ms=0.0,
            proven=True,
            bound=None,
            strategy=self.policy.strategy,
            explanation=sourcing.Explanation("", (), (), ()),
        )
        pickup = (
            self.history.locations.get(order.pickup_location_id)
            if order.pickup_location_id
            else None
        )
        when, _ = order_promise(
            channel=channel,
            method=order.delivery_method,
            sourced=Sourced(plan=plan, wants=[], sites=sites, locked={}) if sites else None,
            lat=order.lat,
            lon=order.lon,
            pickup=pickup,
            value=Decimal(0),
            at=order.at,
        )
        self.promises[key] = when
        return when

    # -- the orders that changed most

    def keep(self, order: HistOrder, outcome: OrderOutcome, instance) -> None:
        self.seq += 1
        # Of two orders that changed alike, the earlier is kept (a larger seq ranks lower).
        kept = _Kept(outcome.weight(), -self.seq, order.pk, outcome, instance)
        if len(self.kept) < CHANGED_KEPT:
            heapq.heappush(self.kept, kept)
        elif kept > self.kept[0]:
            heapq.heapreplace(self.kept, kept)

    def changed_most(self) -> list[dict]:
        """The orders that changed most, most first, each with both explanations: the real
        one from the order's timeline, the replay's from its instance planned again."""
        kept = sorted(self.kept, reverse=True)
        real = {
            order_id: data.get("explanation", {}).get("text", [])
            for order_id, data in OrderEvent.objects.filter(
                order_id__in=[k.order_pk for k in kept], kind=OrderEvent.Kind.ALLOCATED
            )
            .order_by("-created_at")
            .values_list("order_id", "data")
        }
        answer = []
        for k in kept:
            text: list[str] = ["Nothing could be allocated."]
            if k.instance is not None and k.instance.locations and k.outcome.replay.units:
                plan = sourcing.plan(k.instance, strategy=self.policy.strategy, budget_ms=200)
                text = list(explanation_to_json(plan.explanation)["text"])
            answer.append(
                {
                    "order": k.outcome.number,
                    "channel": k.outcome.channel,
                    "real": _brief(k.outcome.real) | {"explanation": real.get(k.order_pk, [])},
                    "replay": _brief(k.outcome.replay) | {"explanation": text},
                }
            )
        return answer


def _brief(figures: Figures) -> dict:
    return {
        "locations": list(figures.locations),
        "units": figures.units,
        "unfilled": figures.unfilled,
        "parcels": figures.parcels,
        "cost": round(figures.cost, 2),
        "km": round(figures.km, 1),
    }


def _priced(site: Site, policy: ReplayPolicy) -> Site:
    costs = policy.costs.get(site.code)
    if costs is None:
        return site
    return site._replace(
        shipment_cost=costs.shipment_cost,
        cost_per_km=costs.cost_per_km,
        unit_cost=costs.unit_cost,
    )
