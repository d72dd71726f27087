"""Stock that moves between locations and stock that suppliers will deliver.

Transfers hold their units at the location they leave from (`allocated`), take them out of
its `on_hand` when they ship (ledger `transfer_out`) and count them in `in_transit` at the
location they go to until they are received there (ledger `transfer_in`). Purchase orders
count their open units in `incoming` at the location they will be delivered to until they
are received (ledger `receipt`).

The transfers and purchase orders themselves belong to the supply app above; these services
move only the counters and the ledger. The caller holds its own document's lock; the stock
rows are locked here, in pk order, after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from inventory.exceptions import UnitsShort
from inventory.locks import lock_stock
from inventory.models import StockLevel, StockMovement
from inventory.moved import stock_changed
from inventory.notify import stock_freed
from inventory.selectors import rows_reserved_settle
from inventory.services.counters import counter_move
from inventory.services.ledger import movement_apply

Units = Mapping[int, int]  # {product id: units}


def _positive(units: Units) -> dict[int, int]:
    return {product_id: n for product_id, n in sorted(units.items()) if n > 0}


def transfer_units_hold(*, location_id: int, units: Units) -> None:
    """Hold `units` at the location a transfer leaves from, all or none: raise `UnitsShort`
    naming every product whose available units do not cover it."""
    units = _positive(units)
    rows = lock_stock([(product_id, location_id) for product_id in units])
    rows_reserved_settle(rows.values())
    short = [
        (product_id, wanted, rows[(product_id, location_id)].available)
        for product_id, wanted in units.items()
        if rows[(product_id, location_id)].available < wanted
    ]
    if short:
        raise UnitsShort(short)
    held = {rows[(p, location_id)].pk: n for p, n in units.items()}
    counter_move(column="allocated", units_by_stock=held, now=timezone.now())
    stock_changed(held)


def transfer_units_release(*, location_id: int, units: Units) -> None:
    """Give a cancelled transfer's held units back to available at its `from` location."""
    units = _positive(units)
    rows = lock_stock([(product_id, location_id) for product_id in units])
    released = {rows[(p, location_id)].pk: -n for p, n in units.items()}
    if released:
        counter_move(column="allocated", units_by_stock=released, now=timezone.now())
        stock_freed(product_ids=units)
        stock_changed(released)


def transfer_units_ship(
    *,
    source_id: int,
    destination_id: int,
    units: Units,
    reference: str,
    actor: AbstractBaseUser | None = None,
) -> uuid.UUID:
    """Ship held units: out of `on_hand` and `allocated` at the source (ledger
    `transfer_out`), into `in_transit` at the destination. Return the ledger operation."""
    units = _positive(units)
    places = [(p, source_id) for p in units] + [(p, destination_id) for p in units]
    rows = lock_stock(places)
    now = timezone.now()
    operation = uuid.uuid4()
    for product_id, n in units.items():
        movement_apply(
            stock=rows[(product_id, source_id)],
            kind=StockMovement.Kind.TRANSFER_OUT,
            quantity=-n,
            reference=reference,
            actor=actor,
            operation=operation,
            at=now,
        )
    counter_move(
        column="allocated",
        units_by_stock={rows[(p, source_id)].pk: -n for p, n in units.items()},
        now=now,
    )
    counter_move(
        column="in_transit",
        units_by_stock={rows[(p, destination_id)].pk: n for p, n in units.items()},
        now=now,
    )
    stock_changed(row.pk for row in rows.values())
    return operation


def transfer_units_arrive(
    *,
    location_id: int,
    received: Units,
    settled: Units,
    reference: str,
    actor: AbstractBaseUser | None = None,
) -> None:
    """Receive a transfer at its destination: `received` units into `on_hand` (ledger
    `transfer_in`), `settled` units out of `in_transit` (those received, and those found
    missing when the transfer is closed; units arriving after it was closed settle none)."""
    _units_arrive(
        location_id=location_id,
        received=received,
        settled=settled,
        settles="in_transit",
        kind=StockMovement.Kind.TRANSFER_IN,
        reference=reference,
        actor=actor,
    )


