"""Stock figures for the dashboard: availability by location, and low stock at a place.

Availability over the whole network reads every stock row (millions), so it is kept as
a snapshot in the cache, refreshed by a periodic task; a person limited to a few
locations gets their rows counted live, which their index makes cheap.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from console import charts
from inventory.availability import available_expression
from inventory.models import Location, StockLevel

SNAPSHOT_KEY = "console:stock-by-location"
# Longer than the refresh period (settings: CELERY_BEAT_SCHEDULE), so that it never lapses
# while the beat runs.
SNAPSHOT_TTL = 30 * 60
# Available to sell at or below this many units: the store's low-stock list.
LOW_STOCK_UNITS = 2
LOW_STOCK_SHOWN = 20
LOCATIONS_SHOWN = 15


def _by_location(location_ids: frozenset[int] | None) -> list[dict]:
    rows = StockLevel.objects.all()
    if location_ids is not None:
        rows = rows.filter(location_id__in=location_ids)
    # The rule of inventory.availability, never below 0: a row's free units are its
    # available ones, and it is sellable when it has any.
    free = available_expression()
    totals = {
        row["location_id"]: row
        for row in rows.order_by()
        .values("location_id")
        .annotate(
            skus=Count("id"),
            units=Sum("on_hand"),
            free=Sum(free),
            sellable=Sum(
                Case(When(GreaterThan(free, 0), then=Value(1)), default=Value(0)),
                output_field=IntegerField(),
            ),
        )
    }
    places = Location.objects.filter(pk__in=list(totals)).values_list("pk", "code", "name")
    result = []
    for pk, code, name in places:
        row = totals[pk]
        result.append(
            {
                "code": code,
                "name": name,
                "skus": row["skus"],
                "on_hand": row["units"] or 0,
                "available": row["free"] or 0,
                "sellable": row["sellable"],
                "percent": round(100 * row["sellable"] / row["skus"], 1) if row["skus"] else 0,
            }
        )
    return result


def stock_by_location_refresh() -> dict:
    """Count the whole network's stock by location and keep it as the snapshot."""
    snapshot = {"at": timezone.now(), "locations": _by_location(None)}
    cache.set(SNAPSHOT_KEY, snapshot, SNAPSHOT_TTL)
    return snapshot


def stock_by_location(*, scope: frozenset[int] | None) -> dict:
    """Return stock by location: the share of SKUs available to sell, worst places first."""
    if scope is None:
        snapshot = cache.get(SNAPSHOT_KEY) or stock_by_location_refresh()
        at, locations = snapshot["at"], snapshot["locations"]
    else:
        at, locations = timezone.now(), _by_location(scope)
    worst = sorted(locations, key=lambda row: (row["percent"], row["code"]))[:LOCATIONS_SHOWN]
    skus = sum(row["skus"] for row in locations)
    return {
        "at": at,
        "live": scope is not None,
        "locations": worst,
        "count": len(locations),
        "skus": skus,
        "on_hand": sum(row["on_hand"] for row in locations),
        "available": sum(row["available"] for row in locations),
        "percent": round(100 * sum(row["sellable"] for row in locations) / skus, 1) if skus else 0,
        "chart": charts.bars(
            [(row["code"], row["percent"]) for row in worst], unit=" %", decimals=1
        ),
    }


def low_stock(*, scope: frozenset[int], limit: int = LOW_STOCK_SHOWN) -> list[StockLevel]:
    """Return the active products with the least available at the person's locations."""
    return list(
        StockLevel.objects.filter(location_id__in=scope, product__active=True)
        .with_available()
        .filter(available_qty__lte=LOW_STOCK_UNITS)
        .select_related("product", "location")
        .order_by("available_qty", "product__sku", "location__code")[:limit]
    )
