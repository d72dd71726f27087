"""Benchmark order capture of pre-orders and click & collect by transfer, beside plain capture.

Sets up its own database (<name>_bench_preorders beside the one in DATABASE_URL, dropped at
the end unless --keep): a warehouse, a click & collect store, one product per path, stock and
purchase orders large enough never to run out. Then captures one-line orders through the
capture service (`order_place`, one transaction each, as the API runs it), in one run:

* shelf: a unit on the warehouse's shelf (the floor every ratio is measured against);
* backorder: no stock, promised from a purchase order;
* pre-order: a pre-order product with stock on the shelf, promised from a purchase order under
  its cap (the product row's lock and the count of what is promised);
* pickup at the store: click & collect from the store's own stock;
* pickup by transfer: click & collect, the store lacks the item, a transfer from the
  warehouse holds it.

Each path prints CPU ms per capture (this process: Django and the driver) and wall p50 / p99,
with the ratio of its CPU to the shelf's, and the load average.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/preorders.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_preorders"
ORDERS = 300
PLENTY = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=ORDERS, help="Captures per path.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("preorders: skipped (needs DATABASE_URL to PostgreSQL)")
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
        paths = setup_data()
        results = {name: bench_path(name, *path, args.orders) for name, path in paths.items()}
        report(results, args.orders)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def setup_data() -> dict:
    """Migrate; a warehouse, a store, one product per path with its stock and supply."""
    from django.core.management import call_command

    from inventory.models import Location, Product
    from inventory.services import stock_receive
    from orders.models import CarrierService, Channel, Order, TransitBand
    from supply.services.purchase_orders import purchase_order_create

    call_command("migrate", verbosity=0)
    dc = Location.objects.create(
        code="DC-BENCH", name="Bench DC", lat=48.97, lon=2.52, ships=True, kind="warehouse"
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
    made = {sku: Product.objects.create(sku=sku, name=sku) for sku in ("SHELF", "PLAIN", "PRE")}
    made["CC"] = Product.objects.create(sku="CC", name="CC")
    made["CCT"] = Product.objects.create(sku="CCT", name="CCT")
    Product.objects.filter(sku="PRE").update(preorder=True, preorder_cap=PLENTY)
    made["PRE"].refresh_from_db()
    for sku, location in (("SHELF", dc), ("PRE", dc), ("CC", store), ("CCT", dc)):
        stock_receive(product=made[sku], location=location, quantity=PLENTY, reference="bench")
    for sku in ("PLAIN", "PRE"):
        purchase_order_create(
            number=f"PO-{sku}",
            supplier="Bench",
            location=dc,
            expected_on=date.today() + timedelta(days=10),
            lines=[(made[sku], PLENTY)],
        )
    standard, pickup = Order.DeliveryMethod.STANDARD, Order.DeliveryMethod.CLICK_AND_COLLECT
    return {
        "shelf": (made["SHELF"], standard, None),
        "backorder": (made["PLAIN"], standard, None),
        "pre-order": (made["PRE"], standard, None),
        "pickup at the store": (made["CC"], pickup, store),
        "pickup by transfer": (made["CCT"], pickup, store),
    }


def bench_path(name, product, method, store, orders: int) -> dict:
    from orders.inputs import LineInput, OrderInput
    from orders.models import Channel
    from orders.services.capture import order_place

    channel = Channel.objects.get(code="web")
    address = {
        "line1": "1 rue de Rivoli",
        "city": "Paris",
        "postcode": "75001",
        "country": "FR",
        "lat": 48.86,
        "lon": 2.35,
    }

    def one(i: int):
        return order_place(
            data=OrderInput(
                channel=channel,
                lines=[LineInput(product=product, quantity=1)],
                external_id=f"{name}-{i}",
                email="bench@example.com",
                name="Bench",
                phone="",
                address=address if store is None else {},
                delivery_method=method,
                pickup_location=store,
            )
        )

    for i in range(10):  # warm the caches and prepared statements
        one(-1 - i)
    walls = []
    cpu_started = time.process_time()
    for i in range(orders):
        started = time.perf_counter()
        order, _ = one(i)
        walls.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu_started
    return {"status": order.status, "cpu_ms": cpu / orders * 1000, "walls": walls}


def report(results: dict, orders: int) -> None:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"capture, {orders} one-line orders per path; load average {load} ({os.cpu_count()} cores)"
    )
    floor = results["shelf"]["cpu_ms"]
    print(f"{'path':<22}{'status':<12}{'CPU ms':>8}{'x shelf':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, result in results.items():
        walls = sorted(result["walls"])
        p50 = statistics.median(walls) * 1000
        p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))] * 1000
        print(
            f"{name:<22}{result['status']:<12}{result['cpu_ms']:>8.2f}"
            f"{result['cpu_ms'] / floor:>9.2f}{p50:>9.1f}{p99:>9.1f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
