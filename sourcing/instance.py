"""The instance the engine plans: an order's lines, the candidate locations, the policy.

Callers build it directly from their own records, or read it from the contract's JSON
with `sourcing.jsonio.instance_from_json`, which validates every field. Lines and
locations are identified by their position in the tuples.

Incoming supply is an extension: a location may list units that arrive there in a number
of days, and the policy may price a day of waiting; an instance without them plans exactly
as before (docs/sourcing.md, "Incoming supply").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Incoming:
    """Units of a SKU expected at a location in `days` days (from the day of the order)."""

    sku: str
    quantity: int
    days: int


@dataclass(frozen=True, slots=True)
class Location:
    code: str
    lat: float
    lon: float
    ships: bool
    priority: float
    shipment_cost: float
    cost_per_km: float
    unit_cost: float
    stock: Mapping[str, int]  # units available to promise, by SKU; a missing SKU has none
    # Units expected later; a shipment from here may wait for them (docs/sourcing.md).
    incoming: tuple[Incoming, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    split_penalty: float = 0.0
    allow_line_split: bool = True
    max_shipments: int | None = None  # None: no cap
    # What one shipment waiting a day for incoming units costs (lateness weighed as money).
    wait_cost_per_day: float = 0.0


@dataclass(frozen=True, slots=True)
class Instance:
    lines: tuple[Line, ...]
    destination: tuple[float, float]  # (lat, lon)
    locations: tuple[Location, ...]
    policy: Policy = Policy()


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in km, as the contract defines it."""
    p1, q1, p2, q2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((q2 - q1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
