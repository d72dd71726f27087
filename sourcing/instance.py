"""Read and validate an instance (the contract in shared/sourcing/README.md).

Parsing turns the JSON-shaped dict into frozen dataclasses once, so the solvers
never have to re-check a field. Every rejection raises `InvalidInstance` naming
the field, which callers turn into a 400.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInstance

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Line:
    index: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Location:
    index: int
    code: str
    lat: float
    lon: float
    ships: bool
    priority: float
    shipment_cost: float
    cost_per_km: float
    unit_cost: float
    stock: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Policy:
    split_penalty: float
    allow_line_split: bool
    max_shipments: int | None


@dataclass(frozen=True, slots=True)
class Instance:
    lines: tuple[Line, ...]
    destination: tuple[float, float]
    locations: tuple[Location, ...]
    policy: Policy


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in km, computed exactly as check.py does."""
    p1, q1, p2, q2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((q2 - q1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def parse_instance(raw: Any) -> Instance:
    """Validate `raw` and return it as an `Instance`; raise `InvalidInstance` if malformed."""
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
    for location in locations:
        if location.code in seen:
            raise InvalidInstance(f"locations[{location.index}].code", "is not unique")
        seen.add(location.code)
    policy = _policy(raw.get("policy", {}))
    return Instance(lines=lines, destination=dest, locations=locations, policy=policy)


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
    return Line(index=index, sku=sku, quantity=quantity)


_NUMBER_TYPES = frozenset((int, float))
isfinite = math.isfinite


def _location(index: int, raw: Any, skus: set[str]) -> Location:
    # Instances list hundreds of locations, each with a catalogue-wide stock map: check the
    # common, valid shape in a few cheap steps, keep only the SKUs the order asks for (the
    # others cannot matter), and let the field-by-field validator explain whatever fails.
    try:
        code, lat, lon = raw["code"], raw["lat"], raw["lon"]
        shipment_cost, cost_per_km = raw["shipment_cost"], raw["cost_per_km"]
        unit_cost, stock = raw["unit_cost"], raw["stock"]
        ships, priority = raw.get("ships", True), raw.get("priority", 0)
    except (KeyError, TypeError, AttributeError):
        return _location_checked(index, raw, skus)
    number = _NUMBER_TYPES
    if (
        type(code) is not str
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
        or not isfinite(lat + lon + shipment_cost + cost_per_km + unit_cost + priority)
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
        index,
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
        index=index,
        code=code,
        lat=lat,
        lon=lon,
        ships=ships,
        priority=priority,
        stock=stock,
        **costs,
    )


def _policy(raw: Any) -> Policy:
    if not isinstance(raw, Mapping):
        raise InvalidInstance("policy", "must be an object")
    split_penalty = _number(raw.get("split_penalty", 0.0), "policy.split_penalty", minimum=0.0)
    allow_line_split = raw.get("allow_line_split", True)
    if not isinstance(allow_line_split, bool):
        raise InvalidInstance("policy.allow_line_split", "must be true or false")
    cap = raw.get("max_shipments")
    max_shipments = None if cap is None else _count(cap, "policy.max_shipments")
    return Policy(
        split_penalty=split_penalty,
        allow_line_split=allow_line_split,
        max_shipments=max_shipments,
    )
