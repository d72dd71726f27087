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

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

import msgspec
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


def rows_converted(
    columns: Sequence[tuple[type[Model], str]], rows: Iterable[Sequence[Any]]
) -> list[Sequence[Any]]:
    """Return rows of plain SQL (joins welcome) whose values are the `columns`, each a model
    and one of its fields (attname), converted as the ORM converts them on this backend:
    nothing on PostgreSQL, datetimes and decimals on SQLite."""
    db = connections[DEFAULT_DB_ALIAS]
    converters = []
    for i, (model, name) in enumerate(columns):
        if _converted(model, (name,), db.vendor):
            col = _field(model, name).get_col(model._meta.db_table)
            functions = [*db.ops.get_db_converters(col), *col.field.get_db_converters(db)]
            converters.append((i, col, functions))
    if not converters:
        return list(rows)
    return [_convert(row, converters, db) for row in rows]


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


def pks_reserve(counts: Mapping[type[Model], int]) -> dict[type[Model], list[int]]:
    """Draw `{model: n}` primary keys from the tables' own sequences, in one round trip.

    Rows whose keys are known before they are written can name each other (an allocation
    its line and request, a timeline entry its request) and go to the database together in
    one statement (`Writes`). The keys are the database's: a row written later without one
    never collides with them.
    """
    wanted = [(model, n) for model, n in counts.items() if n > 0]
    if not wanted:
        return {}
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return {model: _sqlite_pks(db, model, n) for model, n in wanted}
    draws: list[str] = []
    params: list[Any] = []
    for model, n in wanted:
        name = _sequences.get(model)
        if name is not None:
            draws.append("ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s)), NULL")
            params += [name, n]
        else:
            # The first draw for a table also answers its sequence's name, for the next ones.
            table, key = model._meta.db_table, column(model._meta.pk)
            draws.append(
                "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s))"
                " FROM generate_series(1, %s)), pg_get_serial_sequence(%s, %s)"
            )
            params += [table, key, n, table, key]
    with db.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(draws)}", params)
        row = cursor.fetchone()
    drawn = {}
    for i, (model, _) in enumerate(wanted):
        pks, name = row[2 * i], row[2 * i + 1]
        if name is not None:
            _sequences[model] = name
        drawn[model] = list(pks)
    return drawn


# The sequence behind each table's key, read with the first keys drawn from it.
_sequences: dict[type[Model], str] = {}


def _sqlite_pks(db: BaseDatabaseWrapper, model: type[Model], n: int) -> list[int]:
    # SQLite (the embedded mode) hands AUTOINCREMENT keys above the larger of sqlite_sequence
    # and the table's highest key; moving the sequence on claims the keys in between. The
    # write takes SQLite's lock for the rest of the transaction, so no one else draws them.
    table = model._meta.db_table
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"
            f" COALESCE((SELECT MAX({connection.ops.quote_name(column(model._meta.pk))})"
            f" FROM {connection.ops.quote_name(table)}), 0))",
            [table],
        )
        (last,) = cursor.fetchone()
        cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last + n])
    return list(range(last + 1, last + n + 1))


