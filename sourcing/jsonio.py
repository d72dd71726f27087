"""The engine's JSON edge: instances in, plans out, in the shapes of the contract.

The engine and its callers exchange the dataclasses of `sourcing.instance` and
`sourcing.plan`; JSON is read and written only here, by the management commands,
the benchmark and the order timeline (which stores the plan as JSON).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .check import Optimum
from .errors import InvalidInstance, InvalidPlan
from .instance import Incoming, Instance, Line, Location, Policy
from .plan import Allocation, CostPart, Explanation, Plan, RunnerUp, Unallocated, Wait
from .waiting import departures

JsonObject = dict[str, Any]


def instance_from_json(raw: Any) -> Instance:
    """Validate the decoded JSON `raw` and return its `Instance`; raise `InvalidInstance`
    naming the field when it breaks the contract.

    Stock of SKUs the order does not ask for is left out: it cannot matter to the plan.
    An `expected` member (a recorded optimum) is not part of the instance: see
    `optimum_from_json`.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInstance("instance", "must be an object")
    order = _mapping(raw, "order", "order")
    raw_lines = _field(order, "lines", "order.lines")
    if not isinstance(raw_lines, list):
        raise InvalidInstance("order.lines", "must be a list")
    lines = tuple(_line(i, item) for i, item in enumerate(raw_lines))
    destination = _mapping(order, "destination", "order.destination")
    dest = _coordinates(destination, "order.destination")
    raw_locations = _field(raw, "locations", "locations")
    if not isinstance(raw_locations, list):
        raise InvalidInstance("locations", "must be a list")
    skus = {line.sku for line in lines}
    locations = tuple(_location(i, item, skus) for i, item in enumerate(raw_locations))
    seen: set[str] = set()
    for index, location in enumerate(locations):
        if location.code in seen:
            raise InvalidInstance(f"locations[{index}].code", "is not unique")
        seen.add(location.code)
    policy = _policy(raw.get("policy", {}))
    instance = Instance(lines=lines, destination=dest, locations=locations, policy=policy)
    departures(instance)  # refuses more combinations of departure days than the engine tries
    return instance


def _field(mapping: Mapping[str, Any], key: str, name: str) -> Any:
    if key not in mapping:
        raise InvalidInstance(name, "is missing")
    return mapping[key]


def _mapping(mapping: Mapping[str, Any], key: str, name: str) -> Mapping[str, Any]:
    value = _field(mapping, key, name)
    if not isinstance(value, Mapping):
        raise InvalidInstance(name, "must be an object")
    return value


def _number(value: Any, name: str, *, minimum: float | None = None) -> float:
    # bool is an int subclass; true/false where a number belongs is a mistake, not 1/0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInstance(name, "must be a number")
    if not math.isfinite(value):
        raise InvalidInstance(name, "must be finite")
    if minimum is not None and value < minimum:
        raise InvalidInstance(name, f"must be at least {minimum:g}")
    return float(value)


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInstance(name, "must be an integer")
    if value < 0:
        raise InvalidInstance(name, "must not be negative")
    return value


def _sku(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInstance(name, "must be a non-empty string")
    return value


def _coordinates(mapping: Mapping[str, Any], name: str) -> tuple[float, float]:
    lat = _number(_field(mapping, "lat", f"{name}.lat"), f"{name}.lat")
    lon = _number(_field(mapping, "lon", f"{name}.lon"), f"{name}.lon")
    if not -90.0 <= lat <= 90.0:
        raise InvalidInstance(f"{name}.lat", "must be between -90 and 90")
    if not -180.0 <= lon <= 180.0:
        raise InvalidInstance(f"{name}.lon", "must be between -180 and 180")
    return lat, lon


def _line(index: int, raw: Any) -> Line:
    name = f"order.lines[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInstance(name, "must be an object")
    sku = _sku(_field(raw, "sku", f"{name}.sku"), f"{name}.sku")
    quantity = _count(_field(raw, "quantity", f"{name}.quantity"), f"{name}.quantity")
    return Line(sku=sku, quantity=quantity)


_NUMBER_TYPES = frozenset((int, float))
_isfinite = math.isfinite


def _location(index: int, raw: Any, skus: set[str]) -> Location:
    # Instances list hundreds of locations, each with a catalogue-wide stock map: check the
    # common, valid shape in a few cheap steps, keep only the SKUs the order asks for (the
    # others cannot matter), and let the field-by-field validator explain whatever fails.
    try:
        code, lat, lon = raw["code"], raw["lat"], raw["lon"]
        shipment_cost, cost_per_km = raw["shipment_cost"], raw["cost_per_km"]
        unit_cost, stock = raw["unit_cost"], raw["stock"]
        ships, priority = raw.get("ships", True), raw.get("priority", 0)
        incoming = raw.get("incoming")
    except (KeyError, TypeError, AttributeError):
        return _location_checked(index, raw, skus)
    number = _NUMBER_TYPES
    if (
        incoming is not None  # the extension: read field by field
        or type(code) is not str
        or not code
        or type(ships) is not bool
        or type(stock) is not dict
        or type(lat) not in number
        or type(lon) not in number
        or type(shipment_cost) not in number
        or type(cost_per_km) not in number
        or type(unit_cost) not in number
        or type(priority) not in number
        # a sum of finite numbers is finite unless it overflows: the checked path decides then
        or not _isfinite(lat + lon + shipment_cost + cost_per_km + unit_cost + priority)
        or min(shipment_cost, cost_per_km, unit_cost) < 0
        or not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0)
    ):
        return _location_checked(index, raw, skus)
    stock = {sku: stock[sku] for sku in skus if sku in stock}
    for qty in stock.values():
        if type(qty) is not int or qty < 0:
            return _location_checked(index, raw, skus)
    # positional: this runs once per location of every order, and keywords cost more
    return Location(
        code,
        float(lat),
        float(lon),
        ships,
        float(priority),
        float(shipment_cost),
        float(cost_per_km),
        float(unit_cost),
        stock,
    )


