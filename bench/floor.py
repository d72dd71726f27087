"""What the shop floor's pages cost the server: a warehouse's floor with its three steps
full, a pick list batched over 200 orders, 50 packing slips, the pickup counter finding a
parcel by its code among many, the nearby stores' stock of a product, and an order placed
for a customer in the store.

Makes its own database (<name>_bench_floor beside the one in DATABASE_URL, dropped at the
end), builds a network in code (a warehouse, 42 stores, 200 products with bins), places
orders through order capture, then times pages through Django's test client (in process,
no server): the median and 95th percentile in milliseconds and the SQL queries per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/floor.py [--orders N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_floor"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=600, help="Orders to the warehouse.")
    parser.add_argument("--requests", type=int, default=30, help="Timed requests per page.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("floor: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_create(url, SUFFIX)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "oms.test_settings",
            "ALLOWED_HOSTS": "testserver",
            "REDIS_URL": "",
        }
    )
    import django

    django.setup()
    try:
        pages = setup(args.orders)
        rows = [(what, *_time(what, call, args.requests)) for what, call in pages]
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(url, SUFFIX)
    report(rows)
    return 0


def setup(orders: int) -> list[tuple[str, object]]:
    """Migrate, build the network, place and move orders; return the pages to time."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import Membership
    from fulfilment.models import Fulfilment
    from inventory.models import Location, Product
    from inventory.services import stock_bin_set, stock_receive
    from orders.inputs import LineInput, OrderInput
    from orders.models import Channel, Order
    from orders.services.capture import order_place
    from orders.services.fulfilments import fulfilment_accept, fulfilment_ready

    call_command("migrate", verbosity=0)
    rng = random.Random(20261203)
    dc = Location.objects.create(
        code="DC-PARIS", name="Paris DC", lat=48.9, lon=2.4, shipment_cost=5, cost_per_km=0.005
    )
    stores = [
        Location.objects.create(
            code=f"ST-{n:02d}",
            name=f"Store {n}",
            kind=Location.Kind.STORE,
            lat=43 + rng.random() * 7,
            lon=-1 + rng.random() * 8,
            ships=False,
            click_and_collect=True,
        )
        for n in range(42)
    ]
    products = [Product.objects.create(sku=f"SKU-{n:04d}", name=f"Product {n}") for n in range(200)]
    for product in products:
        stock_receive(product=product, location=dc, quantity=10_000, reference="bench")
        stock_bin_set(
            product=product, location=dc, bin=f"{rng.choice('ABCDEFGH')}-{rng.randint(1, 40):02d}"
        )
        for store in rng.sample(stores, 10):
            stock_receive(product=product, location=store, quantity=50, reference="bench")
    web = Channel.objects.get(code="web")
    address = {"line1": "1 rue de Rivoli", "city": "Paris", "postcode": "75001", "country": "FR"}
    placed = []
    for n in range(orders):
        lines = [LineInput(product=p, quantity=rng.randint(1, 3)) for p in rng.sample(products, 3)]
        order, _ = order_place(
            data=OrderInput(
                channel=web, lines=lines, email=f"c{n}@example.com", name=f"C {n}", address=address
            )
        )
        placed.append(order)
    # A third waits to be accepted, a third to be picked; the rest stays requested.
    for order in placed[: orders // 3]:
        fulfilment_accept(fulfilment_id=order.fulfilments.get().pk)
    store = stores[0]
    here = [p for p in products if store.stock_levels.filter(product=p).exists()]
    code = ""
    for n in range(100):
        order, _ = order_place(
            data=OrderInput(
                channel=web,
                lines=[LineInput(product=here[n % len(here)], quantity=1)],
                email=f"p{n}@example.com",
                delivery_method=Order.DeliveryMethod.CLICK_AND_COLLECT,
                pickup_location=store,
            )
        )
        fulfilment_ready(fulfilment_id=order.fulfilments.get().pk)
        order.refresh_from_db()
        code = order.pickup_code
    User = get_user_model()
    picker = User.objects.create(username="picker", is_staff=True)
    picker.groups.add(Group.objects.get(name="warehouse staff"))
    Membership.objects.create(user=picker, location=dc)
    clerk = User.objects.create(username="clerk", is_staff=True)
    clerk.groups.add(Group.objects.get(name="store staff"))
    Membership.objects.create(user=clerk, location=store)
    warehouse, counter = Client(), Client()
    warehouse.force_login(picker)
    counter.force_login(clerk)
    accepted = list(
        Fulfilment.objects.filter(location=dc, status="accepted").values_list("pk", flat=True)
    )
    tokens = iter(range(10**6))
    # Another store that has the product: the customer collects it there.
    elsewhere = (
        Location.objects.filter(stock_levels__product=here[0], kind=Location.Kind.STORE)
        .exclude(pk=store.pk)
        .first()
    )

    def aisle(_=None):
        return counter.post(
            "/console/floor/order/",
            {
                "sku": here[0].sku,
                "quantity": "1",
                "delivery": "collect",
                "pickup_store": elsewhere.code,
                "name": "Ada",
                "email": "ada@example.com",
                "token": f"t{next(tokens)}",
            },
        )

    print(
        f"seeded: 43 locations, 200 products, {orders} orders to {dc.code} "
        f"({len(accepted)} to pick), 100 pickups ready at {store.code}"
    )
    batch = ",".join(map(str, accepted[:200]))
    return [
        ("floor (warehouse, 3 steps of 50)", lambda: warehouse.get("/console/floor/")),
        (
            f"pick list of {min(200, len(accepted))} orders",
            lambda: warehouse.get(f"/console/floor/pick-list/?ids={batch}"),
        ),
        (
            "packing slips of 50 orders",
            lambda: warehouse.get(
                f"/console/floor/packing-slips/?ids={','.join(map(str, accepted[:50]))}"
            ),
        ),
        ("floor (store, 100 ready)", lambda: counter.get("/console/floor/")),
        ("counter: find by code", lambda: counter.get(f"/console/floor/counter/?code={code}")),
        ("nearby stores of a product", lambda: counter.get(f"/console/floor/stock/{here[0].sku}/")),
        ("order for a customer in store", aisle),
    ]


def _time(what: str, call, requests: int) -> tuple[float, float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm
    timings, queries = [], []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call()
            timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))
        assert response.status_code < 400, (what, response.status_code)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, statistics.median(queries), response.status_code


def report(rows: list[tuple]) -> None:
    print(f"{'page':<36} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'status':>7}")
    for what, p50, p95, queries, status in rows:
        print(f"{what:<36} {p50:8.1f} {p95:8.1f} {queries:8.0f} {status:7d}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine)")


if __name__ == "__main__":
    raise SystemExit(main())
