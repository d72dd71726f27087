"""Model rows in and out through the connection's cursor, for the few hot paths that need it.

The ORM compiles each statement afresh on every call; on the order path that cost several
times what PostgreSQL spends running the statements (docs/performance.md). The
hot paths write their SQL themselves and use these two helpers to stay true to the models:

* `rows_insert` writes instances in one `INSERT ... RETURNING` built once per model and row
  count. It does less than `bulk_create`, on purpose: no signals, no batching, no conflict
  handling. PostgreSQL and SQLite (3.35+) return the ids in row order, as `bulk_create`
  relies on too.
* `instances` turns rows read with plain SQL into instances, converting values as the ORM
  does on this backend (SQLite keeps datetimes and decimals in its own way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateField, Field, Model
from django.db.models.expressions import Col

M = TypeVar("M", bound=Model)

# Types whose Python values the database drivers take as they are.
_PLAIN = frozenset(
    {
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "FloatField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
    }
)


def rows_insert(objs: Sequence[Model]) -> None:
    """INSERT `objs` (instances of one model, without pks) in one statement; set their pks.

    Fields with `auto_now`/`auto_now_add` that are still None get the time now, as on a
    save; set them yourself to give the rows of one operation one time.
    """
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    fields = _writable(model)
    auto = _auto_now(model)
    params: list[Any] = []
    for obj in objs:
        for field, plain in fields:
            value = getattr(obj, field.attname)
            if value is None and field in auto:
                value = field.pre_save(obj, add=True)
            params.append(value if plain or value is None else field.get_db_prep_save(value, db))
    with db.cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs), db.vendor), params)
        ids = cursor.fetchall()
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias


def instances(model: type[M], field_names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[M]:
    """Return instances of `model` from rows of plain SQL, their values those of
    `field_names` (attnames, in the model's field order); the other fields are deferred."""
    db = connections[DEFAULT_DB_ALIAS]
    field_names = tuple(field_names)
    converted = _converted(model, field_names, db.vendor)
    if converted:
        table = model._meta.db_table
        fields = [_field(model, name) for name in field_names]
        converters = [
            (
                i,
                col := fields[i].get_col(table),
                [
                    *db.ops.get_db_converters(col),
                    *fields[i].get_db_converters(db),
                ],
            )
            for i in converted
        ]
        rows = [_convert(row, converters, db) for row in rows]
    return [model.from_db(db.alias, field_names, row) for row in rows]


def column(field: Field[Any, Any]) -> str:
    """Return the column of a concrete field (the stubs allow None, for fields without one)."""
    if field.column is None:
        raise ValueError(f"{field} has no column")
    return field.column


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise ValueError(f"{model.__name__}.{name} is a relation, not a column")
    return field


def _convert(
    row: Sequence[Any],
    converters: list[tuple[int, Col, list[Callable[..., Any]]]],
    db: BaseDatabaseWrapper,
) -> list[Any]:
    values = list(row)
    for i, col, functions in converters:
        for function in functions:
            values[i] = function(values[i], col, db)
    return values


@cache
def _converted(model: type[Model], field_names: tuple[str, ...], vendor: str) -> tuple[int, ...]:
    """Return the positions of the fields whose raw values the ORM converts on `vendor`."""
    table = model._meta.db_table
    found = []
    for i, name in enumerate(field_names):
        field = _field(model, name)
        col = field.get_col(table)
        if connection.ops.get_db_converters(col) or field.get_db_converters(connection):
            found.append(i)
    return tuple(found)


@cache
def _writable(model: type[Model]) -> list[tuple[Field[Any, Any], bool]]:
    """Return the model's columns to write, each with whether its values go as they are."""
    return [
        (field, field.get_internal_type() in _PLAIN)
        for field in model._meta.concrete_fields
        if not field.primary_key and not field.generated
    ]


@cache
def _auto_now(model: type[Model]) -> frozenset[Field[Any, Any]]:
    return frozenset(
        field
        for field in model._meta.concrete_fields
        if isinstance(field, DateField) and (field.auto_now or field.auto_now_add)
    )


@cache
def _insert_sql(model: type[Model], count: int, vendor: str) -> str:
    quote = connection.ops.quote_name
    fields = _writable(model)
    row = f"({', '.join(['%s'] * len(fields))})"
    return (
        f"INSERT INTO {quote(model._meta.db_table)}"
        f" ({', '.join(quote(column(field)) for field, _ in fields)})"
        f" VALUES {', '.join([row] * count)} RETURNING {quote(column(model._meta.pk))}"
    )
