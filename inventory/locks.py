"""The one place that locks stock rows. Always in primary-key order, so two
transactions that lock overlapping sets wait for each other instead of deadlocking."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q

from inventory.models import StockLevel

Place = tuple[int, int]  # (product_id, location_id)


def stock_rows_ensure(places: Iterable[Place]) -> None:
    """Create the missing stock rows; a concurrent creator of the same row is not an error."""
    places = set(places)
    if not places:
        return
    existing = set(
        StockLevel.objects.filter(_places_q(places)).values_list("product_id", "location_id")
    )
    missing = places - existing
    if missing:
        StockLevel.objects.bulk_create(
            [StockLevel(product_id=p, location_id=loc) for p, loc in sorted(missing)],
            ignore_conflicts=True,
        )


def lock_stock(places: Iterable[Place], *, create: bool = True) -> dict[Place, StockLevel]:
    """Lock the stock rows of these (product_id, location_id) places, in pk order."""
    places = set(places)
    if not places:
        return {}
    if create:
        stock_rows_ensure(places)
    rows = StockLevel.objects.select_for_update().filter(_places_q(places)).order_by("pk")
    return {(row.product_id, row.location_id): row for row in rows}


def lock_stock_ids(stock_ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock stock rows by primary key, in pk order."""
    ids = sorted(set(stock_ids))
    if not ids:
        return {}
    rows = StockLevel.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def _places_q(places: set[Place]) -> Q:
    by_location: dict[int, list[int]] = {}
    for product_id, location_id in places:
        by_location.setdefault(location_id, []).append(product_id)
    return reduce(
        or_,
        (Q(location_id=loc, product_id__in=products) for loc, products in by_location.items()),
    )
