"""Benchmark the alerts sweep over 2,000,000 stock rows on PostgreSQL.

Sets up its own database (<name>_bench_alerts beside the one in DATABASE_URL, dropped at
the end unless --keep): 10,000 SKUs x 200 locations, seeded with generate_series; 1 % of
the rows at or under their threshold, thresholds from a global rule plus 1,000 product
rules and 20 location rules, a network rule, and 200,000 shipments in the velocity window.
Then runs the full sweep (`alerts.services.alerts_sweep`: every rule, set-based) in a child
process, so that its peak resident memory is its own:

* the first sweep, which opens every alert (and writes the `stock.low` events), and
* a steady sweep, the beat's usual run: the same conditions, nothing new to open.

Prints seconds, alerts opened and peak RSS for each. Goal: under 5 s and 200 MB.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/alerts.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKUS = 10_000
LOCATIONS = 200
SHIPMENTS = 200_000
from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_alerts"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--skus", type=int, default=SKUS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["BENCH_SKUS"] = str(args.skus)
    if args.child:
        return child()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("alerts: skipped (needs DATABASE_URL to PostgreSQL)")
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
        skus = int(os.environ["BENCH_SKUS"])
        seconds = setup_data(skus)
        print(f"seeded {skus * LOCATIONS:,} stock rows in {seconds:.1f} s")
        for label in ("first sweep (opens every alert)", "steady sweep (nothing new)"):
            output = subprocess.run(
                [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True
            )
            if output.returncode:
                print(output.stderr[-5000:])
                return 1
            result = json.loads(output.stdout.strip().splitlines()[-1])
            print(
                f"{label}: {result['seconds']:.2f} s, {result['opened']:,} opened, "
                f"{result['unresolved']:,} unresolved, peak RSS {result['rss_mb']:.0f} MB"
                f" (after Django setup {result['baseline_mb']:.0f} MB)\n"
                f"    CPU: Python {result['cpu']:.2f} s, PostgreSQL backend"
                f" {result['backend_cpu']:.2f} s (parallel workers not counted);"
                f" load average {result['load']:.1f} on {os.cpu_count()} cores"
            )
            for kind, seconds in result["by_kind"].items():
                print(f"    {kind}: {seconds:.2f} s")
        if os.environ.get("REDIS_URL"):
            hot_path()
    finally:
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def child() -> int:
    import django

    django.setup()
    from django.db import connection

    from alerts.evaluation import engine
    from alerts.models import Alert
    from alerts.services import alerts_sweep

    baseline = peak_rss_mb()
    by_kind: dict[str, float] = {}
    original = engine.hits_apply

    def timed(hits, **kwargs):
        started = time.perf_counter()
        try:
            return original(hits, **kwargs)
        finally:
            by_kind[hits.kind] = time.perf_counter() - started

    engine.hits_apply = timed
    from alerts.services import evaluate

    evaluate.hits_apply = timed
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_cpu = backend_seconds(backend)
    cpu = time.process_time()
    started = time.perf_counter()
    results = alerts_sweep()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    backend_cpu = backend_seconds(backend) - backend_cpu
    rss = peak_rss_mb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "backend_cpu": backend_cpu,
                "load": os.getloadavg()[0],
                "opened": sum(len(applied.opened) for applied in results.values()),
                "unresolved": Alert.objects.unresolved().count(),
                "rss_mb": rss,
                "baseline_mb": baseline,
                "by_kind": by_kind,
            }
        )
    )
    return 0


def hot_path(commits: int = 2000) -> None:
    """What a stock-moving commit pays for alerts (inventory.moved): the stock ids and the
    "run queued" marker in one Redis round trip, a run already queued (the usual case)."""
    from django.core.cache import caches

    from core.kick import kick
    from inventory.moved import STOCK_KEY, Changed, _send, changed_pop

    coordination = caches["coordination"]
    coordination.add(f"kick:{STOCK_KEY}", 1, timeout=60)
    for label, send in (
        ("a bare core.kick (before: no ids)", lambda: kick(task_name="x", key=STOCK_KEY)),
        ("alerts hook: SADD ids + SET NX marker", lambda: _send(Changed(stock_ids={1, 2}))),
    ):
        send()
        cpu, started = time.process_time(), time.perf_counter()
        for _ in range(commits):
            send()
        print(
            f"per commit, {label}: {(time.perf_counter() - started) / commits * 1000:.3f} ms"
            f" wall, {(time.process_time() - cpu) / commits * 1000:.3f} ms CPU"
        )
    changed_pop()
    coordination.delete(f"kick:{STOCK_KEY}")


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not `ru_maxrss`: Linux hands a child its
    parent's figure at fork, so the child would report the seeding parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backend_seconds(pid: int) -> float:
    """CPU seconds a PostgreSQL backend on this machine has used (user + system)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # PostgreSQL on another machine
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setup_data(skus: int) -> float:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from alerts.models import NetworkRule, StockRule
    from inventory.models import Location, Product

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    Product.objects.bulk_create(
        (Product(sku=f"BENCH-{n:05d}", name=f"Bench product {n}") for n in range(skus)),
        batch_size=5000,
    )
    Location.objects.bulk_create(
        Location(code=f"B{n:03d}", name=f"Bench store {n}", lat=48.85, lon=2.35)
        for n in range(LOCATIONS)
    )
    StockRule.objects.create(scope="global", threshold=5)
    StockRule.objects.bulk_create(
        StockRule(scope="product", product_id=pk, threshold=8)
        for pk in Product.objects.order_by("pk").values_list("pk", flat=True)[:1000]
    )
    StockRule.objects.bulk_create(
        StockRule(scope="location", location_id=pk, threshold=3, lead_time_days=5)
        for pk in Location.objects.order_by("pk").values_list("pk", flat=True)[:20]
    )
    NetworkRule.objects.create(scope="global", threshold=1000)
    with connection.cursor() as cursor:
        # 1 % of rows (a deterministic hash) hold 0 to 4 units; the rest 20 to 219.
        cursor.execute(
            """INSERT INTO inventory_stocklevel
                   (product_id, location_id, on_hand, allocated, reserved, safety_stock,
                    updated_at)
               SELECT p.id, l.id,
                      CASE WHEN (p.id * 7919 + l.id * 104729) % 100 = 0
                           THEN (p.id + l.id) % 5
                           ELSE 20 + (p.id * 31 + l.id * 17) % 200 END,
                      0, 0, 0, now() - interval '1 hour'
               FROM inventory_product p CROSS JOIN inventory_location l
               ORDER BY p.id, l.id"""
        )
        cursor.execute(
            """INSERT INTO inventory_stockmovement
                   (stock_id, kind, quantity, on_hand_after, reference, reason, operation,
                    created_at)
               SELECT 1 + (g * 7919) %% %s, 'shipment', -(1 + g %% 3), 0, 'bench', '',
                      gen_random_uuid(), now() - (g %% 27) * interval '1 day'
               FROM generate_series(1, %s) g""",
            [skus * LOCATIONS, SHIPMENTS * skus // SKUS],
        )
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
