"""The few SQL spellings that differ between PostgreSQL and SQLite, for the rule queries."""

from __future__ import annotations

from django.db import connection


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
    """Available units of a stock row (API.md): never below 0."""
    return greatest(
        f"{alias}.on_hand - {alias}.allocated - {alias}.reserved - {alias}.safety_stock", "0"
    )


def when(value) -> object:
    """Adapt a datetime parameter for a raw statement as the ORM stores it on this backend."""
    return connection.ops.adapt_datetimefield_value(value)
