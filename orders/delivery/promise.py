"""The delivery promise: dates from calendars. Pure Python, no Django import, so it can be
tested and benchmarked alone.

Words used here:

* an *open day* of a location is a day that is neither one of its weekly closing days nor
  one of its closed dates (public holidays, inventory days);
* an order is *taken* on the day it is placed if that day is open and the time, in the
  location's time zone, is before its cutoff; otherwise on the next open day;
* it is *dispatched* `processing_days` open days after it was taken (0: the same day);
* a carrier delivers `days` of its own delivery days after dispatch, `days` read from the
  band of the distance;
* click & collect is *ready* on the day it is taken at the store: preparing a basket from
  the store's own shelves takes hours, not days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

EARTH_RADIUS_KM = 6371.0088  # as the sourcing engine measures (sourcing/instance.py)
# A calendar open less than one day a year is a configuration error, not a long wait.
MAX_SEARCH_DAYS = 366


class NoOpenDay(ValueError):
    """The calendar has no open day within a year: it cannot promise anything."""


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Point:
    """A place on the globe with the trigonometry `distance_km` needs done once: a quote
    measures the customer against every store."""

    phi: float
    lam: float
    cos_phi: float

    @classmethod
    def of(cls, lat: float, lon: float) -> Point:
        phi = math.radians(lat)
        return cls(phi, math.radians(lon), math.cos(phi))

    def km(self, other: Point) -> float:
        """Return `distance_km` between the two points."""
        a = (
            math.sin((other.phi - self.phi) / 2) ** 2
            + self.cos_phi * other.cos_phi * math.sin((other.lam - self.lam) / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Days:
    """Which days something works: not on `closed_weekdays` (ISO, 1 = Monday) nor on
    `closed_dates`."""

    closed_weekdays: frozenset[int] = frozenset()
    closed_dates: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        return day.isoweekday() not in self.closed_weekdays and day not in self.closed_dates

    def first_open(self, day: date) -> date:
        """Return `day` if it is open, else the next open day."""
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_open(day):
                return day
            day += timedelta(days=1)
        raise NoOpenDay("no open day within a year")

    def add(self, day: date, count: int) -> date:
        """Return the `count`-th open day after `day` (`day` itself when count is 0)."""
        for _ in range(count):
            day = self.first_open(day + timedelta(days=1))
        return day


@dataclass(frozen=True, slots=True)
class Calendar:
    """A location's calendar: its time zone, cutoff, processing days and open days."""

    time_zone: str
    cutoff: time
    processing_days: int = 0
    days: Days = Days()

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("an aware datetime is needed: a naive one has no place in time")
        return at.astimezone(_zone(self.time_zone))

    def before_cutoff(self, at: datetime) -> bool:
        """Return whether `at` is on an open day, before the cutoff, at the location."""
        local = self.local(at)
        return self.days.is_open(local.date()) and local.time() < self.cutoff

    def taken_on(self, at: datetime) -> date:
        """Return the open day an order placed at `at` counts from."""
        local = self.local(at)
        if self.before_cutoff(at):
            return local.date()
        return self.days.first_open(local.date() + timedelta(days=1))

    def dispatch_on(self, at: datetime) -> date:
        return self.days.add(self.taken_on(at), self.processing_days)

    def ready_on(self, at: datetime) -> date:
        """Click & collect from the store's own shelves: ready the day the order is taken."""
        return self.taken_on(at)

    def open_from(self, day: date) -> date:
        """Return the first open day on or after `day` (a transfer arriving at a store)."""
        return self.days.first_open(day)


@dataclass(frozen=True, slots=True)
class Service:
    """A carrier service: transit days by distance band, and the days it delivers on."""

    code: str
    method: str
    bands: tuple[tuple[float, int], ...]  # (up to km, transit days), by distance
    days: Days = Days()

    def transit_days(self, km: float) -> int | None:
        """Return the days of the first band that reaches `km`, or None beyond the last."""
        for max_km, days in self.bands:
            if km <= max_km:
                return days
        return None

    def delivered_on(self, dispatched: date, km: float) -> date | None:
        """Return the delivery day of a parcel dispatched on `dispatched`, `km` away."""
        days = self.transit_days(km)
        return None if days is None else self.days.add(dispatched, days)


def fastest(services, dispatched: date, km: float) -> tuple[Service, date] | None:
    """Return the service that delivers soonest (then by code) and its day, or None."""
    best = None
    for service in services:
        day = service.delivered_on(dispatched, km)
        if day is not None and (best is None or (day, service.code) < (best[1], best[0].code)):
            best = (service, day)
    return best


@dataclass(frozen=True, slots=True)
class Shipment:
    """One parcel of a plan: where it leaves from and how far it goes."""

    calendar: Calendar
    km: float


def shipped_promise(
    shipments: list[Shipment], services, at: datetime
) -> tuple[date, dict[int, tuple[Service, date]]] | None:
    """Return the day the slowest parcel arrives, with each parcel's service and day; None
    when a parcel is beyond every service's reach."""
    chosen: dict[int, tuple[Service, date]] = {}
    for index, shipment in enumerate(shipments):
        best = fastest(services, shipment.calendar.dispatch_on(at), shipment.km)
        if best is None:
            return None
        chosen[index] = best
    if not chosen:
        return None
    return max(day for _, day in chosen.values()), chosen


def transfer_ready_on(
    store: Calendar, sources: list[Shipment], services, at: datetime
) -> date | None:
    """Return when a click & collect basket is ready at `store` when part of it travels
    from other locations (`sources`, each with its distance to the store); the store's
    own units are ready the day it takes the order. None when a transfer cannot be dated."""
    ready = store.ready_on(at)
    if sources:
        shipped = shipped_promise(sources, services, at)
        if shipped is None:
            return None
        ready = max(ready, store.open_from(shipped[0]))
    return ready
