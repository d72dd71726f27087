"""The one availability rule: how many units of a stock row can be sold, and how many of
them a channel may sell after its buffer.

    available = max(0, on_hand - allocated - safety_stock - (reserved - reserved_expired))

`reserved` is a counter that basket reservations (orders.Reservation) raise while their
lines are active; the periodic sweep lowers it a minute or so after they expire. In
between, their units must already be sellable: an expired reservation never counts. So
the rule subtracts `reserved` less `reserved_expired`, the units of the row's active
reservation lines whose `expires_at` has passed.

Why a corrected counter rather than a sum of the unexpired lines on every read: nearly
every stock row holds no reservation (all of them, in a shop that does not use
reservations), and for those the counter answers with no subquery at all. The SQL below
evaluates the correction only where `reserved > 0` (the CASE short-circuits on PostgreSQL
and SQLite), as one probe of the partial index (stock, expires_at) WHERE active. So the
capture path, which reads availability for every order, costs what a plain column
arithmetic costs. The clock is the database's, the same one Django's `Now()` reads, so
every process and every query judges expiry alike.

Every reader uses what is here: the raw SQL (`available_sql`) in sourcing, the
availability endpoint, delivery quotes and the alert rules; the ORM expressions
(`available_expression`) in the admin, the API's stock list and the console; the Python
twin (`units_available`) on rows already read. tests/inventory/test_availability.py
proves the SQL and the twin agree.

The channel buffer is held back from the per-location figures the same way in Python
(`buffer_apply`, for the answers that list locations) and in SQL (`buffer_kept_sql` and
`buffer_total_sql`, for the network totals of the alert rules).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.apps import apps
from django.db import connection
from django.db.models import ExpressionWrapper, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.expressions import Case, Combinable, When
from django.db.models.functions import Coalesce, Greatest, Now


class ReservedLine(Protocol):
    """What the rule reads of one reservation line of a stock row."""

    quantity: int
    expires_at: datetime
    active: bool


def units_expired(lines: Iterable[ReservedLine], *, now: datetime) -> int:
    """Return the units of active reservation lines whose time has passed at `now`."""
    return sum(line.quantity for line in lines if line.active and line.expires_at <= now)


def units_available(
    *, on_hand: int, allocated: int, reserved: int, safety_stock: int, reserved_expired: int
) -> int:
    """Return the sellable units of a stock row from its figures: the rule, in Python."""
    return max(0, on_hand - allocated - safety_stock - (reserved - reserved_expired))


def reservation_lines():
    """Return the model of the reservation lines that hold units of stock rows.

    Found through the stock row's reverse relation: inventory reads the rows that point
    at its stock without importing the app that owns them.
    """
    stock = apps.get_model("inventory", "StockLevel")
    return stock._meta.get_field("reservation_lines").related_model


def db_now_sql() -> str:
    """Return the database's clock as `Now()` renders it, for raw SQL with parameters."""
    if connection.vendor == "sqlite":
        # Django keeps SQLite datetimes as UTC text, "YYYY-MM-DD HH:MM:SS.ffffff".
        return "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now')"
    # The statement's time, not the transaction's: a long transaction sees expiry as it is.
    return "STATEMENT_TIMESTAMP()"


def expired_sql(stock_column: str) -> str:
    """Return the units of active, expired reservation lines of the row `stock_column` as
    SQL (0 when none)."""
    table = reservation_lines()._meta.db_table
    return (
        f"COALESCE((SELECT SUM(rl.quantity) FROM {table} rl"
        f" WHERE rl.stock_id = {stock_column} AND rl.active"
        f" AND rl.expires_at <= {db_now_sql()}), 0)"
    )


def available_sql(alias: str = "s") -> str:
    """Return the rule for the stock row `alias` as SQL, not clamped at 0 (a `%` is doubled,
    for use with parameters).

    Callers that keep only rows above 0 need no clamp; `available_clamped_sql` has one.
    """
    return _available_sql(connection.vendor, alias)


# Built once per backend: order capture asks for it twice per order.
@cache
def _available_sql(vendor: str, alias: str) -> str:
    return (
        f"({alias}.on_hand - {alias}.allocated - {alias}.safety_stock"
        f" - CASE WHEN {alias}.reserved = 0 THEN 0"
        f" ELSE {alias}.reserved - {expired_sql(f'{alias}.id')} END)"
    )