def _location_checked(index: int, raw: Any, skus: set[str]) -> Location:
    name = f"locations[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInstance(name, "must be an object")
    code = _sku(_field(raw, "code", f"{name}.code"), f"{name}.code")
    lat, lon = _coordinates(raw, name)
    ships = raw.get("ships", True)
    if not isinstance(ships, bool):
        raise InvalidInstance(f"{name}.ships", "must be true or false")
    priority = _number(raw.get("priority", 0), f"{name}.priority")
    costs = {
        key: _number(_field(raw, key, f"{name}.{key}"), f"{name}.{key}", minimum=0.0)
        for key in ("shipment_cost", "cost_per_km", "unit_cost")
    }
    raw_stock = _field(raw, "stock", f"{name}.stock")
    if not isinstance(raw_stock, Mapping):
        raise InvalidInstance(f"{name}.stock", "must be an object of sku: quantity")
    stock = {sku: raw_stock[sku] for sku in skus if sku in raw_stock}
    for sku, qty in stock.items():
        _count(qty, f"{name}.stock.{sku}")
    return Location(
        code=code,
        lat=lat,
        lon=lon,
        ships=ships,
        priority=priority,
        stock=stock,
        incoming=_incoming(raw.get("incoming", []), f"{name}.incoming", skus),
        **costs,
    )


def _incoming(raw: Any, name: str, skus: set[str]) -> tuple[Incoming, ...]:
    if not isinstance(raw, list):
        raise InvalidInstance(name, "must be a list of {sku, quantity, days}")
    out = []
    for i, item in enumerate(raw):
        where = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInstance(where, "must be an object")
        sku = _sku(_field(item, "sku", f"{where}.sku"), f"{where}.sku")
        quantity = _count(_field(item, "quantity", f"{where}.quantity"), f"{where}.quantity")
        days = _count(_field(item, "days", f"{where}.days"), f"{where}.days")
        if days < 1:
            raise InvalidInstance(f"{where}.days", "must be at least 1 (stock at hand is 0)")
        if sku in skus:  # like stock, units of SKUs the order does not ask for cannot matter
            out.append(Incoming(sku=sku, quantity=quantity, days=days))
    return tuple(out)


def _policy(raw: Any) -> Policy:
    if not isinstance(raw, Mapping):
        raise InvalidInstance("policy", "must be an object")
    split_penalty = _number(raw.get("split_penalty", 0.0), "policy.split_penalty", minimum=0.0)
    allow_line_split = raw.get("allow_line_split", True)
    if not isinstance(allow_line_split, bool):
        raise InvalidInstance("policy.allow_line_split", "must be true or false")
    cap = raw.get("max_shipments")
    max_shipments = None if cap is None else _count(cap, "policy.max_shipments")
    wait_cost_per_day = _number(
        raw.get("wait_cost_per_day", 0.0), "policy.wait_cost_per_day", minimum=0.0
    )
    return Policy(
        split_penalty=split_penalty,
        allow_line_split=allow_line_split,
        max_shipments=max_shipments,
        wait_cost_per_day=wait_cost_per_day,
    )