def incoming_move(*, location_id: int, units: Units) -> None:
    """Add signed `units` to `incoming` at a location (a purchase order opened, changed or
    cancelled)."""
    units = {p: n for p, n in sorted(units.items()) if n}
    rows = lock_stock([(p, location_id) for p in units])
    if units:
        counter_move(
            column="incoming",
            units_by_stock={rows[(p, location_id)].pk: n for p, n in units.items()},
            now=timezone.now(),
        )


def purchase_units_receive(
    *,
    location_id: int,
    received: Units,
    settled: Units,
    reference: str,
    actor: AbstractBaseUser | None = None,
) -> None:
    """Receive a purchase order's units: `received` into `on_hand` (ledger `receipt`),
    `settled` out of `incoming` (the received units the order still expected; units over
    what it ordered settle none)."""
    _units_arrive(
        location_id=location_id,
        received=received,
        settled=settled,
        settles="incoming",
        kind=StockMovement.Kind.RECEIPT,
        reference=reference,
        actor=actor,
    )


def _units_arrive(
    *,
    location_id: int,
    received: Units,
    settled: Units,
    settles: str,
    kind: str,
    reference: str,
    actor: AbstractBaseUser | None,
) -> None:
    """Units expected at a location arrive: `received` onto the shelf through the ledger,
    `settled` out of the counter that expected them (`in_transit` or `incoming`)."""
    received, settled = _positive(received), _positive(settled)
    rows = lock_stock([(p, location_id) for p in {*received, *settled}])
    now = timezone.now()
    operation = uuid.uuid4()
    if settled:
        counter_move(
            column=settles,
            units_by_stock={rows[(p, location_id)].pk: -n for p, n in settled.items()},
            now=now,
        )
    for product_id, n in received.items():
        movement_apply(
            stock=rows[(product_id, location_id)],
            kind=kind,
            quantity=n,
            reference=reference,
            actor=actor,
            operation=operation,
            at=now,
        )
    stock_changed(row.pk for row in rows.values())


