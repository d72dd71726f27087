"""A small network with calendars, carriers and prices, for the delivery tests."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orders.models import CarrierService, Channel, DeliveryPrice, TransitBand
from tests.factories import ProductFactory, StoreFactory
from tests.orders.helpers import stocked, warehouse

PARIS_TZ = ZoneInfo("Europe/Paris")
# A Monday two to three weeks ahead: `at` must be within a year of the real clock.
_today = date.today()
MONDAY = _today + timedelta(days=(7 - _today.weekday()) % 7 + 14)


def day(n: int) -> date:
    """Return the day `n` days after MONDAY (4: Friday, 5: Saturday, 7: next Monday)."""
    return MONDAY + timedelta(days=n)


def iso(n: int) -> str:
    return day(n).isoformat()


CUSTOMER = {"postcode": "75004", "country": "FR", "lat": 48.8566, "lon": 2.3522}


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS_TZ)


def at(day: date, hour: int, minute: int = 0) -> str:
    return paris(day, hour, minute).isoformat()


@pytest.fixture
def net(db):
    """Two warehouses (Mon-Fri, cutoff 16:00, one processing day) and three click & collect
    stores (closed Sunday, cutoff 12:00): Rivoli also ships (same day), Opera does not."""
    tee = ProductFactory(sku="TEE", price=Decimal("20.00"))
    mug = ProductFactory(sku="MUG", price=Decimal("15.00"))
    calendar = {"closed_weekdays": "6,7", "cutoff_time": time(16, 0), "processing_days": 1}
    dc_paris = warehouse("DC-PARIS", lat=48.9754, lon=2.5165, **calendar)
    dc_lyon = warehouse("DC-LYON", lat=45.7110, lon=4.9310, **calendar)
    store = {"closed_weekdays": "7", "cutoff_time": time(12, 0), "processing_days": 0}
    rivoli = StoreFactory(
        code="ST-RIVOLI", name="Paris Rivoli", lat=48.8606, lon=2.3376, ships=True, **store
    )
    opera = StoreFactory(
        code="ST-OPERA", name="Paris Opera", lat=48.8720, lon=2.3316, ships=False, **store
    )
    lyon = StoreFactory(code="ST-LYON", name="Lyon", lat=45.7606, lon=4.8590, ships=False, **store)
    stocked(tee, dc_paris, 10)
    stocked(mug, dc_lyon, 10)
    for shop in (rivoli, opera):
        stocked(tee, shop, 2)
        stocked(mug, shop, 2)
    stocked(tee, lyon, 2)
    standard = CarrierService.objects.create(code="colissimo", name="Colissimo", method="standard")
    TransitBand.objects.create(service=standard, max_km=300, days=2)
    TransitBand.objects.create(service=standard, max_km=800, days=3)
    express = CarrierService.objects.create(
        code="chrono", name="Chronopost", method="express", closed_weekdays="6,7"
    )
    TransitBand.objects.create(service=express, max_km=1000, days=1)
    web = Channel.objects.get(code="web")
    for method, price, free in (
        ("standard", "4.90", "60.00"),
        ("express", "9.90", None),
        ("same_day", "14.90", None),
        ("click_and_collect", "0.00", None),
    ):
        DeliveryPrice.objects.create(
            channel=web, method=method, price=Decimal(price), free_above=free and Decimal(free)
        )
    return {
        "tee": tee,
        "mug": mug,
        "dc_paris": dc_paris,
        "dc_lyon": dc_lyon,
        "rivoli": rivoli,
        "opera": opera,
        "lyon": lyon,
        "web": web,
    }
