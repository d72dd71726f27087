"""The few SQL spellings that differ between PostgreSQL and SQLite, for the rule queries."""

from __future__ import annotations

import json

from django.db import connection

from inventory.availability import available_clamped_sql


def postgres() -> bool:
    return connection.vendor == "postgresql"


def json_object(**pairs: str) -> str:
    """Return an SQL expression building a JSON object from `{key: sql expression}`."""
    function = "jsonb_build_object" if postgres() else "json_object"
    args = ", ".join(f"'{key}', {expression}" for key, expression in pairs.items())
    return f"{function}({args})"


def greatest(*expressions: str) -> str:
    return f"{'GREATEST' if postgres() else 'MAX'}({', '.join(expressions)})"


def least(*expressions: str) -> str:
    return f"{'LEAST' if postgres() else 'MIN'}({', '.join(expressions)})"


def text(expression: str) -> str:
    return f"CAST({expression} AS TEXT)"


def ratio(numerator: str, denominator: str, places: int) -> str:
    """Return numerator / denominator as a decimal rounded to `places` (no integer division)."""
    return f"ROUND(CAST({numerator} AS NUMERIC) * 1.0 / {denominator}, {places})"


def available(alias: str = "s") -> str:
    """Return the sellable units of the stock row `alias`, never below 0: the one rule of
    inventory.availability, so that alerts count what sales can take."""
    return available_clamped_sql(alias)


def when(value) -> object:
    """Adapt a datetime parameter for a raw statement as the ORM stores it on this backend."""
    return connection.ops.adapt_datetimefield_value(value)


def ids_in(column: str, ids: list[int]) -> tuple[str, list]:
    """Return `column IN (ids)` as one parameter, however many ids (no 65,535-mark limit)."""
    if postgres():
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def json_get(column: str, key: str, *, integer: bool = False) -> str:
    """Return an SQL expression reading `key` of a JSON column (text, or an integer)."""
    if not postgres():
        return f"json_extract({column}, '$.{key}')"
    value = f"{column} ->> '{key}'"
    return f"CAST({value} AS INTEGER)" if integer else value
