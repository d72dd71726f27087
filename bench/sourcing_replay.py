"""Benchmark the sourcing lab: replay 100,000 orders of a month under a policy, on PostgreSQL.

Sets up its own database (<name>_bench_replay beside the one in DATABASE_URL, dropped at the
end unless --keep), migrates it, loads the demo network (`seed_demo`: 4 warehouses, 42
stores, 500 products) with its opening stock dated before the period, then writes a seeded
month of history with COPY: 100,000 orders of 1 to 3 lines (popular products more often,
customers around French cities, four channels), each allocated at capture by a
nearest-location rule as it came (so the live policy has something to change), and a daily
replenishment of the warehouses as receipts in the ledger.

Then, in a child process each (so that its peak resident memory is its own), runs the
replay end to end as the console's background job does (`replay_run_execute`: read the
history, replay every order, summarise, write the CSV, keep the run):

* the live policy (optimal, split penalty as configured), and
* the live policy without DC-LYON for the second half of the month.

Prints seconds, orders/s and peak RSS for each, and what the replay changed. Goal: under
2 minutes for 100,000 orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/sourcing_replay.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_replay"
ORDERS = 100_000
DAYS = 30
SEED = 20261203
PARIS = ZoneInfo("Europe/Paris")
CHANNELS = (("web", 0.6), ("app", 0.25), ("marketplace", 0.15))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("sourcing_replay: skipped (needs DATABASE_URL to PostgreSQL)")
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
        import django

        django.setup()
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        first, last, written = history_write(args.orders)
        print(
            f"history: {written['orders']:,} orders, {written['lines']:,} lines, "
            f"{written['allocations']:,} allocations, {written['receipts']:,} receipts over "
            f"{first} .. {last}, written in {time.perf_counter() - started:.1f} s"
        )
        half = first + timedelta(days=DAYS // 2)
        for label, options in (
            ("live policy", {}),
            (
                f"without DC-LYON from {half}",
                {"exclude": [f"DC-LYON:{half.isoformat()}..{last.isoformat()}"]},
            ),
        ):
            job = {"first": first.isoformat(), "last": last.isoformat(), **options}
            output = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(job)],
                env=env,
                capture_output=True,
                text=True,
            )
            if output.returncode:
                print(output.stderr[-5000:])
                return 1
            result = json.loads(output.stdout.strip().splitlines()[-1])
            print(
                f"{label}: {result['orders']:,} orders in {result['seconds']:.1f} s "
                f"({result['orders'] / result['seconds']:,.0f} orders/s; history read in "
                f"{result['load_seconds']:.1f} s), peak RSS {result['rss_mb']:.0f} MB "
                f"(after Django setup {result['baseline_mb']:.0f} MB); CPU {result['cpu']:.1f} s; "
                f"load average {result['load']:.1f} on {os.cpu_count()} cores\n"
                f"    planned differently: {result['changed']:,}; logistics cost "
                f"{result['real_cost']:,.0f} -> {result['replay_cost']:,.0f}; parcels per order "
                f"{result['real_ppo']:.3f} -> {result['replay_ppo']:.3f}; unfilled units "
                f"{result['real_unfilled']:,} -> {result['replay_unfilled']:,}; on time "
                f"{result['real_on_time']:.1%} -> {result['replay_on_time']:.1%}"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(job: dict) -> int:
    import django

    django.setup()
    from lab import history as history_module
    from lab.policy import days_read, policy_read
    from lab.services import replay_run_create, replay_run_execute

    baseline = peak_rss_mb()
    loaded = {}
    original = history_module.history_load

    def timed(**kwargs):
        began = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            loaded["seconds"] = time.perf_counter() - began

    import lab.services

    lab.services.history_load = timed  # type: ignore[attr-defined]
    first, last = days_read(job["first"], job["last"])
    policy = policy_read(exclude=job.get("exclude", []))
    run = replay_run_create(actor=None, first_day=first, last_day=last, policy=policy)
    cpu = time.process_time()
    started = time.perf_counter()
    done = replay_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    assert done is not None and done.status == "done", done and done.message
    summary = done.summary
    print(
        json.dumps(
            {
                "orders": summary["orders"],
                "seconds": seconds,
                "load_seconds": loaded["seconds"],
                "cpu": time.process_time() - cpu,
                "load": os.getloadavg()[0],
                "rss_mb": peak_rss_mb(),
                "baseline_mb": baseline,
                "changed": summary["changed"],
                "real_cost": summary["real"]["cost"],
                "replay_cost": summary["replay"]["cost"],
                "real_ppo": summary["real"]["parcels_per_order"],
                "replay_ppo": summary["replay"]["parcels_per_order"],
                "real_unfilled": summary["real"]["unfilled"],
                "replay_unfilled": summary["replay"]["unfilled"],
                "real_on_time": summary["real"]["on_time_share"] or 0,
                "replay_on_time": summary["replay"]["on_time_share"] or 0,
            }
        )
    )
    return 0


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, q1, p2, q2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin((q2 - q1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def history_write(count: int) -> tuple[date, date, dict]:
    """Write a month of orders and receipts with COPY; return its first and last day."""
    import psycopg
    from django.conf import settings
    from django.db import connection

    from inventory.models import Allocation, Location, StockLevel, StockMovement
    from orders.models import Channel, Order, OrderLine

    rng = random.Random(SEED)
    today = datetime.now(PARIS).date()
    first, last = today - timedelta(days=DAYS), today - timedelta(days=1)
    start = datetime.combine(first, datetime.min.time(), PARIS)
    # The opening stock arrived before the period.
    StockMovement.objects.update(created_at=start - timedelta(days=2))

    locations = list(Location.objects.filter(active=True))
    shipping = [loc for loc in locations if loc.ships]
    warehouses = [loc for loc in locations if loc.kind != Location.Kind.STORE]
    channels = {channel.code: channel.pk for channel in Channel.objects.all()}
    rows = {
        (row.product_id, row.location_id): row
        for row in StockLevel.objects.all().only(
            "id", "product_id", "location_id", "on_hand", "safety_stock"
        )
    }
    free: dict[tuple[int, int], int] = {
        place: max(0, row.on_hand - row.safety_stock) for place, row in rows.items()
    }
    on_hand = {row.pk: row.on_hand for row in rows.values()}
    allocated: dict[int, int] = {}
    products = sorted({product_id for product_id, _ in rows})
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(products))]
    cities = [(loc.lat, loc.lon) for loc in locations]
    nearest = {
        city: sorted(shipping, key=lambda loc, c=city: (_km(loc.lat, loc.lon, *c), loc.code))
        for city in cities
    }
    # Orders arrive through the day, more in the evening; sorted in time.
    seconds = sorted(int(rng.triangular(0, DAYS * 86400, DAYS * 86400 * 0.6)) for _ in range(count))
    orders, lines, allocations, receipts = [], [], [], []
    order_id = _next_id(Order)
    line_id = _next_id(OrderLine)
    day_done = -1
    for i, second in enumerate(seconds):
        at = start + timedelta(seconds=second + i / count)
        day = second // 86400
        if day != day_done:
            # Each morning the warehouses are topped up where they run low.
            day_done = day
            morning = start + timedelta(days=day, hours=5)
            for product_id in products:
                for loc in warehouses:
                    place = (product_id, loc.pk)
                    row = rows.get(place)
                    if row is not None and free[place] < 40:
                        on_hand[row.pk] += 300
                        free[place] += 300
                        receipts.append((row.pk, 300, on_hand[row.pk], morning))
        city = rng.choice(cities)
        lat, lon = city[0] + rng.uniform(-0.2, 0.2), city[1] + rng.uniform(-0.2, 0.2)
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        wanted = rng.choices(products, weights, k=rng.choice((1, 1, 1, 2, 2, 3)))
        units = {}
        for product_id in wanted:
            units[product_id] = units.get(product_id, 0) + rng.choice((1, 1, 1, 2, 3))
        oid = order_id + i
        taken = 0
        for line_no, (product_id, quantity) in enumerate(units.items(), start=1):
            lid = line_id
            line_id += 1
            lines.append((lid, oid, line_no, product_id, quantity))
            for loc in nearest[city]:
                place = (product_id, loc.pk)
                if free.get(place, 0) >= quantity:
                    free[place] -= quantity
                    row = rows[place]
                    allocated[row.pk] = allocated.get(row.pk, 0) + quantity
                    allocations.append((lid, row.pk, quantity, at))
                    taken += quantity
                    break
        wanted_units = sum(units.values())
        status = (
            "allocated"
            if taken == wanted_units
            else "backordered"
            if not taken
            else ("partially_allocated")
        )
        orders.append(
            (oid, f"B{i:08d}", channels[channel], status, lat, lon, at, at.date() + timedelta(5))
        )

    dsn = settings.DATABASES["default"]
    connection.close()
    with (
        psycopg.connect(
            host=dsn["HOST"] or None,
            port=dsn["PORT"] or None,
            user=dsn["USER"],
            password=dsn["PASSWORD"] or None,
            dbname=dsn["NAME"],
        ) as conn,
        conn.cursor() as cursor,
    ):
        _copy(
            cursor,
            Order,
            (
                {
                    "id": oid,
                    "number": number,
                    "channel_id": channel_id,
                    "status": status,
                    "ship_lat": lat,
                    "ship_lon": lon,
                    "delivery_method": "standard",
                    "promised_date": promised,
                    "sourcing_attempts": 1,
                    "created_at": at,
                    "updated_at": at,
                }
                for oid, number, channel_id, status, lat, lon, at, promised in orders
            ),
        )
        _copy(
            cursor,
            OrderLine,
            (
                {
                    "id": lid,
                    "order_id": oid,
                    "line_no": no,
                    "product_id": pid,
                    "quantity": q,
                }
                for lid, oid, no, pid, q in lines
            ),
        )
        _copy(
            cursor,
            Allocation,
            (
                {
                    "order_line_id": lid,
                    "stock_id": sid,
                    "quantity": q,
                    "status": "open",
                    "created_at": at,
                    "updated_at": at,
                }
                for lid, sid, q, at in allocations
            ),
        )
        _copy(
            cursor,
            StockMovement,
            (
                {
                    "stock_id": sid,
                    "kind": "receipt",
                    "quantity": q,
                    "on_hand_after": after,
                    "reference": "bench replenishment",
                    "created_at": at,
                }
                for sid, q, after, at in receipts
            ),
        )
        # Today's balances: the opening stock, the receipts; nothing has shipped yet.
        table = StockLevel._meta.db_table
        cursor.execute("CREATE TEMP TABLE bench_balance (id bigint, on_hand int, allocated int)")
        with cursor.copy("COPY bench_balance FROM STDIN") as copy:
            for pk, units in on_hand.items():
                copy.write_row((pk, units, allocated.get(pk, 0)))
        cursor.execute(
            f"UPDATE {table} s SET on_hand = b.on_hand, allocated = b.allocated"
            f" FROM bench_balance b WHERE b.id = s.id"
        )
        for model in (Order, OrderLine):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'),"
                f" (SELECT MAX(id) FROM {model._meta.db_table}))"
            )
        cursor.execute("ANALYZE")
    written = {
        "orders": len(orders),
        "lines": len(lines),
        "allocations": len(allocations),
        "receipts": len(receipts),
    }
    return first, last, written


def _next_id(model) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def _copy(cursor, model, rows) -> None:
    """COPY rows (dicts by attname) into the model's table; the other fields get their
    defaults, as the ORM would give them."""
    import uuid

    rows = iter(rows)
    head = next(rows, None)
    if head is None:
        return
    # The primary key is given (rows that others point at) or left to the sequence.
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or "id" in head]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    defaults = {}
    for f in fields:
        if f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.null or f.primary_key:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    uuid_fields = [f.attname for f in fields if f.get_internal_type() == "UUIDField"]
    with cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in (head, *rows):
            values = {**defaults, **row}
            for name in uuid_fields:
                if name not in row:
                    values[name] = uuid.uuid4()
            copy.write_row([values[f.attname] for f in fields])


if __name__ == "__main__":
    sys.exit(main())