def instance_to_json(instance: Instance) -> JsonObject:
    """Return the instance as the contract's JSON object."""
    lat, lon = instance.destination
    policy = instance.policy
    out: JsonObject = {
        "order": {
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in instance.lines],
            "destination": {"lat": lat, "lon": lon},
        },
        "locations": [
            {
                "code": location.code,
                "lat": location.lat,
                "lon": location.lon,
                "ships": location.ships,
                "priority": location.priority,
                "shipment_cost": location.shipment_cost,
                "cost_per_km": location.cost_per_km,
                "unit_cost": location.unit_cost,
                "stock": dict(location.stock),
                # the extension's fields only where used: other instances read as before
                **(
                    {
                        "incoming": [
                            {"sku": item.sku, "quantity": item.quantity, "days": item.days}
                            for item in location.incoming
                        ]
                    }
                    if location.incoming
                    else {}
                ),
            }
            for location in instance.locations
        ],
        "policy": {
            "split_penalty": policy.split_penalty,
            "allow_line_split": policy.allow_line_split,
            "max_shipments": policy.max_shipments,
        },
    }
    if policy.wait_cost_per_day:
        out["policy"]["wait_cost_per_day"] = policy.wait_cost_per_day
    return out


def optimum_from_json(raw: Any) -> Optimum | None:
    """Return the optimum an instance file records under `expected`, None when it has none."""
    if not isinstance(raw, Mapping) or raw.get("expected") is None:
        return None
    expected = raw["expected"]
    if not isinstance(expected, Mapping):
        raise InvalidInstance("expected", "must be an object")
    units = _count(_field(expected, "units", "expected.units"), "expected.units")
    cost = _number(_field(expected, "cost", "expected.cost"), "expected.cost", minimum=0.0)
    return Optimum(units=units, cost=cost)


def allocation_to_json(allocation: Allocation) -> JsonObject:
    return {
        "line": allocation.line,
        "location": allocation.location,
        "sku": allocation.sku,
        "quantity": allocation.quantity,
    }


def runner_up_to_json(alt: RunnerUp) -> JsonObject:
    return {
        "label": alt.label,
        "units": alt.units,
        "cost": alt.cost,
        "shipments": alt.shipments,
        "locations": list(alt.locations),
        "extra_cost": alt.extra_cost,
        "units_lost": alt.units_lost,
        "proven": alt.proven,
    }


def explanation_to_json(explanation: Explanation) -> JsonObject:
    """Return the explanation as stored on the order's timeline and printed in a plan."""
    return {
        "rule": explanation.rule,
        "locations": [
            {
                "location": part.location,
                "units": part.units,
                "shipment_cost": part.shipment_cost,
                "km": part.km,
                "distance_cost": part.distance_cost,
                "units_cost": part.units_cost,
                "split_penalty_share": part.split_penalty_share,
                "total": part.total,
                **(
                    {"wait_days": part.wait_days, "wait_cost": part.wait_cost}
                    if part.wait_days
                    else {}
                ),
            }
            for part in explanation.locations
        ],
        "alternatives": [runner_up_to_json(alt) for alt in explanation.alternatives],
        "text": list(explanation.text),
    }


def plan_to_json(plan: Plan) -> JsonObject:
    """Return the plan as the contract's JSON object (costs to 6 decimals, times to 3)."""
    out: JsonObject = {
        "allocations": [allocation_to_json(a) for a in plan.allocations],
        "unallocated": [
            {"line": u.line, "sku": u.sku, "quantity": u.quantity} for u in plan.unallocated
        ],
        "units": plan.units,
        "shipments": plan.shipments,
        "cost": round(plan.cost, 6),
        "elapsed_ms": round(plan.elapsed_ms, 3),
        "proven": plan.proven,
    }
    if not plan.proven and plan.bound is not None:
        out["bound"] = round(plan.bound, 6)
    out["strategy"] = plan.strategy
    out["explanation"] = explanation_to_json(plan.explanation)
    if plan.waits:
        out["waits"] = [{"location": w.location, "days": w.days} for w in plan.waits]
    return out


def plan_from_json(raw: Any) -> Plan:
    """Return the `Plan` of a plan JSON object; raise `InvalidPlan` naming a malformed field.

    A plan without `explanation` or `strategy` (a plan from elsewhere, to be checked) reads
    with an empty explanation and an empty strategy name.
    """
    plan = _plan_object(raw, "plan")
    allocations = tuple(
        Allocation(
            line=_plan_int(item, "line", name),
            location=_plan_str(item, "location", name),
            sku=_plan_str(item, "sku", name),
            quantity=_plan_int(item, "quantity", name),
        )
        for name, item in _plan_items(plan, "allocations")
    )
    unallocated = tuple(
        Unallocated(
            line=_plan_int(item, "line", name),
            sku=_plan_str(item, "sku", name),
            quantity=_plan_int(item, "quantity", name),
        )
        for name, item in _plan_items(plan, "unallocated")
    )
    bound = plan.get("bound")
    explanation = (
        _explanation(plan["explanation"])
        if plan.get("explanation") is not None
        else Explanation(rule="", locations=(), alternatives=(), text=())
    )
    waits = (
        tuple(
            Wait(location=_plan_str(item, "location", name), days=_plan_int(item, "days", name))
            for name, item in _plan_items(plan, "waits")
        )
        if "waits" in plan
        else ()
    )
    return Plan(
        allocations=allocations,
        unallocated=unallocated,
        waits=waits,
        units=_plan_int(plan, "units", "plan"),
        shipments=_plan_int(plan, "shipments", "plan"),
        cost=_plan_float(plan, "cost", "plan"),
        elapsed_ms=_plan_float(plan, "elapsed_ms", "plan") if "elapsed_ms" in plan else 0.0,
        proven=_plan_bool(plan, "proven", "plan") if "proven" in plan else False,
        bound=None if bound is None else _plan_float(plan, "bound", "plan"),
        strategy=_plan_str(plan, "strategy", "plan") if "strategy" in plan else "",
        explanation=explanation,
    )


