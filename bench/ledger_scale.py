"""The stock ledger at scale: the stock page, the reconciliation and the alert sweep over N
ledger rows (default 50,000,000), with the movement time indexed by a B-tree (as shipped)
and by a BRIN index instead.

Sets up its own database (<name>_bench_ledger beside the one in DATABASE_URL, dropped at
the end unless --keep): SKUS x LOCATIONS stock rows, and N movements spread over DAYS days in
time order, as an append-only ledger is written (6 in 10 shipments, 3 receipts, 1
adjustment), loaded with generate_series in chunks with the secondary indexes dropped, then
indexed. Each stock row's on_hand is set to its ledger's sum, so the reconciliation finds
no drift and reads everything. Then, for each index layout:

* the stock page of one product (`/console/products/<sku>/stock/`, its latest movements),
* the admin's ledger list (`/admin/inventory/stockmovement/`, newest first),
* one day of the ledger (what the sourcing lab reads of a period),
* the reconciliation (`inventory.reconcile.stock_drift`, every row of the ledger),
* the alert sweep (`alerts.services.alerts_sweep`, days of cover over the shipments window),
* writing 100,000 more movements (the cost of the indexes on the write path),

each run --repeat times after one warm-up, median printed, with the indexes' sizes. A case
that runs past --case-timeout seconds is cancelled by PostgreSQL (statement_timeout) and
printed as such, once: at 50M rows a page that cannot use an index would take minutes a run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/ledger_scale.py [--rows N]
        [--keep] [--reuse] [--layouts btree,brin] [--repeat 3] [--case-timeout 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_ledger"
TABLE = "inventory_stockmovement"
CHUNK = 5_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000_000, help="ledger rows")
    parser.add_argument("--skus", type=int, default=5_000)
    parser.add_argument("--locations", type=int, default=50)
    parser.add_argument("--days", type=int, default=730, help="days the ledger spans")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--case-timeout", type=float, default=300, help="seconds a case may run (0: no limit)"
    )
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Measure the database a --keep run left (no seeding); with --keep, keep it again.",
    )
    parser.add_argument(
        "--layouts", default="btree,brin", help="the index layouts to measure, in this order"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("ledger_scale: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    if args.reuse:
        bench_url = urlunsplit(urlsplit(url)._replace(path=urlsplit(url).path + SUFFIX))
    else:
        bench_url = database_create(url, SUFFIX)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
            # DEBUG: static files from the apps (no collectstatic); queries are kept in
            # memory, capped by Django at 9,000.
            "DEBUG": "1",
            "ALLOWED_HOSTS": "testserver",
            "LOG_LEVEL": "WARNING",
        }
    )
    print(
        f"ledger_scale: {args.rows:,} movements, {args.skus * args.locations:,} stock rows,"
        f" {args.days} days; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    try:
        import django

        django.setup()
        if not args.reuse:
            seed(args)
        if args.case_timeout:
            # Every connection opened from here on (libpq reads PGOPTIONS) cancels a statement
            # past the limit; the seeding's own connection is closed so the cases use a new one.
            from django.db import connections

            connections.close_all()
            os.environ["PGOPTIONS"] = f"-c statement_timeout={int(args.case_timeout * 1000)}"
        for layout in args.layouts.split(","):
            if layout == "brin":
                brin_instead_of_btree()
            elif layout == "btree":
                btree_instead_of_brin()
            else:
                parser.error(f"unknown layout {layout!r} (btree, brin)")
            print(f"\n[{layout}] indexes on {TABLE}:")
            for name, size in index_sizes():
                print(f"    {name}: {size}")
            measure(args)
    finally:
        from django.db import connections

        connections.close_all()
        os.environ.pop("PGOPTIONS", None)
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def seed(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from alerts.models import StockRule
    from inventory.models import Location, Product

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    Product.objects.bulk_create(
        (Product(sku=f"BENCH-{n:05d}", name=f"Bench product {n}") for n in range(args.skus)),
        batch_size=5000,
    )
    Location.objects.bulk_create(
        Location(code=f"B{n:03d}", name=f"Bench location {n}", lat=48.85, lon=2.35)
        for n in range(args.locations)
    )
    # Days of cover needs a lead time: the sweep then reads the shipments window.
    StockRule.objects.create(scope="global", threshold=5, lead_time_days=7)
    get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO inventory_stocklevel
                   (product_id, location_id, on_hand, allocated, reserved, safety_stock,
                    updated_at)
               SELECT p.id, l.id, 0, 0, 0, 0, now()
               FROM inventory_product p CROSS JOIN inventory_location l ORDER BY p.id, l.id"""
        )
        cursor.execute("SELECT min(id), count(*) FROM inventory_stocklevel")
        first_stock, stock_rows = cursor.fetchone()
        # Loaded as a restore would be: secondary indexes built once at the end, foreign
        # keys not checked row by row (every stock id exists by construction).
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexname NOT LIKE '%%pkey'",
            [TABLE],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            # A unique constraint's index goes with the constraint; built again below as a
            # unique index, which holds the same rule.
            cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS "{name}"')
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        loaded = time.perf_counter()
        for start in range(0, args.rows, CHUNK):
            end = min(args.rows, start + CHUNK)
            cursor.execute(
                f"""INSERT INTO {TABLE}
                       (stock_id, kind, quantity, on_hand_after, reference, reason, operation,
                        created_at)
                   SELECT %(first)s + (g * 7919) %% %(stocks)s,
                          CASE WHEN k < 6 THEN 'shipment'
                               WHEN k < 9 THEN 'receipt' ELSE 'adjustment' END,
                          CASE WHEN k < 6 THEN -(1 + g %% 3)
                               WHEN k < 9 THEN 5 + g %% 7
                               ELSE CASE WHEN g %% 2 = 0 THEN 1 ELSE -1 END END,
                          0, 'bench', '', md5(g::text)::uuid,
                          now() - %(days)s * interval '1 day'
                              + (g::float8 / %(rows)s) * %(days)s * interval '1 day'
                   FROM generate_series(%(start)s::bigint, %(end)s::bigint - 1) g,
                        -- A stock row's movements are every `stocks`-th g: its kinds cycle
                        -- with g / stocks (g %% 10 would give each row one kind only).
                        LATERAL (SELECT (g / %(stocks)s) %% 10 AS k) kind""",
                {
                    "first": first_stock,
                    "stocks": stock_rows,
                    "days": args.days,
                    "rows": args.rows,
                    "start": start,
                    "end": end,
                },
            )
            print(f"    loaded {end:,} rows ({time.perf_counter() - loaded:.0f} s)", flush=True)
        cursor.execute("SET session_replication_role = origin")
        built = time.perf_counter()
        for _name, definition in indexes:
            cursor.execute(definition)
        print(f"    indexes built in {time.perf_counter() - built:.0f} s", flush=True)
        # Balances that agree with the ledger: the reconciliation reads it all, finds nothing.
        cursor.execute(
            f"""UPDATE inventory_stocklevel s SET on_hand = m.total
                FROM (SELECT stock_id, SUM(quantity) AS total FROM {TABLE} GROUP BY stock_id) m
                WHERE m.stock_id = s.id"""
        )
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