class Writes:
    """Statements of one operation gathered, then sent as one: on PostgreSQL one
    data-modifying `WITH` whose parts all run, once; elsewhere one after the other.

    One statement instead of one per table saves a round trip, a parse and a plan per
    table, on both sides: on the order path each cost more than the rows it wrote. On
    PostgreSQL each table's rows travel as one JSON parameter read by
    `json_populate_recordset`, so the statement's text does not change with the number
    of rows: the driver converts it once per process and PostgreSQL plans it once per
    connection, however big the basket. The parts run on one snapshot and must not depend
    on each other's effects: rows name each other by keys drawn beforehand
    (`pks_reserve`), and foreign keys are checked at commit (Django creates them
    deferrable, initially deferred).
    """

    def __init__(self, pks: Mapping[type[Model], list[int]] | None = None) -> None:
        # (SQL for PostgreSQL's WITH, its parameters, plain SQL, its parameters)
        self.parts: list[tuple[str, list[Any], str, list[Any]]] = []
        self.inserted: list[Sequence[Model]] = []
        # Keys drawn for the rows to come, by model (`pks_reserve`), taken in turn.
        self.pks = {model: list(reversed(keys)) for model, keys in (pks or {}).items()}

    def insert(self, objs: Sequence[Model]) -> None:
        """Write `objs` (one model). Rows without a key take the next ones drawn for their
        model, set on them now, as `rows_insert` would; for a model with none drawn, the
        database gives them (not read back: nothing names those rows)."""
        if not objs:
            return
        db = connections[DEFAULT_DB_ALIAS]
        model = type(objs[0])
        drawn = self.pks.get(model)
        if drawn is not None:
            for obj in objs:
                if obj.pk is None:
                    if not drawn:
                        raise ValueError(f"more {model.__name__} rows than keys drawn")
                    obj.pk = drawn.pop()
        with_pk = objs[0].pk is not None
        if any((obj.pk is not None) != with_pk for obj in objs):
            raise ValueError("write rows with keys and rows without them apart")
        fields = _fields_written(model, with_pk)
        auto = _auto_now(model)
        rows = []
        for obj in objs:
            row = [getattr(obj, field.attname) for field, _, _ in fields]
            if auto:
                for i, (field, _, _) in enumerate(fields):
                    if row[i] is None and field in auto:
                        row[i] = field.pre_save(obj, add=True)
            rows.append(row)
        if db.vendor == "postgresql":
            names = [name for _, _, name in fields]
            document = _JSON.encode([dict(zip(names, row, strict=True)) for row in rows])
            self.parts.append((_insert_json_sql(model, with_pk), [document.decode()], "", []))
        else:
            params = [
                value if plain or value is None else field.get_db_prep_save(value, db)
                for row in rows
                for (field, plain, _), value in zip(fields, row, strict=True)
            ]
            self.parts.append(("", [], _insert_values_sql(model, len(objs), with_pk), params))
        self.inserted.append(objs)

    def add(self, sql: str, params: Sequence[Any], *, plain: tuple[str, Sequence[Any]]) -> None:
        """Add a statement of its own with no RETURNING: `sql` for PostgreSQL's WITH (a
        constant text, its rows in a JSON parameter, as `insert` does), `plain` for other
        databases."""
        self.parts.append((sql, list(params), plain[0], list(plain[1])))

    def run(self) -> None:
        """Send what was gathered; the rows written count as saved."""
        if not self.parts:
            return
        db = connections[DEFAULT_DB_ALIAS]
        with db.cursor() as cursor:
            if db.vendor == "postgresql":
                sql = ", ".join(f"w{i} AS ({part[0]})" for i, part in enumerate(self.parts))
                cursor.execute(f"WITH {sql} SELECT 1", [p for part in self.parts for p in part[1]])
            else:
                for _, _, plain, params in self.parts:
                    cursor.execute(plain, params)
        for objs in self.inserted:
            for obj in objs:
                obj._state.adding = False
                obj._state.db = db.alias
        self.parts, self.inserted = [], []


_JSON = msgspec.json.Encoder()


@cache
def _fields_written(model: type[Model], with_pk: bool) -> list[tuple[Field[Any, Any], bool, str]]:
    """Return the columns `Writes.insert` writes: (field, value goes as it is, column)."""
    pk = model._meta.pk
    assert pk is not None
    fields = [(pk, True), *_writable(model)] if with_pk else _writable(model)
    return [(field, plain, column(field)) for field, plain in fields]


@cache
def _insert_json_sql(model: type[Model], with_pk: bool) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for _, _, name in _fields_written(model, with_pk))
    table = quote(model._meta.db_table)
    return (
        f"INSERT INTO {table} ({names})"
        f" SELECT {names} FROM json_populate_recordset(NULL::{table}, %s)"
    )


@cache
def _insert_values_sql(model: type[Model], count: int, with_pk: bool) -> str:
    quote = connection.ops.quote_name
    fields = _fields_written(model, with_pk)
    row = f"({', '.join(['%s'] * len(fields))})"
    return (
        f"INSERT INTO {quote(model._meta.db_table)}"
        f" ({', '.join(quote(name) for _, _, name in fields)})"
        f" VALUES {', '.join([row] * count)}"
    )
