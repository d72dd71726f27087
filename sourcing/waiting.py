"""Incoming supply: a shipment may wait at its location for units expected there.

A location that lists incoming units offers its shipment on several departure days: now
(its stock), or on each day some of its incoming units arrive (its stock and everything
arrived by then), the latter costing the policy's `wait_cost_per_day` per day waited. A
plan gives each location it uses one departure day.

Once every location's departure day is fixed the instance is an ordinary one (a location
waiting `d` days holds more units and its shipment costs `d` days of waiting more), so the
optimal plan is the best of the ordinary optima over the combinations of departure days.
The combinations are few (locations with incoming units for the order are few, and
`MAX_COMBINATIONS` caps them) and each is solved exactly by the one engine; they are tried
by increasing total days waited, and a later one must strictly beat the best so far, so
among equal plans the one that waits least wins.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .errors import InvalidInstance
from .instance import Instance, Location

# Combinations of departure days solved for one plan, at most.
MAX_COMBINATIONS = 64


@dataclass(frozen=True, slots=True)
class Departures:
    """The departure days a location with incoming units for the order may ship on."""

    index: int  # position of the location in the instance
    days: tuple[int, ...]  # 0 (now) first, then each day some of its incoming units arrive


def departures(instance: Instance) -> list[Departures]:
    """Return, per location that can wait for something the order asks for, its departure
    days; raise `InvalidInstance` when their combinations exceed `MAX_COMBINATIONS`."""
    wanted = {line.sku for line in instance.lines if line.quantity > 0}
    out = []
    combinations = 1
    for index, location in enumerate(instance.locations):
        if not location.ships or not location.incoming:
            continue
        days = sorted(
            {
                item.days
                for item in location.incoming
                if item.sku in wanted and item.quantity > 0 and item.days > 0
            }
        )
        if not days:
            continue
        combinations *= len(days) + 1
        if combinations > MAX_COMBINATIONS:
            raise InvalidInstance(
                f"locations[{index}].incoming",
                f"the departure days of the locations with incoming units make more than"
                f" {MAX_COMBINATIONS} combinations",
            )
        out.append(Departures(index, (0, *days)))
    return out


def combinations(options: Sequence[Departures]) -> list[tuple[int, ...]]:
    """Return every choice of one departure day per location, least total days first (then
    in the order of the locations and their days, so the order is deterministic)."""
    choices = list(itertools.product(*(option.days for option in options)))
    choices.sort(key=lambda days: (sum(days), days))
    return choices


def with_departures(
    instance: Instance, options: Sequence[Departures], days: Sequence[int]
) -> Instance:
    """Return the ordinary instance in which each location of `options` leaves on its day of
    `days`: the units arrived by then join its stock, and its shipment costs the wait."""
    if not any(days):
        return instance
    locations = list(instance.locations)
    per_day = instance.policy.wait_cost_per_day
    for option, day in zip(options, days, strict=True):
        if day:
            locations[option.index] = waiting_location(locations[option.index], day, per_day)
    return replace(instance, locations=tuple(locations))


def waiting_location(location: Location, day: int, per_day: float) -> Location:
    """Return `location` as it stands when its shipment leaves on `day`."""
    stock = dict(location.stock)
    for item in location.incoming:
        if 0 < item.days <= day and item.quantity > 0:
            stock[item.sku] = stock.get(item.sku, 0) + item.quantity
    return replace(
        location,
        shipment_cost=location.shipment_cost + per_day * day,
        stock=stock,
        incoming=(),
    )