def created_at_btree() -> str | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s"
            " AND indexdef LIKE '%%btree (created_at)'",
            [TABLE],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def btree_instead_of_brin() -> None:
    """The layout as shipped: a B-tree on the movement time (built again if a BRIN run left
    the database without it)."""
    from django.db import connection

    if created_at_btree():
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("DROP INDEX IF EXISTS movement_time_brin")
        cursor.execute(f"CREATE INDEX movement_time_btree ON {TABLE} (created_at)")
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
        cursor.execute("RESET statement_timeout")
    print(f"\nB-tree built in {time.perf_counter() - started:.1f} s (BRIN dropped)")


def brin_instead_of_btree() -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        name = created_at_btree()
        if name:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET statement_timeout = 0")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS movement_time_brin ON {TABLE} USING brin (created_at)"
        )
        # Takes away the dead rows the write case of the B-tree layout left.
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
        cursor.execute("RESET statement_timeout")
    print(f"\nBRIN built in {time.perf_counter() - started:.1f} s (B-tree on created_at dropped)")


def index_sizes() -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid))"
            " FROM pg_stat_user_indexes WHERE relname = %s ORDER BY indexrelname",
            [TABLE],
        )
        rows = cursor.fetchall()
        cursor.execute(f"SELECT pg_size_pretty(pg_relation_size('{TABLE}'))")
        rows.append(("(table)", cursor.fetchone()[0]))
    return rows


