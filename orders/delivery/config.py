"""The delivery settings the promise reads on every quote and every order, kept in memory.

Calendars, carrier services with their bands, and prices change a few times a year and are
read on the order hot path, so each process keeps one snapshot of them (five queries to
load) instead of reading them per order:

* a change saved in this process (admin, services, tests) clears the snapshot at once
  (`delivery_config_clear`, connected to the models' save and delete signals in
  `orders.apps`);
* other processes (the other web workers, the Celery workers) reload it after
  `OMS_DELIVERY_CONFIG_TTL` seconds; a location that is missing from a snapshot (created
  since) makes it reload at once.
"""

from __future__ import annotations

import threading
import time as clock
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings

from inventory.models import Location, LocationClosedDay, weekdays_parse
from orders.delivery.promise import Calendar, Days, Point, Service
from orders.models import CarrierService, DeliveryPrice, TransitBand

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Price:
    """What one method costs the customers of one channel."""

    price: Decimal
    free_above: Decimal | None
    currency: str

    def for_basket(self, value: Decimal) -> Decimal:
        """Return the price of a basket worth `value`: free from `free_above`."""
        if self.free_above is not None and value >= self.free_above:
            return ZERO
        return self.price


@dataclass(frozen=True, slots=True)
class Place:
    """A location as the promise sees it."""

    pk: int
    code: str
    name: str
    lat: float
    lon: float
    ships: bool
    click_and_collect: bool
    calendar: Calendar
    postcode: str = ""
    country: str = ""
    # Where it is as `Point` measures: a quote ranks every store by distance.
    point: Point = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "point", Point.of(self.lat, self.lon))


@dataclass
class DeliveryConfig:
    places: dict[int, Place]
    services: dict[str, tuple[Service, ...]]  # by method
    prices: dict[tuple[int, str], Price]  # by (channel id, method)
    loaded_at: float = field(default_factory=clock.monotonic)
    _pickup_stores: list[Place] | None = field(default=None, init=False, repr=False)

    def pickup_stores(self) -> list[Place]:
        if self._pickup_stores is None:
            self._pickup_stores = [p for p in self.places.values() if p.click_and_collect]
        return self._pickup_stores

    def price(self, channel_id: int, method: str) -> Price | None:
        return self.prices.get((channel_id, method))


_lock = threading.Lock()
_current: DeliveryConfig | None = None


def delivery_config(*, need: set[int] | frozenset[int] = frozenset()) -> DeliveryConfig:
    """Return the delivery settings, loading them when stale or missing a location in `need`."""
    global _current
    config = _current
    if (
        config is None
        or clock.monotonic() - config.loaded_at > settings.OMS_DELIVERY_CONFIG_TTL
        or not need <= config.places.keys()
    ):
        config = _load()
        with _lock:
            _current = config
    return config


def delivery_config_clear(**_signal_kwargs) -> None:
    """Forget the snapshot: the next read loads the settings again."""
    global _current
    with _lock:
        _current = None


def _load() -> DeliveryConfig:
    closed: dict[int, set[date]] = defaultdict(set)
    # All of them, past ones too: a quote may be asked for another moment (`at`), and a
    # network has a few dozen closed days a year per location.
    for location_id, day in LocationClosedDay.objects.values_list("location_id", "date"):
        closed[location_id].add(day)
    places = {}
    for row in Location.objects.filter(active=True).values(
        "pk",
        "code",
        "name",
        "lat",
        "lon",
        "ships",
        "click_and_collect",
        "time_zone",
        "cutoff_time",
        "processing_days",
        "closed_weekdays",
        "postcode",
        "country",
    ):
        places[row["pk"]] = Place(
            pk=row["pk"],
            code=row["code"],
            name=row["name"],
            lat=row["lat"],
            lon=row["lon"],
            ships=row["ships"],
            click_and_collect=row["click_and_collect"],
            calendar=Calendar(
                time_zone=row["time_zone"],
                cutoff=row["cutoff_time"],
                processing_days=row["processing_days"],
                days=Days(
                    weekdays_parse(row["closed_weekdays"]),
                    frozenset(closed.get(row["pk"], ())),
                ),
            ),
            postcode=row["postcode"].replace(" ", "").upper(),
            country=row["country"].upper(),
        )
    bands: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for service_id, max_km, days in TransitBand.objects.order_by("max_km").values_list(
        "service_id", "max_km", "days"
    ):
        bands[service_id].append((float(max_km), days))
    services: dict[str, list[Service]] = defaultdict(list)
    for pk, code, method, weekdays in CarrierService.objects.filter(active=True).values_list(
        "pk", "code", "method", "closed_weekdays"
    ):
        if bands.get(pk):
            services[method].append(
                Service(code, method, tuple(bands[pk]), Days(weekdays_parse(weekdays)))
            )
    prices = {
        (channel_id, method): Price(price, free_above, currency)
        for channel_id, method, price, free_above, currency in DeliveryPrice.objects.filter(
            active=True
        ).values_list("channel_id", "method", "price", "free_above", "currency")
    }
    return DeliveryConfig(
        places=places,
        services={method: tuple(found) for method, found in services.items()},
        prices=prices,
    )
