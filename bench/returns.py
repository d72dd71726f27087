"""Benchmark receiving returns on PostgreSQL: through the API, by import_returns, and the floor.

Sets up its own database (<name>_bench_returns beside the one in DATABASE_URL, dropped at the
end unless --keep): one warehouse, 1,000 SKUs, and shipped orders of 10 lines each with a
return of every line (written in bulk: making them is not what is measured). Then, in one
run:

* the API: 10,000 return lines received as 1,000 `POST /api/v1/returns/{number}/receive/`
  (10 lines each, `restock`), each through the whole Django stack with a token (the test
  client, no socket); p50 / p99 per receipt and lines/s;
* the import: a 10,000-row `import_returns` file (1,000 returns of 10 lines), the service
  the command runs (parse, check, lock, ledger, receipts, timeline, events); rows/s;
* the floor: the same 10,000 ledger rows by COPY into a temp table, one INSERT ... SELECT
  into the ledger and one UPDATE ... FROM of the balances, nothing else; rows/s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/returns.py

`--profile` prints where the API's receipts and the import spend their time (pyinstrument);
`--skip-api` leaves the API out, to measure the import beside the floor alone; `--rounds N`
runs the import (each time a file of other returns) and the floor N times, alternately, and
compares their medians. Beside each time: the CPU seconds of this process (the app) and of
its PostgreSQL backend, steadier than the wall clock on a loaded machine.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import backend_pid, backend_seconds, database_create, database_drop  # noqa: E402

SUFFIX = "_bench_returns"
SKUS = 1_000
LINES_PER_RETURN = 10
RETURNS = 1_000  # per path: 10,000 lines each


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--returns", type=int, default=RETURNS, help="Returns per path.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument(
        "--profile", action="store_true", help="Print a profile of the API and import paths."
    )
    parser.add_argument(
        "--skip-api", action="store_true", help="Leave out the API's receipts: the import alone."
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="Import and floor runs, alternately (medians)."
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("returns: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    os.environ.update(
        {
            "DATABASE_URL": database_create(url, SUFFIX),
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
        }
    )
    try:
        import django

        django.setup()
        rounds = max(args.rounds, 1)
        numbers = setup_data(args.returns * (1 + rounds))
        settle()
        api = None
        if not args.skip_api:
            api = profiled(args.profile, "API receive", bench_api, numbers[: args.returns])
            settle()
        imports, floors = [], []
        for n in range(1, rounds + 1):
            file_numbers = numbers[args.returns * n : args.returns * (n + 1)]
            imports.append(profiled(args.profile, "import_returns", bench_import, file_numbers))
            settle()
            floors.append(bench_floor(args.returns * LINES_PER_RETURN))
            settle()
        report(api, imports, floors)
        print(f"ledger check: {ledger_drift()} stock row(s) where on_hand != sum of movements")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def profiled(on: bool, title: str, run, *args):
    """Run `run(*args)`, under pyinstrument when `on`, printing where the time went."""
    if not on:
        return run(*args)
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    with profiler:
        result = run(*args)
    print(f"--- profile: {title}")
    print(profiler.output_text(unicode=False, color=False, short_mode=True))
    return result


def setup_data(returns: int) -> list[str]:
    """Migrate; write products, stock, shipped orders and their returns in bulk."""
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import Location, Product

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    Product.objects.bulk_create(
        Product(sku=f"RB-{n:05d}", name=f"Bench product {n}") for n in range(SKUS)
    )
    Location.objects.bulk_create([Location(code="DC-BENCH", name="Bench DC", lat=48.8, lon=2.3)])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_stocklevel (product_id, location_id, on_hand, allocated, "
            "reserved, safety_stock, quarantined, updated_at) "
            "SELECT p.id, l.id, 20, 0, 0, 0, 0, now() FROM inventory_product p "
            "CROSS JOIN inventory_location l ORDER BY p.id"
        )
        cursor.execute(
            "INSERT INTO inventory_stockmovement (stock_id, kind, quantity, on_hand_after, "
            "reference, reason, operation, created_at) SELECT id, 'receipt', 20, 20, 'bench', "
            "'', gen_random_uuid(), now() - interval '1 day' FROM inventory_stocklevel"
        )
        cursor.execute("SELECT id FROM orders_channel WHERE code = 'web'")
        channel = cursor.fetchone()[0]
        # Orders shipped yesterday, 10 lines each (1 unit per line), with a return each.
        cursor.execute(
            "INSERT INTO orders_order (number, channel_id, external_id, status, customer_email, "
            "customer_name, customer_phone, customer_phone_digits, ship_line1, ship_line2, "
            "ship_city, ship_postcode, ship_country, delivery_method, currency, "
            "sourcing_attempts, needs_attention, attention_reason, created_at, updated_at) "
            "SELECT 'B' || translate(lpad(n::text, 8, '0'), '0123456789', '23456789AB'), "
            "%s, '', 'shipped', 'bench@example.com', "
            "'Bench', '', '', '1 rue', '', 'Paris', '75001', 'FR', 'standard', 'EUR', 0, "
            "false, '', now() - interval '1 day', now() FROM generate_series(1, %s) n",
            [channel, returns],
        )
        cursor.execute(
            "INSERT INTO orders_orderline (order_id, line_no, product_id, quantity, unit_price, "
            "quantity_shipped, quantity_cancelled, quantity_returned) "
            "SELECT o.id, k, (SELECT id FROM inventory_product ORDER BY id "
            "OFFSET ((o.id * 7 + k * 13) %% %s) LIMIT 1), 1, 19.90, 1, 0, 1 "
            "FROM orders_order o CROSS JOIN generate_series(1, %s) k",
            [SKUS, LINES_PER_RETURN],
        )
        cursor.execute(
            "INSERT INTO returns_return (number, order_id, status, method, resolution, "
            "location_id, currency, created_at, updated_at) "
            "SELECT 'RR' || substr(o.number, 2), o.id, 'requested', 'mail', 'refund', "
            "(SELECT id FROM inventory_location), 'EUR', now(), now() FROM orders_order o"
        )
        cursor.execute(
            "INSERT INTO returns_returnline (return_request_id, line_no, order_line_id, "
            "product_id, quantity, reason, received, restocked, damaged, disposed) "
            "SELECT r.id, l.line_no, l.id, l.product_id, 1, 'too_small', 0, 0, 0, 0 "
            "FROM returns_return r JOIN orders_orderline l ON l.order_id = r.order_id"
        )
        cursor.execute("SELECT number FROM returns_return ORDER BY id")
        numbers = [row[0] for row in cursor.fetchall()]
    connection.close()
    print(
        f"setup: {SKUS:,} SKUs, {returns:,} shipped orders with a return of "
        f"{LINES_PER_RETURN} lines each, in {time.perf_counter() - started:.1f} s"
    )
    return numbers


def settle() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    connection.close()


def _skus(number: str) -> list[str]:
    from returns.models import ReturnLine

    return list(
        ReturnLine.objects.filter(return_request__number=number)
        .order_by("line_no")
        .values_list("product__sku", flat=True)
    )


def bench_api(numbers: list[str]) -> dict:
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user = User.objects.create_user("bench-3pl", password=None)
    user.groups.add(Group.objects.get(name="integration"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    bodies = {
        number: {
            "location": "DC-BENCH",
            "lines": [
                {"sku": sku, "quantity": 1, "disposition": "restock"} for sku in _skus(number)
            ],
        }
        for number in numbers
    }
    times = []
    started = time.perf_counter()
    for number in numbers:
        begin = time.perf_counter()
        response = client.post(f"/api/v1/returns/{number}/receive/", bodies[number], format="json")
        times.append(time.perf_counter() - begin)
        if response.status_code != 200:
            raise SystemExit(f"receive {number}: {response.status_code} {response.content[:300]}")
    seconds = time.perf_counter() - started
    times.sort()
    lines = sum(len(body["lines"]) for body in bodies.values())
    return {
        "requests": len(numbers),
        "lines": lines,
        "seconds": seconds,
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
    }


def bench_import(numbers: list[str]) -> dict:
    from returns.imports import returns_import

    out = io.StringIO()
    out.write("return,sku,quantity,disposition\r\n")
    rows = 0
    for number in numbers:
        for sku in _skus(number):
            out.write(f"{number},{sku},1,restock\r\n")
            rows += 1
    data = out.getvalue().encode()
    with Clock() as clock:
        received = returns_import(data=data)
    assert received == len(numbers)
    return {"rows": rows, **clock.figures}


def bench_floor(rows: int) -> dict:
    """The least that puts the same ledger rows in: COPY, one INSERT ... SELECT, one UPDATE."""
    from django.db import connection, transaction

    from inventory.models import Product

    skus = list(Product.objects.order_by("id").values_list("sku", flat=True))
    with Clock() as clock, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE floor_stage (sku text, quantity integer) ON COMMIT DROP")
        with cursor.cursor.copy("COPY floor_stage (sku, quantity) FROM STDIN") as copy:
            for n in range(rows):
                copy.write_row((skus[n % len(skus)], 1))
        cursor.execute(
            "CREATE TEMP TABLE floor_sum ON COMMIT DROP AS SELECT s.id AS stock_id, "
            "sum(f.quantity) AS quantity FROM floor_stage f "
            "JOIN inventory_product p ON p.sku = f.sku "
            "JOIN inventory_stocklevel s ON s.product_id = p.id GROUP BY s.id"
        )
        cursor.execute(
            "INSERT INTO inventory_stockmovement (stock_id, kind, quantity, on_hand_after, "
            "reference, reason, operation, created_at) "
            "SELECT s.id, 'return', f.quantity, s.on_hand + f.quantity, 'floor', '', "
            "gen_random_uuid(), now() FROM floor_stage f "
            "JOIN inventory_product p ON p.sku = f.sku "
            "JOIN inventory_stocklevel s ON s.product_id = p.id"
        )
        cursor.execute(
            "UPDATE inventory_stocklevel s SET on_hand = s.on_hand + f.quantity, "
            "updated_at = now() FROM floor_sum f WHERE s.id = f.stock_id"
        )
    return {"rows": rows, **clock.figures}


class Clock:
    """The wall clock, this process's CPU and its PostgreSQL backend's CPU over a block."""

    def __enter__(self) -> Clock:
        # Each block starts with the collector's counts at zero: the garbage of building
        # the file (or of the block before) is not charged to the block measured.
        gc.collect()
        self.backend = backend_pid()
        self.started = (time.perf_counter(), time.process_time(), backend_seconds(self.backend))
        return self

    def __exit__(self, *exc) -> None:
        wall, app, backend = self.started
        self.figures = {
            "seconds": time.perf_counter() - wall,
            "app_cpu": time.process_time() - app,
            "backend_cpu": backend_seconds(self.backend) - backend,
        }


def ledger_drift() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM inventory_stocklevel s WHERE s.on_hand <> "
            "(SELECT coalesce(sum(m.quantity), 0) FROM inventory_stockmovement m "
            "WHERE m.stock_id = s.id)"
        )
        return cursor.fetchone()[0]


def report(api: dict | None, imports: list[dict], floors: list[dict]) -> None:
    print()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if api is not None:
        api_rate = api["lines"] / api["seconds"]
        print(
            f"API receive: {api['lines']:,} lines in {api['requests']:,} requests, "
            f"{api['seconds']:.1f} s = {api_rate:,.0f} lines/s; per receipt p50 "
            f"{api['p50_ms']:.1f} ms, p99 {api['p99_ms']:.1f} ms (goal: p99 under 100 ms)"
        )
    for imported, floor in zip(imports, floors, strict=True):
        for name, run in (("import_returns", imported), ("floor (COPY)", floor)):
            print(
                f"{name}: {run['rows']:,} rows in {run['seconds']:.2f} s = "
                f"{run['rows'] / run['seconds']:,.0f} rows/s; CPU app {run['app_cpu']:.2f} s, "
                f"PostgreSQL {run['backend_cpu']:.2f} s"
            )
    imported = {k: statistics.median(run[k] for run in imports) for k in imports[0]}
    floor = {k: statistics.median(run[k] for run in floors) for k in floors[0]}
    if len(imports) > 1:
        print(
            f"medians of {len(imports)}: import {imported['seconds']:.2f} s, floor "
            f"{floor['seconds']:.2f} s"
        )
    cpu = (floor["app_cpu"] + floor["backend_cpu"]) / (
        imported["app_cpu"] + imported["backend_cpu"]
    )
    print(
        f"ratio import/floor: {floor['seconds'] / imported['seconds']:.3f} by the clock, "
        f"{cpu:.3f} by CPU (app + PostgreSQL) (goal: at least 0.50)"
    )


if __name__ == "__main__":
    sys.exit(main())
