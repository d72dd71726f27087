"""Benchmark the stock count import against the floor, on PostgreSQL.

Sets up its own database (<name>_bench_counts beside the one in DATABASE_URL,
dropped at the end unless --keep): 1,000 SKUs x 100 locations, each stock row
with a receipt in its ledger. Then, in alternating rounds, applies a fresh
100,000-row count file with

* the project's import: `stock_count_file_apply`, the service the admin, the
  API and `manage.py import_stock_counts` use (decode, parse, validate, lock in
  pk order, one UPDATE, one INSERT ... SELECT, record the import), and
* the floor: parse, COPY into a temp table, one INSERT ... SELECT for the
  ledger and one UPDATE ... FROM for the balances, nothing else,

each in a child process, so that its peak resident memory is its own. Prints
rows/s for both, the ratio, and the peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/import_counts.py
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKUS = 1_000
LOCATIONS = 100
from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_counts"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("import_counts: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_create(url, SUFFIX)
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
        "DEBUG": "0",
    }
    os.environ.update(env)
    try:
        setup_data()
        results: dict[str, list[dict]] = {"project": [], "floor": []}
        workdir = ROOT / "bench" / "out"
        workdir.mkdir(parents=True, exist_ok=True)
        rng = random.Random(20261127)
        for number in range(args.rounds):
            for path in ("floor", "project"):
                file = workdir / f"counts-{number}-{path}.csv"
                file.write_bytes(count_file(rng))
                settle()
                output = subprocess.run(
                    [sys.executable, __file__, "--child", path, str(file)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                results[path].append(result)
                speed = result["rows"] / result["seconds"]
                print(
                    f"round {number + 1} {path:8} {result['rows']:,} rows in "
                    f"{result['seconds']:.2f} s = {speed:,.0f} rows/s, "
                    f"peak RSS {result['maxrss_mb']:.0f} MB"
                )
                file.unlink()
        report(results)
        drift = ledger_drift()
        print(f"ledger check: {drift} stock row(s) where on_hand != sum of movements")
    finally:
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def report(results: dict[str, list[dict]]) -> None:
    """Summarise: the fastest run of each path (the one least disturbed by anything else
    on the machine), the median, and the ratio of the two paths within each round."""
    best = {path: max(r["rows"] / r["seconds"] for r in runs) for path, runs in results.items()}
    median = {
        path: statistics.median(r["rows"] / r["seconds"] for r in runs)
        for path, runs in results.items()
    }
    memory = {path: max(r["maxrss_mb"] for r in runs) for path, runs in results.items()}
    base = {path: max(r["baseline_mb"] for r in runs) for path, runs in results.items()}
    ratios = [
        floor["seconds"] / project["seconds"]
        for floor, project in zip(results["floor"], results["project"], strict=True)
    ]
    print()
    print(f"{'path':8} {'best rows/s':>12} {'median rows/s':>14} {'peak RSS':>9} {'at start':>9}")
    for path in ("project", "floor"):
        print(
            f"{path:8} {best[path]:>12,.0f} {median[path]:>14,.0f} "
            f"{memory[path]:>6.0f} MB {base[path]:>6.0f} MB"
        )
    print(
        f"ratio project/floor: best {best['project'] / best['floor']:.2f}, "
        f"per round {', '.join(f'{r:.2f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.2f}; goal: at least 0.50)"
    )
    print(f"peak memory of the project's import: {memory['project']:.0f} MB (goal: under 300 MB)")


# --- The database --------------------------------------------------------------------------


def django_setup() -> None:
    import django

    django.setup()


def setup_data() -> None:
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import Location, Product

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    Product.objects.bulk_create(
        Product(sku=f"BENCH-{n:05d}", name=f"Bench product {n}") for n in range(SKUS)
    )
    Location.objects.bulk_create(
        Location(code=f"B{n:03d}", name=f"Bench store {n}", lat=48.85, lon=2.35)
        for n in range(LOCATIONS)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_stocklevel "
            "(product_id, location_id, on_hand, allocated, reserved, safety_stock, updated_at) "
            "SELECT p.id, l.id, 20, 0, 0, 0, now() FROM inventory_product p "
            "CROSS JOIN inventory_location l ORDER BY p.id, l.id"
        )
        cursor.execute(
            "INSERT INTO inventory_stockmovement (stock_id, kind, quantity, on_hand_after, "
            "reference, reason, operation, created_at) "
            "SELECT id, 'receipt', 20, 20, 'bench', '', gen_random_uuid(), "
            "now() - interval '1 day' FROM inventory_stocklevel ORDER BY id"
        )
        # Autocommit (no transaction here): a real, settled table, as in production.
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    print(
        f"setup: {SKUS:,} SKUs x {LOCATIONS} locations = {SKUS * LOCATIONS:,} stock rows "
        f"in {time.perf_counter() - started:.1f} s"
    )


def settle() -> None:
    """Start each run from the same state: tables vacuumed, no checkpoint pending, so that
    neither path pays for the other's dead rows and WAL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_stocklevel, inventory_stockmovement")
        cursor.execute("CHECKPOINT")
    connection.close()


