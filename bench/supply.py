"""Benchmark supply on PostgreSQL, in one run over one network:

* the replenishment proposal (`supply.services.replenishment.replenishment_run`, set-based:
  every store row under its reorder line, its cheapest source with spare units, proposals
  and their lines written), in a child process so that its peak RSS is its own; goal under
  5 s and 300 MB;
* a 50,000-line purchase-order (ASN) file import beside a COPY floor: the project
  (`supply.imports.purchase_orders_import`, every row checked, all or nothing, `incoming`
  moved on the locked stock rows) and the floor (parse, COPY into a temporary table, then one
  INSERT ... SELECT each for the purchase orders and their lines: no checks, no locks, no
  counters); goal: the project at least half the floor's speed.

Each figure comes with the load average and the CPU time of the PostgreSQL backend that did
the work (from /proc: the server must run on this machine), fairer than the wall clock on a
loaded machine.

The network, in a database of its own (`<name>_bench_supply`, dropped at the end): 10,000
SKUs at 200 locations (10 warehouses, 190 stores across France) = 2,000,000 stock rows.
Warehouses hold 0 to 599 units of each SKU; one store row in ten sells (20 to 59 units
shipped over the 28-day window) and holds 0 to 39; the ledger holds a receipt for every unit
on hand and the shipments, so the reconciliation at the end finds nothing. Run:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms .venv/bin/python bench/supply.py

`--keep` keeps the network; `--only asn` then runs the ASN rounds alone on it, a new file each
run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import database_create, database_drop, database_url  # noqa: E402

SUFFIX = "_bench_supply"
SKUS = 10_000
LOCATIONS = 200
WAREHOUSES = 10
LINES = 50_000
LINES_PER_ORDER = 10
HEADER = "number,supplier,location,expected_on,sku,quantity\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only",
        choices=("asn",),
        help="Only the ASN import, on the network a run with --keep left (kept again).",
    )
    args = parser.parse_args()
    if args.child:
        return replenish_child()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("supply: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_url(url, SUFFIX) if args.only else database_create(url, SUFFIX)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
            "DEBUG": "0",
        }
    )
    try:
        if args.only:
            return asn_rounds(args.rounds, tag=f"{int(time.time()) % 100_000:05d}")
        setup_data()
        for label in ("replenishment, first run", "replenishment, again (replaces its proposals)"):
            output = subprocess.run(
                [sys.executable, __file__, "--child"], capture_output=True, text=True
            )
            if output.returncode:
                print(output.stderr[-5000:])
                return 1
            result = json.loads(output.stdout.strip().splitlines()[-1])
            print(
                f"{label}: {result['seconds']:.2f} s (goal < 5 s; PostgreSQL backend CPU "
                f"{result['backend_cpu']:.2f} s), peak RSS "
                f"{result['rss_mb']:.0f} MB (goal < 300 MB; after Django setup "
                f"{result['baseline_mb']:.0f} MB); {result['short_rows']:,} store rows short "
                f"by {result['short_units']:,} units; {result['proposals']:,} transfers "
                f"proposed, {result['lines']:,} lines, {result['units']:,} units; "
                f"{result['unmet_units']:,} units unmet; load average {result['load']:.1f}"
            )
        asn_rounds(args.rounds)
        from inventory.reconcile import stock_drift

        print(f"reconcile: {len(stock_drift())} drifting balance(s)")
    finally:
        if not (args.keep or args.only):
            from django.db import connections

            connections.close_all()
            database_drop(url, SUFFIX)
    return 0


def asn_rounds(rounds: int, *, tag: str = "") -> int:
    """The ASN file imported by the floor and by the project, alternately, `rounds` times;
    `tag` keeps the numbers of a run on a kept network apart from the earlier runs'."""
    import django

    django.setup()
    rng = random.Random(20261203 + int(tag or 0))
    best = {"project": float("inf"), "floor": float("inf")}
    cpu = dict(best)
    for number in range(rounds):
        for path in ("floor", "project"):
            text = asn_file(rng, prefix=f"R{tag}{number}{path[0].upper()}")
            settle()
            backend, client = backend_cpu(), time.process_time()
            started = time.perf_counter()
            rows = project_import(text) if path == "project" else floor_import(text)
            seconds = time.perf_counter() - started
            backend, client = backend_cpu() - backend, time.process_time() - client
            best[path] = min(best[path], seconds)
            cpu[path] = min(cpu[path], backend + client)
            print(
                f"round {number + 1} {path:8} {rows:,} lines in {seconds:.2f} s = "
                f"{rows / seconds:,.0f} lines/s; CPU: PostgreSQL backend {backend:.2f} s, "
                f"this process {client:.2f} s; peak RSS {maxrss_mb():.0f} MB; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
    print(
        f"best: project {best['project']:.2f} s, floor {best['floor']:.2f} s; "
        f"project speed / floor speed = {best['floor'] / best['project']:.2f} (goal >= 0.5); "
        f"by CPU (backend + this process, best of each) {cpu['floor'] / cpu['project']:.2f}"
    )
    return 0


def setup_data() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import Location, Product

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    Product.objects.bulk_create(
        (Product(sku=f"BENCH-{n:05d}", name=f"Bench product {n}") for n in range(SKUS)),
        batch_size=5_000,
    )
    rng = random.Random(7)
    Location.objects.bulk_create(
        Location(
            code=f"B{n:03d}",
            name=f"Bench {'warehouse' if n < WAREHOUSES else 'store'} {n}",
            kind=Location.Kind.WAREHOUSE if n < WAREHOUSES else Location.Kind.STORE,
            # Across mainland France.
            lat=round(rng.uniform(43.3, 50.9), 4),
            lon=round(rng.uniform(-1.5, 7.5), 4),
            shipment_cost=f"{rng.uniform(3, 9):.2f}",
            cost_per_km=f"{rng.uniform(0.002, 0.02):.4f}",
            unit_cost=f"{rng.uniform(0.1, 0.6):.2f}",
        )
        for n in range(LOCATIONS)
    )
    with connection.cursor() as cursor:
        # One store row in ten sells (a deterministic hash); warehouses hold stock of
        # everything, the selling store rows a little.
        sells = "(p.id * 7919 + l.id * 104729) % 10 = 0"
        cursor.execute(
            f"""INSERT INTO inventory_stocklevel
                   (product_id, location_id, on_hand, allocated, reserved, safety_stock,
                    updated_at)
               SELECT p.id, l.id,
                      CASE WHEN l.kind = 'warehouse' THEN (p.id * 31 + l.id * 17) % 600
                           WHEN {sells} THEN (p.id * 13 + l.id) % 40
                           ELSE 0 END,
                      0, 0, 0, now()
               FROM inventory_product p CROSS JOIN inventory_location l
               ORDER BY p.id, l.id"""
        )
        # The ledger: what was shipped, and a receipt of every unit ever on hand.
        cursor.execute(
            f"""INSERT INTO inventory_stockmovement
                   (stock_id, kind, quantity, on_hand_after, reference, reason, operation,
                    created_at)
               SELECT s.id, 'shipment', -(20 + (s.id * 13) % 40), s.on_hand, 'bench', '',
                      gen_random_uuid(), now() - (1 + s.id % 27) * interval '1 day'
               FROM inventory_stocklevel s
               JOIN inventory_location l ON l.id = s.location_id
               JOIN inventory_product p ON p.id = s.product_id
               WHERE l.kind = 'store' AND {sells}"""
        )
        cursor.execute(
            """INSERT INTO inventory_stockmovement
                   (stock_id, kind, quantity, on_hand_after, reference, reason, operation,
                    created_at)
               SELECT s.id, 'receipt', s.on_hand - COALESCE(m.shipped, 0),
                      s.on_hand - COALESCE(m.shipped, 0), 'bench', '', gen_random_uuid(),
                      now() - interval '60 days'
               FROM inventory_stocklevel s
               LEFT JOIN (SELECT stock_id, SUM(quantity) AS shipped
                          FROM inventory_stockmovement GROUP BY stock_id) m
                      ON m.stock_id = s.id
               WHERE s.on_hand - COALESCE(m.shipped, 0) > 0"""
        )
        cursor.execute("VACUUM ANALYZE")
    print(
        f"setup: {SKUS:,} SKUs x {LOCATIONS} locations = {SKUS * LOCATIONS:,} stock rows "
        f"in {time.perf_counter() - started:.1f} s"
    )


def replenish_child() -> int:
    """Time one replenishment run in this fresh process and print its figures as JSON."""
    import django

    django.setup()
    from django.db import connection

    from supply.models import ReplenishmentRun
    from supply.services.replenishment import replenishment_run

    connection.ensure_connection()
    baseline = peak_rss_mb()
    run = ReplenishmentRun.objects.create()
    backend = backend_cpu()
    started = time.perf_counter()
    run = replenishment_run(run_id=run.pk)
    seconds = time.perf_counter() - started
    backend = backend_cpu() - backend
    print(
        json.dumps(
            {
                "seconds": seconds,
                "backend_cpu": backend,
                "rss_mb": peak_rss_mb(),
                "baseline_mb": baseline,
                "load": os.getloadavg()[0],
                **{
                    name: getattr(run, name)
                    for name in (
                        "short_rows",
                        "short_units",
                        "unmet_units",
                        "proposals",
                        "lines",
                        "units",
                    )
                },
            }
        )
    )
    return 0


def backend_cpu() -> float:
    """CPU seconds (user + system) the PostgreSQL backend of this process's connection has
    used, from /proc: under a loaded machine a fairer figure than the wall clock. The
    server must run on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb() -> float:
    """This process's peak resident memory (`VmHWM`): a child's own, not its parent's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return maxrss_mb()


def settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE supply_purchaseorder")
        cursor.execute("VACUUM ANALYZE supply_purchaseorderline")
        cursor.execute("CHECKPOINT")


def asn_file(rng: random.Random, *, prefix: str) -> str:
    out = io.StringIO()
    out.write(HEADER)
    for order in range(LINES // LINES_PER_ORDER):
        location = f"B{rng.randrange(LOCATIONS):03d}"
        day = f"2030-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        for sku in rng.sample(range(SKUS), LINES_PER_ORDER):
            out.write(
                f"{prefix}-{order:06d},Supplier {order % 40},{location},{day},"
                f"BENCH-{sku:05d},{rng.randint(1, 500)}\n"
            )
    return out.getvalue()


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def project_import(text: str) -> int:
    from supply.imports import purchase_orders_import

    outcome = purchase_orders_import(text=text, actor=None)
    assert not outcome.existing
    return outcome.lines


def floor_import(text: str) -> int:
    """The least a set-based import does: no checks, no locks, no counters."""
    from django.db import connection, transaction

    rows = list(csv.reader(io.StringIO(text)))[1:]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE floor_stage (number text, supplier text, code text,"
            " expected_on date, sku text, quantity integer) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY floor_stage FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Written as cancelled: the floor moves no `incoming`, so its orders must expect none.
        cursor.execute(
            "INSERT INTO supply_purchaseorder (number, supplier, location_id, expected_on,"
            " status, created_at, updated_at)"
            " SELECT DISTINCT ON (f.number) f.number, f.supplier, l.id, f.expected_on,"
            " 'cancelled',"
            " now(), now() FROM floor_stage f JOIN inventory_location l ON l.code = f.code"
        )
        cursor.execute(
            "INSERT INTO supply_purchaseorderline (purchase_order_id, product_id, quantity,"
            " received) SELECT po.id, p.id, f.quantity, 0 FROM floor_stage f"
            " JOIN supply_purchaseorder po ON po.number = f.number"
            " JOIN inventory_product p ON p.sku = f.sku"
        )
        return cursor.rowcount


if __name__ == "__main__":
    sys.exit(main())
