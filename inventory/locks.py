"""The one place that locks stock rows. Always in primary-key order, so two
transactions that lock overlapping sets wait for each other instead of deadlocking.

The locks are taken with plain SQL through the connection's cursor: order capture
locks rows on every request, and the ORM's compilation of the query cost more than
PostgreSQL's work on it. On SQLite, which has no `FOR UPDATE`, the write lock of the
whole database (`transaction_mode=IMMEDIATE`) does the same job.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from core.sql import instances
from inventory.models import Location, StockLevel
from inventory.selectors import Candidates, Place

_STOCK = StockLevel._meta.db_table
_LOCATION = Location._meta.db_table
_FIELDS = tuple(field.attname for field in StockLevel._meta.concrete_fields)
_COLUMNS = ", ".join(f"s.{StockLevel._meta.get_field(name).column}" for name in _FIELDS)


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
    places = sorted(set(places))
    if not places:
        return {}
    if create:
        stock_rows_ensure(places)
    pairs = ", ".join(["(%s, %s)"] * len(places))
    return _locked(
        f"SELECT {_COLUMNS} FROM {_STOCK} s WHERE (s.product_id, s.location_id) IN ({pairs})",
        [value for place in places for value in place],
    )


def lock_stock_at(
    *, product_ids: Collection[int], candidates: Candidates
) -> dict[Place, StockLevel]:
    """Lock every existing stock row of these products at the candidate locations, in pk
    order, whatever units they hold: nobody can then change what a plan is made on."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return {}
    condition, params = candidates.sql()
    marks = ", ".join(["%s"] * len(product_ids))
    return _locked(
        f"SELECT {_COLUMNS} FROM {_STOCK} s JOIN {_LOCATION} l ON l.id = s.location_id"
        f" WHERE s.product_id IN ({marks}) AND {condition}",
        [*product_ids, *params],
    )


def lock_stock_at_and(
    *, stock_ids: Collection[int], product_ids: Collection[int], candidates: Candidates
) -> dict[Place, StockLevel]:
    """Lock these stock rows and every row of these products at the candidate locations,
    together, in pk order: a transaction that gives back held units (a reservation) and then
    allocates holds everything its plan may touch before it touches anything."""
    ids, product_ids = sorted(set(stock_ids)), sorted(set(product_ids))
    condition, params = candidates.sql()
    where = [f"(s.product_id IN ({', '.join(['%s'] * len(product_ids))}) AND {condition})"]
    if not product_ids:
        where, params = [], []
    if ids:
        where.append(f"s.id IN ({', '.join(['%s'] * len(ids))})")
        params = [*params, *ids]
    if not where:
        return {}
    return _locked(
        f"SELECT {_COLUMNS} FROM {_STOCK} s JOIN {_LOCATION} l ON l.id = s.location_id"
        f" WHERE {' OR '.join(where)}",
        [*product_ids, *params] if product_ids else params,
    )


def lock_stock_ids(stock_ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock stock rows by primary key, in pk order."""
    ids = sorted(set(stock_ids))
    if not ids:
        return {}
    rows = StockLevel.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def _locked(select: str, params: list) -> dict[Place, StockLevel]:
    """Run `select` (of `_COLUMNS`, from stock rows `s`), locking the rows in pk order."""
    select += " ORDER BY s.id"
    if connection.features.has_select_for_update:
        # OF s: a join must not lock the location rows too (every order reads them).
        of = " OF s" if connection.features.has_select_for_update_of else ""
        select += f" FOR UPDATE{of}"
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        rows = cursor.fetchall()
    return {(row.product_id, row.location_id): row for row in instances(StockLevel, _FIELDS, rows)}


def _places_q(places: set[Place]) -> Q:
    by_location: dict[int, list[int]] = {}
    for product_id, location_id in places:
        by_location.setdefault(location_id, []).append(product_id)
    return reduce(
        or_,
        (Q(location_id=loc, product_id__in=products) for loc, products in by_location.items()),
    )


def lock_stock_selected(select: str, params: Sequence[Any] = ()) -> int:
    """Create the missing stock rows of the (product_id, location_id) pairs that `select`
    yields (a query over the caller's staged rows) and lock them all in pk order, in two
    statements however many there are; return how many rows are locked.

    A file of thousands of lines locks its rows without a round trip of parameters: the
    pairs never leave the database.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_STOCK} (product_id, location_id, on_hand, allocated, reserved, "
            "safety_stock, updated_at) "
            "SELECT x.product_id, x.location_id, 0, 0, 0, 0, %s FROM "
            f"(SELECT DISTINCT product_id, location_id FROM ({select}) y) x "
            f"WHERE NOT EXISTS (SELECT 1 FROM {_STOCK} s WHERE s.product_id = x.product_id "
            "AND s.location_id = x.location_id) "
            "ORDER BY x.product_id, x.location_id "
            "ON CONFLICT (product_id, location_id) DO NOTHING",
            [now, *params],
        )
        lock = ""
        if connection.features.has_select_for_update:
            lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
            lock = lock or " FOR UPDATE"
        cursor.execute(
            f"SELECT count(*) FROM (SELECT s.id FROM {_STOCK} s "
            f"JOIN (SELECT DISTINCT product_id, location_id FROM ({select}) y) x "
            "ON s.product_id = x.product_id AND s.location_id = x.location_id "
            f"ORDER BY s.id{lock}) locked",
            list(params),
        )
        return cursor.fetchone()[0]
