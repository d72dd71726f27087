"""Benchmark what pre-orders and click & collect by transfer cost after capture: a delivery
quote of a pre-order basket (checked against the cap, as capture promises it), and a store's
rejection of a click & collect order sourced again by a transfer from the warehouse.

Sets up its own database (<name>_bench_preorders_after beside the one in DATABASE_URL,
dropped at the end unless --keep): a warehouse, a click & collect store, a plain product and
a pre-order product with purchase orders large enough never to run out, stock at the store
and the warehouse (which costs more to send from: capture takes the store's own). Then, in one run:

* quote, backorder: a one-line basket the shelves lack, quoted from a purchase order (the
  floor for the quote);
* quote, pre-order: the same for a pre-order product (its cap read beside the free units);
* reject, store only: a click & collect order on a channel without transfers, rejected by
  its store (sourced again at the store alone: nothing found; the floor for the rejection);
* reject, by transfer: the same on a channel with transfers: a transfer from the warehouse
  brings the unit, and the order's date moves.

Each prints CPU ms per operation (2,000 quotes, 200 rejections by default) for this process
(Django and the driver) and for the PostgreSQL backend of its connection (from /proc: the
server must run on this machine), queries per operation and wall p50, with the load average.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/preorders_after_capture.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_preorders_after"
COUNT = 200
QUOTES = 10  # quotes per rejection measured
PLENTY = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=COUNT, help="Operations per path.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("preorders_after_capture: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    os.environ.update(
        {
            "DATABASE_URL": database_create(url, SUFFIX),
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    try:
        import django

        django.setup()
        made = setup_data()
        results = {
            # A quote costs about a millisecond: ten times as many, for figures above noise.
            "quote, backorder": bench_quote(made, "PLAIN", args.count * QUOTES),
            "quote, pre-order": bench_quote(made, "PRE", args.count * QUOTES),
            "reject, store only": bench_reject(made, "store", args.count),
            "reject, by transfer": bench_reject(made, "web", args.count),
        }
        report(results, args.count)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def setup_data() -> dict:
    """Migrate; a warehouse, a store, the products with their stock and supply, prices."""
    from django.core.management import call_command

    from inventory.models import Location, Product
    from inventory.services import stock_receive
    from orders.models import CarrierService, Channel, DeliveryPrice, TransitBand
    from supply.services.purchase_orders import purchase_order_create

    call_command("migrate", verbosity=0)
    dc = Location.objects.create(
        code="DC-BENCH",
        name="Bench DC",
        lat=48.97,
        lon=2.52,
        ships=True,
        kind="warehouse",
        shipment_cost=Decimal("5.00"),
        cost_per_km=Decimal("0.0050"),
        unit_cost=Decimal("0.30"),
    )
    store = Location.objects.create(
        code="ST-BENCH",
        name="Bench store",
        lat=48.86,
        lon=2.34,
        ships=False,
        click_and_collect=True,
        kind="store",
    )
    service = CarrierService.objects.create(code="bench", name="Bench", method="standard")
    TransitBand.objects.create(service=service, max_km=1000, days=2)
    Channel.objects.filter(code="web").update(pickup_transfer=True)
    Channel.objects.filter(code="store").update(pickup_transfer=False)
    for code in ("web", "store"):
        DeliveryPrice.objects.create(
            channel=Channel.objects.get(code=code), method="standard", price=Decimal("4.90")
        )
    made = {sku: Product.objects.create(sku=sku, name=sku) for sku in ("PLAIN", "PRE", "CC")}
    Product.objects.filter(sku="PRE").update(preorder=True, preorder_cap=PLENTY)
    made["PRE"].refresh_from_db()
    for sku in ("PLAIN", "PRE"):
        purchase_order_create(
            number=f"PO-{sku}",
            supplier="Bench",
            location=dc,
            expected_on=date.today() + timedelta(days=10),
            lines=[(made[sku], PLENTY)],
        )
    for location in (dc, store):
        stock_receive(product=made["CC"], location=location, quantity=PLENTY, reference="bench")
    made["store"] = store
    return made


def backend_cpu() -> float:
    """CPU seconds the PostgreSQL backend of this process's connection has used."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(one, count: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(10):  # warm the caches and prepared statements
        one(count + i)
    with CaptureQueriesContext(connection) as queries:
        one(count + 10)
    walls = []
    backend_started = backend_cpu()
    cpu_started = time.process_time()
    for i in range(count):
        started = time.perf_counter()
        answer = one(i)
        walls.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu_started
    backend = backend_cpu() - backend_started
    return {
        "cpu_ms": cpu / count * 1000,
        "backend_ms": backend / count * 1000,
        "queries": len(queries),
        "walls": walls,
        "answer": answer,
    }


def bench_quote(made: dict, sku: str, count: int) -> dict:
    from django.utils import timezone

    from orders.models import Channel
    from orders.services.delivery_options import Destination, delivery_quote

    channel = Channel.objects.get(code="web")
    destination = Destination(lat=48.86, lon=2.35)
    at = timezone.now()

    def one(i: int):
        quote = delivery_quote(
            channel=channel, lines=[(made[sku], 1)], destination=destination, at=at
        )
        return f"{len(quote.options)} option(s)"

    return measure(one, count)


def bench_reject(made: dict, channel_code: str, count: int) -> dict:
    """Capture click & collect orders at the store beforehand, then reject each one's
    request (the measured part: release, write-off, sourcing again)."""
    from fulfilment.models import Fulfilment
    from orders.inputs import LineInput, OrderInput
    from orders.models import Channel, Order
    from orders.services.capture import order_place
    from orders.services.fulfilments import fulfilment_reject

    channel = Channel.objects.get(code=channel_code)
    requests = []
    for i in range(count + 11):
        order, _ = order_place(
            data=OrderInput(
                channel=channel,
                lines=[LineInput(product=made["CC"], quantity=1)],
                external_id=f"{channel_code}-{i}",
                email="bench@example.com",
                name="Bench",
                phone="",
                address={},
                delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
                pickup_location=made["store"],
            )
        )
        requests.append(Fulfilment.objects.get(order=order).pk)

    def one(i: int):
        fulfilment = fulfilment_reject(
            fulfilment_id=requests[i], reason="bench", reason_code="other"
        )
        return Order.objects.get(pk=fulfilment.order_id).status

    return measure(one, count)


def report(results: dict, count: int) -> None:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{count * QUOTES} quotes, {count} rejections per path; load average {load} "
        f"({os.cpu_count()} cores)"
    )
    print(
        f"{'path':<22}{'answer':<14}{'app CPU ms':>11}{'PG CPU ms':>10}{'queries':>9}{'p50 ms':>9}"
    )
    for name, result in results.items():
        p50 = statistics.median(result["walls"]) * 1000
        print(
            f"{name:<22}{result['answer']:<14}{result['cpu_ms']:>11.2f}"
            f"{result['backend_ms']:>10.2f}{result['queries']:>9}{p50:>9.1f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