def _explanation(raw: Any) -> Explanation:
    explanation = _plan_object(raw, "explanation")
    parts = tuple(
        CostPart(
            location=_plan_str(item, "location", name),
            units=_plan_int(item, "units", name),
            shipment_cost=_plan_float(item, "shipment_cost", name),
            km=_plan_float(item, "km", name),
            distance_cost=_plan_float(item, "distance_cost", name),
            units_cost=_plan_float(item, "units_cost", name),
            split_penalty_share=_plan_float(item, "split_penalty_share", name),
            total=_plan_float(item, "total", name),
            wait_days=_plan_int(item, "wait_days", name) if "wait_days" in item else 0,
            wait_cost=_plan_float(item, "wait_cost", name) if "wait_cost" in item else 0.0,
        )
        for name, item in _plan_items(explanation, "locations", "explanation.")
    )
    alternatives = tuple(
        RunnerUp(
            label=_plan_str(item, "label", name),
            units=_plan_int(item, "units", name),
            cost=_plan_float(item, "cost", name),
            shipments=_plan_int(item, "shipments", name),
            locations=_plan_strings(item, "locations", name),
            extra_cost=_plan_float(item, "extra_cost", name),
            units_lost=_plan_int(item, "units_lost", name),
            proven=_plan_bool(item, "proven", name),
        )
        for name, item in _plan_items(explanation, "alternatives", "explanation.")
    )
    return Explanation(
        rule=_plan_str(explanation, "rule", "explanation"),
        locations=parts,
        alternatives=alternatives,
        text=_plan_strings(explanation, "text", "explanation"),
    )


def _plan_object(raw: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidPlan(name, "must be an object")
    return raw


def _plan_value(mapping: Mapping[str, Any], key: str, owner: str) -> Any:
    if key not in mapping:
        raise InvalidPlan(_name(owner, key), "is missing")
    return mapping[key]


def _plan_list(mapping: Mapping[str, Any], key: str, owner: str) -> list[Any]:
    value = _plan_value(mapping, key, owner)
    if not isinstance(value, list):
        raise InvalidPlan(_name(owner, key), "must be a list")
    return value


def _plan_items(
    mapping: Mapping[str, Any], key: str, prefix: str = ""
) -> list[tuple[str, Mapping[str, Any]]]:
    """Return (field name, object) for each member of the list `key`."""
    items = _plan_list(mapping, key, prefix.rstrip(".") or "plan")
    return [
        (f"{prefix}{key}[{i}]", _plan_object(item, f"{prefix}{key}[{i}]"))
        for i, item in enumerate(items)
    ]


def _plan_int(mapping: Mapping[str, Any], key: str, owner: str) -> int:
    value = _plan_value(mapping, key, owner)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPlan(_name(owner, key), "must be an integer")
    return value


def _plan_float(mapping: Mapping[str, Any], key: str, owner: str) -> float:
    value = _plan_value(mapping, key, owner)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidPlan(_name(owner, key), "must be a finite number")
    return float(value)


def _plan_str(mapping: Mapping[str, Any], key: str, owner: str) -> str:
    value = _plan_value(mapping, key, owner)
    if not isinstance(value, str):
        raise InvalidPlan(_name(owner, key), "must be a string")
    return value


def _plan_strings(mapping: Mapping[str, Any], key: str, owner: str) -> tuple[str, ...]:
    values = _plan_list(mapping, key, owner)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise InvalidPlan(f"{_name(owner, key)}[{i}]", "must be a string")
    return tuple(values)


def _plan_bool(mapping: Mapping[str, Any], key: str, owner: str) -> bool:
    value = _plan_value(mapping, key, owner)
    if not isinstance(value, bool):
        raise InvalidPlan(_name(owner, key), "must be true or false")
    return value


def _name(owner: str, key: str) -> str:
    return key if owner == "plan" else f"{owner}.{key}"
