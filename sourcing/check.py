"""Judge a plan against its instance without trusting the engine that made it.

`plan_check` lists what is wrong with a plan: units it may not take, a policy it
breaks, figures (units, shipments, cost) that do not match its allocations, and,
given the instance's recorded optimum, a plan that falls short of it. A location whose
shipment waits (the plan's `waits`, with incoming supply) may give its stock and the
units arrived by then, and the waiting is part of the cost. The cost is
recomputed here from the contract's formula, apart from the solvers' own cost model,
so that a mistake in one is not repeated by the other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .instance import Instance, Location
from .plan import Allocation, Plan, Wait

# Two costs within this relative (and absolute) distance are equal.
COST_TOLERANCE = 1e-6
_EARTH_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Optimum:
    """The proven best of an instance: most units, then least cost at those units."""

    units: int
    cost: float


def plan_cost(
    instance: Instance, allocations: Iterable[Allocation], waits: Iterable[Wait] = ()
) -> float:
    """Return the contract's cost of these allocations (unknown locations are skipped), with
    `wait_cost_per_day` for each day a used location's shipment waits (`waits`)."""
    by_code = {location.code: location for location in instance.locations}
    lat, lon = instance.destination
    units_at: dict[str, int] = {}
    for allocation in allocations:
        if allocation.location in by_code and allocation.quantity > 0:
            units_at[allocation.location] = units_at.get(allocation.location, 0) + (
                allocation.quantity
            )
    total = 0.0
    for code, units in units_at.items():
        location = by_code[code]
        km = great_circle_km(location.lat, location.lon, lat, lon)
        total += location.shipment_cost + location.cost_per_km * km + location.unit_cost * units
    if units_at:
        total += instance.policy.split_penalty * (len(units_at) - 1)
    for wait in waits:
        if wait.location in units_at:
            total += instance.policy.wait_cost_per_day * wait.days
    return total


def same_cost(a: float, b: float) -> bool:
    """Return True when two costs are equal within the contract's tolerance."""
    return abs(a - b) <= COST_TOLERANCE * max(1.0, abs(a), abs(b))


def plan_check(instance: Instance, plan: Plan, optimum: Optimum | None = None) -> list[str]:
    """Return what is wrong with `plan` for `instance`, empty when nothing is.

    With `optimum`, a feasible plan that allocates fewer units, or costs more at as many,
    is reported too (and so is one that beats it: then the record itself is wrong).
    """
    problems = _feasibility(instance, plan)
    problems += _figures(instance, plan)
    if optimum is not None and not problems:
        problems += _against(optimum, plan, plan_cost(instance, plan.allocations, plan.waits))
    return problems


def _feasibility(instance: Instance, plan: Plan) -> list[str]:
    problems: list[str] = []
    lines = instance.lines
    by_code = {location.code: location for location in instance.locations}
    given = [0] * len(lines)
    sources: list[set[str]] = [set() for _ in lines]
    taken: dict[tuple[str, str], int] = {}
    for n, allocation in enumerate(plan.allocations):
        where = f"allocation {n} (line {allocation.line}, {allocation.location})"
        if not 0 <= allocation.line < len(lines):
            problems.append(f"{where}: the order has no such line")
            continue
        location = by_code.get(allocation.location)
        if location is None:
            problems.append(f"{where}: no such location in the instance")
            continue
        if allocation.quantity <= 0:
            problems.append(f"{where}: quantity {allocation.quantity} is not positive")
            continue
        line = lines[allocation.line]
        if allocation.sku != line.sku:
            problems.append(f"{where}: names {allocation.sku} but the line asks for {line.sku}")
        if not location.ships:
            problems.append(f"{where}: the location does not ship")
        key = (allocation.location, line.sku)
        taken[key] = taken.get(key, 0) + allocation.quantity
        given[allocation.line] += allocation.quantity
        sources[allocation.line].add(allocation.location)
    waits: dict[str, int] = {}
    for n, wait in enumerate(plan.waits):
        if wait.location in waits:
            problems.append(f"wait {n}: {wait.location} waits twice")
        elif wait.location not in by_code:
            problems.append(f"wait {n}: no location {wait.location} in the instance")
        elif wait.days <= 0:
            problems.append(f"wait {n} ({wait.location}): {wait.days} days is not positive")
        elif not any(a.location == wait.location for a in plan.allocations):
            problems.append(f"wait {n}: {wait.location} ships nothing")
        waits.setdefault(wait.location, wait.days)
    for (code, sku), units in sorted(taken.items()):
        held = _held(by_code[code], sku, waits.get(code, 0))
        if units > held:
            when = f" by day {waits[code]}" if code in waits else ""
            problems.append(f"{code} gives {units} × {sku} but holds {held}{when}")
    left = [0] * len(lines)
    for n, unallocated in enumerate(plan.unallocated):
        if not 0 <= unallocated.line < len(lines) or unallocated.quantity <= 0:
            problems.append(f"unallocated entry {n} names no line or no units")
            continue
        left[unallocated.line] += unallocated.quantity
    policy = instance.policy
    for i, line in enumerate(lines):
        if given[i] > line.quantity:
            problems.append(f"line {i} receives {given[i]} units but asks for {line.quantity}")
        elif given[i] + left[i] != line.quantity:
            problems.append(
                f"line {i}: {given[i]} allocated and {left[i]} unallocated"
                f" do not make its {line.quantity}"
            )
        if not policy.allow_line_split:
            if len(sources[i]) > 1:
                problems.append(f"line {i} comes from {sorted(sources[i])}; lines may not split")
            if 0 < given[i] < line.quantity:
                problems.append(f"line {i} is part-filled; lines may not split")
    used = {a.location for a in plan.allocations if a.location in by_code}
    if policy.max_shipments is not None and len(used) > policy.max_shipments:
        problems.append(f"{len(used)} locations used, the cap is {policy.max_shipments}")
    return problems


def _figures(instance: Instance, plan: Plan) -> list[str]:
    problems = []
    units = sum(a.quantity for a in plan.allocations)
    if plan.units != units:
        problems.append(f"the plan says {plan.units} units, its allocations make {units}")
    shipments = len({a.location for a in plan.allocations})
    if plan.shipments != shipments:
        problems.append(f"the plan says {plan.shipments} shipments, it uses {shipments}")
    cost = plan_cost(instance, plan.allocations, plan.waits)
    if not same_cost(plan.cost, cost):
        problems.append(f"the plan says cost {plan.cost:.6f}, its allocations cost {cost:.6f}")
    return problems


def _against(optimum: Optimum, plan: Plan, cost: float) -> list[str]:
    if plan.units < optimum.units:
        return [f"not optimal: {plan.units} units where {optimum.units} can be allocated"]
    if plan.units > optimum.units:
        return [f"{plan.units} units beat the recorded optimum of {optimum.units}"]
    if same_cost(cost, optimum.cost):
        return []
    if cost > optimum.cost:
        return [f"not optimal: cost {cost:.6f} where {optimum.cost:.6f} is possible"]
    return [f"cost {cost:.6f} beats the recorded optimum of {optimum.cost:.6f}"]


def _held(location: Location, sku: str, day: int) -> int:
    """Return the units of `sku` a shipment leaving `location` on `day` may take: its stock,
    and the incoming units arrived by then (day 0: it leaves now)."""
    units = location.stock.get(sku, 0)
    for item in location.incoming:
        if item.sku == sku and 0 < item.days <= day:
            units += item.quantity
    return units


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the haversine distance in km on the contract's sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * _EARTH_KM * math.asin(math.sqrt(a))