class TimedOut(Exception):
    """A case PostgreSQL cancelled at the statement timeout."""


def timed(
    work: Callable[[], object], repeat: int, after: Callable[[], object] | None = None
) -> tuple[float, float]:
    """Run once to warm up, then `repeat` times (`after` untimed after each run); return the
    median and the worst, in ms. Raise TimedOut if a run is cancelled."""
    runs = []
    for run in range(repeat + 1):
        started = time.perf_counter()
        _cancellable(work)
        if run:
            runs.append((time.perf_counter() - started) * 1000)
        if after:
            after()
    return statistics.median(runs), max(runs)


def _cancellable(work: Callable[[], object]) -> None:
    from django.db import OperationalError, connection

    try:
        work()
    except OperationalError as error:
        if "statement timeout" not in str(error):
            raise
        connection.close()  # a request's cancelled statement may leave its transaction open
        raise TimedOut from error


def measure(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from alerts.services import alerts_sweep
    from inventory.models import StockMovement
    from inventory.reconcile import stock_drift

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    sku = f"BENCH-{args.skus // 2:05d}"

    def page(path: str) -> Callable[[], object]:
        def get() -> object:
            answer = client.get(path)
            assert answer.status_code == 200, answer.status_code
            return answer

        return get

    day = timezone.now() - timezone.timedelta(days=args.days // 2)

    def one_day() -> object:
        return StockMovement.objects.filter(
            created_at__gte=day, created_at__lt=day + timezone.timedelta(days=1)
        ).count()

    def drift() -> object:
        found = stock_drift()
        assert not found, found[:3]
        return found

    def write() -> object:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {TABLE}
                       (stock_id, kind, quantity, on_hand_after, reference, reason, operation,
                        created_at)
                   SELECT s.id, 'adjustment', 1, 0, 'bench-write', '', gen_random_uuid(), now()
                   FROM generate_series(1, 100000) g
                   JOIN inventory_stocklevel s ON s.id = (SELECT min(id) FROM inventory_stocklevel)
                       + g % {args.skus * args.locations}"""
            )
        return None

    def unwrite() -> None:
        # Untimed: the rows go (the next layout starts with a VACUUM that takes their dead
        # tuples away; a VACUUM after each run would scan every index of the 50M-row table).
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE reference = 'bench-write'")

    cases: list[tuple[str, Callable[[], object], Callable[[], object] | None]] = [
        ("stock page of one product", page(f"/console/products/{sku}/stock/"), None),
        ("admin ledger list, newest first", page("/admin/inventory/stockmovement/"), None),
        ("one day of the ledger (count)", one_day, None),
        ("reconciliation (whole ledger)", drift, None),
        ("alert sweep", lambda: alerts_sweep(), None),
        ("insert 100,000 movements in one statement", write, unwrite),
    ]
    for label, work, after in cases:
        try:
            median, worst = timed(work, args.repeat, after)
        except TimedOut:
            print(
                f"    {label}: over {args.case_timeout:g} s, cancelled"
                f" (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            continue
        print(
            f"    {label}: median {median:,.1f} ms, worst {worst:,.1f} ms"
            f" (load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )


if __name__ == "__main__":
    raise SystemExit(main())