def available_clamped_sql(alias: str = "s") -> str:
    """Return the rule for the stock row `alias` as SQL: never below 0."""
    function = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    return f"{function}({available_sql(alias)}, 0)"


def expired_expression() -> Combinable:
    """Return `reserved_expired` of the query's stock row as an ORM expression."""
    units = (
        reservation_lines()
        .objects.filter(stock=OuterRef("pk"), active=True, expires_at__lte=Now())
        .order_by()
        .values("stock")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return Case(
        When(reserved=0, then=Value(0)),
        default=Coalesce(Subquery(units, output_field=IntegerField()), Value(0)),
        output_field=IntegerField(),
    )


def available_expression(expired: Combinable | None = None) -> Combinable:
    """Return the rule for the query's stock row as an ORM expression: never below 0.

    Pass the `reserved_expired` annotation when the query has one, so that the subquery
    is not written twice.
    """
    expired = expired_expression() if expired is None else expired
    return Greatest(
        ExpressionWrapper(
            F("on_hand") - F("allocated") - F("safety_stock") - (F("reserved") - expired),
            output_field=IntegerField(),
        ),
        Value(0),
        output_field=IntegerField(),
    )


def reserved_expired(stock_ids: Collection[int]) -> dict[int, int]:
    """Return `{stock id: units}` of active, expired reservation lines on these stock rows
    (only rows that have some)."""
    ids = sorted(set(stock_ids))
    if not ids:
        return {}
    table = reservation_lines()._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rl.stock_id, SUM(rl.quantity) FROM {table} rl"
            f" WHERE rl.stock_id IN ({marks}) AND rl.active"
            f" AND rl.expires_at <= {db_now_sql()} GROUP BY rl.stock_id",
            ids,
        )
        return {stock_id: int(units) for stock_id, units in cursor.fetchall()}


# The channel buffer. Hundredths of a percent keep the arithmetic in integers, alike in
# Python and SQL: 12.5 % -> 1250 basis points.


def basis_points(percent: Decimal | int) -> int:
    return int(Decimal(percent) * 100)


def buffer_kept(units: int, *, percent: Decimal | int) -> int:
    """Return what a location may sell of `units` (not below 0) once it keeps back
    `floor(units * percent / 100)`."""
    return units - units * basis_points(percent) // 10_000


def buffer_total(kept: int, *, units: int) -> int:
    """Return what the network may sell once `units` are held back from its `kept` total."""
    return max(0, kept - units)


def buffer_apply(by_code: dict[str, int], *, percent: Decimal | int, units: int) -> dict[str, int]:
    """Hold a channel's buffer back from one SKU's sellable units per location.

    * the percentage per location: each location keeps back `buffer_kept` of its own;
    * the units once per SKU, from the network total: `units` are taken from the
      locations with the fewest sellable units first (ties by code), the thin shelves
      where the last units are likeliest to be gone already.

    So the locations sum to `buffer_total` of what they kept. Return only the locations
    left with something to sell.
    """
    after = {code: buffer_kept(n, percent=percent) for code, n in by_code.items()}
    remaining = units
    for code in sorted(after, key=lambda c: (after[c], c)):
        if remaining <= 0:
            break
        taken = min(after[code], remaining)
        after[code] -= taken
        remaining -= taken
    return {code: n for code, n in after.items() if n > 0}


def buffer_kept_sql(units: str, percent: str) -> str:
    """Return `buffer_kept` as SQL over the expressions `units` (not below 0) and `percent`.

    Integer division truncates toward zero on PostgreSQL and SQLite alike, which is the
    floor for the non-negative products here. ROUND first: SQLite keeps a decimal as a
    float, and 12.55 * 100 would truncate to 1254.
    """
    return f"({units} - ({units} * CAST(ROUND({percent} * 100) AS INTEGER)) / 10000)"


def buffer_total_sql(kept: str, units: str) -> str:
    """Return `buffer_total` as SQL over the expressions `kept` and `units`."""
    return f"(CASE WHEN {kept} - {units} > 0 THEN {kept} - {units} ELSE 0 END)"