def incoming_add_from(*, select: str, params: Sequence[Any] = ()) -> int:
    """Add to `incoming` the units of many places at once (a file of purchase orders):
    `select` is a query of `(product_id, location_id, units)` rows over the caller's staged
    tables, a place possibly on several rows. The missing stock rows are created, all are
    found once, then one UPDATE locks them in pk order and adds each place's sum. Return the
    places moved."""
    if connection.vendor != "postgresql":
        return _incoming_add_sqlite(select=select, params=params)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS incoming_add")
        cursor.execute(
            "CREATE TEMP TABLE incoming_add ON COMMIT DROP AS"
            " SELECT x.product_id, x.location_id, SUM(x.units) AS units"
            f" FROM ({select}) x GROUP BY x.product_id, x.location_id HAVING SUM(x.units) <> 0"
            # In the order of the stock rows' unique index: the look-ups walk it once.
            " ORDER BY x.product_id, x.location_id",
            list(params),
        )
        places = cursor.rowcount
        if not places:
            return 0
        # Counted, so that the planner probes the stock rows' unique index once per place
        # rather than hashing all of them.
        cursor.execute("ANALYZE incoming_add")
        # The rows found stay in the database, in pk order: 50,000 ids sent back and forth
        # as arrays cost the client more than the server its work on them.
        cursor.execute("DROP TABLE IF EXISTS incoming_row")
        find = (
            "CREATE TEMP TABLE incoming_row ON COMMIT DROP AS"
            f" SELECT s.id, a.units FROM incoming_add a JOIN {table} s"
            " ON s.product_id = a.product_id AND s.location_id = a.location_id ORDER BY s.id"
        )
        cursor.execute(find)
        if cursor.rowcount < places:
            # Rare: places without a stock row, created before any stock row is locked, in
            # place order, so that two files creating rows for the same places wait rather
            # than deadlock; a row a concurrent writer created first is not an error.
            cursor.execute(
                f"INSERT INTO {table} (product_id, location_id, on_hand, allocated, reserved,"
                " safety_stock, updated_at)"
                " SELECT a.product_id, a.location_id, 0, 0, 0, 0, %s FROM incoming_add a"
                f" WHERE NOT EXISTS (SELECT 1 FROM {table} s WHERE s.product_id = a.product_id"
                " AND s.location_id = a.location_id)"
                " ORDER BY a.product_id, a.location_id"
                " ON CONFLICT (product_id, location_id) DO NOTHING",
                [now],
            )
            cursor.execute("DROP TABLE incoming_row")
            cursor.execute(find)
        # One pass that locks and updates, in pk order as every stock writer locks
        # (inventory.locks): the ids go as arrays sorted by id (unnest keeps their order),
        # and with sequential and bitmap scans ruled out for this statement, every plan
        # left reads the stock rows through the primary key in that order (an index scan, a
        # nested loop or a merge join over it, or a hash join probed in that order). A
        # separate SELECT ... FOR UPDATE would visit and log each row twice. The scans
        # ruled out price the arrays' own scans out of all proportion: no compiling (jit)
        # for a statement that runs once.
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_bitmapscan'),"
            " current_setting('jit')"
        )
        previous = cursor.fetchone()
        settings = "SELECT set_config('enable_seqscan', %s, true),"
        settings += " set_config('enable_bitmapscan', %s, true), set_config('jit', %s, true)"
        cursor.execute(settings, ["off", "off", "off"])
        cursor.execute(
            f"UPDATE {table} s SET incoming = s.incoming + v.units, updated_at = %s"
            " FROM unnest(ARRAY(SELECT id FROM incoming_row ORDER BY id),"
            "             ARRAY(SELECT units FROM incoming_row ORDER BY id)) AS v (id, units)"
            " WHERE s.id = ANY(ARRAY(SELECT id FROM incoming_row ORDER BY id)) AND s.id = v.id",
            [now],
        )
        moved = cursor.rowcount
        cursor.execute(settings, list(previous))
        if moved != places:
            raise RuntimeError(f"incoming moved on {moved} of {places} stock rows")
        cursor.execute("DROP TABLE incoming_row, incoming_add")
    return places


def _incoming_add_sqlite(*, select: str, params: Sequence[Any]) -> int:
    """SQLite holds the database's write lock: nothing to lock row by row."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS incoming_add")
        cursor.execute(
            "CREATE TEMP TABLE incoming_add (product_id BIGINT NOT NULL, location_id BIGINT"
            " NOT NULL, units INTEGER NOT NULL, PRIMARY KEY (product_id, location_id))"
        )
        cursor.execute(
            "INSERT INTO incoming_add (product_id, location_id, units)"
            " SELECT x.product_id, x.location_id, SUM(x.units)"
            f" FROM ({select}) x GROUP BY x.product_id, x.location_id HAVING SUM(x.units) <> 0",
            list(params),
        )
        places = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {table} (product_id, location_id, on_hand, allocated, reserved,"
            " safety_stock, updated_at)"
            " SELECT a.product_id, a.location_id, 0, 0, 0, 0, %s FROM incoming_add a"
            " WHERE true ON CONFLICT (product_id, location_id) DO NOTHING",
            [now],
        )
        cursor.execute(
            f"UPDATE {table} SET incoming = {table}.incoming + a.units, updated_at = %s"
            f" FROM incoming_add a WHERE {table}.product_id = a.product_id"
            f" AND {table}.location_id = a.location_id",
            [now],
        )
        cursor.execute("DROP TABLE incoming_add")
    return places