def count_file(rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("sku,location,quantity\r\n")
    for product in range(SKUS):
        for location in range(LOCATIONS):
            out.write(f"BENCH-{product:05d},B{location:03d},{rng.randint(0, 40)}\r\n")
    return out.getvalue().encode()


def ledger_drift() -> int:
    django_setup()
    from inventory.reconcile import stock_drift

    return len(stock_drift())


# --- One timed import, in a process of its own ----------------------------------------------


def child(path: str, file: str) -> int:
    django_setup()
    from django.db import connection

    data = Path(file).read_bytes()
    connection.ensure_connection()
    baseline = maxrss_mb()
    profile = os.environ.get("BENCH_PROFILE") == "1"
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    rows = project_import(data) if path == "project" else floor_import(data)
    seconds = time.perf_counter() - started
    if profile:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "maxrss_mb": maxrss_mb(),
                "baseline_mb": baseline,
            }
        )
    )
    return 0


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def project_import(data: bytes) -> int:
    from inventory.models import StockCountImport
    from inventory.services.counts import stock_count_file_apply

    outcome = stock_count_file_apply(
        data=data, actor=None, source=StockCountImport.Source.COMMAND, file_name="bench.csv"
    )
    assert not outcome.already_applied
    return outcome.applied


def floor_import(data: bytes) -> int:
    """The least a set-based import does: no checks, no locks, no record."""
    from django.db import connection, transaction

    reader = csv.reader(io.StringIO(data.decode()))
    next(reader)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE floor_stage (sku text, code text, quantity integer) ON COMMIT DROP"
        )
        rows = 0
        with cursor.cursor.copy("COPY floor_stage (sku, code, quantity) FROM STDIN") as copy:
            for sku, code, quantity in reader:
                copy.write_row((sku, code, int(quantity)))
                rows += 1
        cursor.execute("ANALYZE floor_stage")
        cursor.execute(
            "INSERT INTO inventory_stockmovement (stock_id, kind, quantity, on_hand_after, "
            "reference, reason, operation, counted_at, created_at) "
            "SELECT s.id, 'count', f.quantity - s.on_hand, f.quantity, 'floor', '', "
            "gen_random_uuid(), now(), now() FROM floor_stage f "
            "JOIN inventory_product p ON p.sku = f.sku "
            "JOIN inventory_location l ON l.code = f.code "
            "JOIN inventory_stocklevel s ON s.product_id = p.id AND s.location_id = l.id"
        )
        cursor.execute(
            "UPDATE inventory_stocklevel s SET on_hand = f.quantity, updated_at = now() "
            "FROM floor_stage f JOIN inventory_product p ON p.sku = f.sku "
            "JOIN inventory_location l ON l.code = f.code "
            "WHERE s.product_id = p.id AND s.location_id = l.id"
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
