"""Benchmark the staff console on real volumes: every changelist, its search and filters, the
dashboards, the work queues, finding customers by part of a name, e-mail or phone, an
order's page and the alerts page, as a superuser, a store person and customer service.

Sets up its own database (<name>_bench_console beside the one in DATABASE_URL, dropped at
the end unless --keep) and seeds it with set-based SQL (generate_series): 200 locations,
10,000 products, 2,000,000 stock rows, 1,000,000 orders over a year (1.5 lines each, one
fulfilment each, two timeline events each), then VACUUM ANALYZE. Then it times logged-in
GETs through Django's test client: the first (cold) and the median of the next three, with
the time spent in SQL (the rest is Python: view, template, rendering). Prints every figure,
the slowest, those over the goals (300 ms a page, 150 ms a search by part of a name), and
the machine's load average.

With --keep the database stays for later runs with --reuse (no seeding; new migrations
are applied).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/console.py [--orders N]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_console"
LOCATIONS = 200
STORES = 40
PRODUCTS = 10_000
GOAL_MS = 300
# Finding a customer by part of a name, e-mail or phone (orders.search).
SEARCH_GOAL_MS = 150
SEARCH_PAGE = "/console/orders/?q="


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--reuse", action="store_true", help="Time a database kept by --keep.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("console: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = bench_database_url(url) if args.reuse else database_create(url, SUFFIX)
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
        if args.reuse:
            migrate()  # indexes added since the database was kept
        else:
            started = time.perf_counter()
            migrate()
            seed(args.orders)
            print(f"seeded {args.orders:,} orders in {time.perf_counter() - started:.0f} s")
        timings = measure()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep and not args.reuse:
            database_drop(url, SUFFIX)
    report(timings)
    return 0


def bench_database_url(url: str) -> str:
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "oms") + SUFFIX
    return urlunsplit(parts._replace(path=f"/{name}"))


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def insert_select(model, columns: dict[str, str], source: str, params: list | None = None):
    """INSERT INTO the model's table SELECT `columns` (column -> SQL) FROM `source`; the
    model's other columns get their Python default, so fields added later need no edit."""
    from django.db import connection

    table = model._meta.db_table
    names, exprs, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(field.column)
        if field.column in columns:
            # Inlined SQL: its modulo signs are not placeholders.
            exprs.append(columns[field.column].replace("%", "%%"))
            continue
        if field.null and not field.has_default():
            exprs.append("NULL")
            continue
        default = field.get_default()
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            exprs.append("now()")
            continue
        exprs.append("%s")
        values.append(field.get_db_prep_save(default, connection))
    sql = f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *(params or [])])


def seed(orders: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection

    from accounts.models import Membership
    from fulfilment.models import Fulfilment
    from inventory.models import Location, Product, StockLevel
    from orders.models import Channel, Order, OrderEvent, OrderLine

    Location.objects.bulk_create(
        Location(
            code=f"{'ST' if i < STORES else 'DC'}-{i:03d}",
            name=f"{'Store' if i < STORES else 'Warehouse'} {i}",
            kind=Location.Kind.STORE if i < STORES else Location.Kind.WAREHOUSE,
            lat=43 + (i % 50) / 10,
            lon=(i % 40) / 10,
            click_and_collect=i < STORES,
            shipment_cost="5.00",
            cost_per_km="0.0050",
            unit_cost="0.30",
        )
        for i in range(LOCATIONS)
    )
    insert_select(
        Product,
        {"sku": "'SKU-' || lpad(g::text, 6, '0')", "name": "'Product ' || g", "price": "19.90"},
        "generate_series(1, %s) AS g",
        [PRODUCTS],
    )
    loc = dict(Location.objects.values_list("code", "pk"))
    first_location, first_product = min(loc.values()), Product.objects.order_by("pk").first().pk
    print("  stock rows ...", flush=True)
    insert_select(
        StockLevel,
        {
            "product_id": f"{first_product} + p",
            "location_id": f"{first_location} + l",
            # Mostly stocked; one row in 20 empty, one in 10 with little left.
            "on_hand": "CASE WHEN (p + l) % 20 = 0 THEN 0 WHEN (p + l) % 10 = 0 THEN 2 "
            "ELSE 5 + (p * 7 + l) % 60 END",
            "allocated": "CASE WHEN (p + l) % 20 = 0 THEN 0 ELSE (p + l) % 2 END",
            "safety_stock": f"CASE WHEN l < {STORES} THEN 1 ELSE 0 END",
            "updated_at": "now()",
        },
        "generate_series(0, %s) AS p, generate_series(0, %s) AS l",
        [PRODUCTS - 1, LOCATIONS - 1],
    )
    channels = list(Channel.objects.order_by("pk").values_list("pk", flat=True))
    statuses = [
        # (share in 1000, order status, fulfilment status) for orders older than a week
        (900, Order.Status.DELIVERED, Fulfilment.Status.SHIPPED),
        (40, Order.Status.COLLECTED, Fulfilment.Status.COLLECTED),
        (40, Order.Status.CANCELLED, Fulfilment.Status.CANCELLED),
        (20, Order.Status.SHIPPED, Fulfilment.Status.SHIPPED),
    ]
    # The last week's orders are in every state of the flow.
    recent = [
        (300, Order.Status.ALLOCATED, Fulfilment.Status.REQUESTED),
        (200, Order.Status.ALLOCATED, Fulfilment.Status.ACCEPTED),
        (50, Order.Status.READY_FOR_PICKUP, Fulfilment.Status.READY_FOR_PICKUP),
        (50, Order.Status.BACKORDERED, Fulfilment.Status.CANCELLED),
        (50, Order.Status.PARTIALLY_ALLOCATED, Fulfilment.Status.REQUESTED),
        (350, Order.Status.SHIPPED, Fulfilment.Status.SHIPPED),
    ]

    def case(table, column):
        index = {"order": 1, "fulfilment": 2}[column]
        older = " ".join(
            f"WHEN g % 1000 < {sum(r[0] for r in table[: i + 1])} THEN '{row[index]}'"
            for i, row in enumerate(table)
        )
        return f"CASE {older} END"

    week = orders // 52
    is_recent = f"g > {orders - week}"
    order_status = (
        f"CASE WHEN {is_recent} THEN {case(recent, 'order')} ELSE {case(statuses, 'order')} END"
    )
    # Orders spread evenly over a year, the newest now.
    created = f"now() - ((({orders} - g)::float / {orders}) * interval '365 days')"
    print("  orders ...", flush=True)
    # The trigram indexes are built after the load, as one would on an import.
    trigram = importlib.import_module("orders.migrations.0008_order_search_trigram")
    with connection.cursor() as cursor:
        for name in trigram.INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    insert_select(
        Order,
        {
            "number": "'B' || lpad(g::text, 8, '0')",
            "channel_id": f"(ARRAY{channels})[1 + g % {len(channels)}]",
            "status": order_status,
            "customer_email": "'c' || (g % 400000) || '@example.com'",
            # Surnames shared by about 50 customers each; a few are Ada Lovelace.
            "customer_name": "CASE WHEN g % 100000 = 7 THEN 'Ada Lovelace' ELSE "
            "(ARRAY['Camille','Louis','Emma','Hugo','Chloé','Jules','Léa','Paul'])[1 + g % 8]"
            " || ' Surname' || lpad(((g / 8) % 8000)::text, 4, '0') END",
            "customer_phone_digits": "'336' || lpad((g % 400000)::text, 8, '0')",
            "delivery_method": "CASE WHEN g % 10 = 0 THEN 'click_and_collect' "
            "WHEN g % 10 = 1 THEN 'express' ELSE 'standard' END",
            "pickup_location_id": f"CASE WHEN g % 10 = 0 THEN {first_location} + g % {STORES} END",
            "promised_date": f"({created})::date + 3",
            "logistics_cost": "round((4 + (g % 700) / 100.0)::numeric, 2)",
            "needs_attention": f"{is_recent} AND g % 200 = 0",
            "attention_reason": f"CASE WHEN {is_recent} AND g % 200 = 0 "
            "THEN 'No location can fulfil it' ELSE '' END",
            "created_at": created,
            "updated_at": created,
        },
        "generate_series(1, %s) AS g",
        [orders],
    )
    print("  trigram indexes ...", flush=True)
    with connection.cursor() as cursor:
        for name, expression in trigram.INDEXES.items():
            cursor.execute(f"CREATE INDEX {name} ON orders_order USING gin ({expression})")
    first_order = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    print("  lines ...", flush=True)
    insert_select(
        OrderLine,
        {
            "order_id": f"{first_order} - 1 + g",
            "line_no": "n",
            "product_id": f"{first_product} + (g * 7 + n) % {PRODUCTS}",
            "quantity": "1 + g % 3",
            "unit_price": "19.90",
        },
        "generate_series(1, %s) AS g, generate_series(1, 2) AS n WHERE n = 1 OR mod(g, 2) = 0",
        [orders],
    )
    # The fulfilment's location: the pickup store for click & collect, else one of all.
    fulfilment_status = (
        f"CASE WHEN {is_recent} THEN {case(recent, 'fulfilment')} "
        f"ELSE {case(statuses, 'fulfilment')} END"
    )
    print("  fulfilments ...", flush=True)
    insert_select(
        Fulfilment,
        {
            "order_id": f"{first_order} - 1 + g",
            "location_id": f"{first_location} + CASE WHEN g % 10 = 0 THEN g % {STORES} "
            f"ELSE g % {LOCATIONS} END",
            "status": fulfilment_status,
            "carrier": "'UPS'",
            "tracking_number": "'1Z' || g",
            "created_at": created,
            "updated_at": created,
            "accepted_at": f"{created} + interval '2 hours'",
            "shipped_at": f"CASE WHEN ({fulfilment_status}) = 'shipped' "
            f"THEN {created} + ((g % 48) || ' hours')::interval END",
        },
        "generate_series(1, %s) AS g",
        [orders],
    )
    print("  events ...", flush=True)
    insert_select(
        OrderEvent,
        {
            "order_id": f"{first_order} - 1 + g",
            "kind": "CASE WHEN n = 1 THEN 'created' ELSE 'allocated' END",
            "message": "''",
            "data": "CASE WHEN n = 1 THEN '{}'::jsonb ELSE jsonb_build_object('explanation', "
            "jsonb_build_object('locations', jsonb_build_array(jsonb_build_object("
            f"'location', CASE WHEN g % 10 = 0 THEN 'ST-' ELSE 'DC-' END || "
            f"lpad((CASE WHEN g % 10 = 0 THEN g % {STORES} ELSE g % {LOCATIONS} END)::text, 3, "
            "'0'), 'units', 1 + g % 3, 'total', 5 + (g % 700) / 100.0)))) END",
            "public": "n = 1",
            "created_at": created,
        },
        "generate_series(1, %s) AS g, generate_series(1, 2) AS n",
        [orders],
    )
    print("  vacuum analyze ...", flush=True)
    with connection.cursor() as cursor:
        # As autovacuum does soon after a bulk load: statistics, and the visibility map that
        # lets index-only scans skip the table.
        cursor.execute("VACUUM (ANALYZE)")
    User.objects.create_superuser("bench-admin", "admin@example.com", "bench")
    clerk = User.objects.create_user("bench-store", "store@example.com", "bench", is_staff=True)
    clerk.groups.add(Group.objects.get(name="store staff"))
    Membership.objects.create(user=clerk, location_id=loc["ST-001"])
    agent = User.objects.create_user("bench-service", "cs@example.com", "bench", is_staff=True)
    agent.groups.add(Group.objects.get(name="customer service"))


def urls() -> list[tuple[str, str]]:
    """Return (who, url) for every page to time."""
    from django.contrib import admin
    from django.urls import reverse

    from console.queues import QUEUES
    from inventory.models import Location

    store = Location.objects.get(code="ST-001").pk
    warehouse = Location.objects.get(code="DC-150").pk
    pages = []
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        base = reverse(name)
        pages.append(base)
        if model_admin.search_fields:
            pages.append(f"{base}?q=c4242%40example.com")
    pages += [
        "/admin/orders/order/?status__exact=backordered",
        "/admin/orders/order/?status__exact=delivered",
        "/admin/orders/order/?channel__id__exact=2",
        "/admin/orders/order/?delivery_method__exact=express",
        "/admin/orders/order/?needs_attention__exact=1",
        "/admin/orders/order/?q=B00424242",
        "/admin/fulfilment/fulfilment/?status__exact=requested",
        f"/admin/fulfilment/fulfilment/?location__id__exact={warehouse}",
        "/admin/fulfilment/fulfilment/?q=1Z424242",
        "/admin/inventory/stocklevel/?state=out",
        "/admin/inventory/stocklevel/?state=unavailable",
        "/admin/inventory/stocklevel/?state=below_safety",
        "/admin/inventory/stocklevel/?location__kind__exact=store",
        f"/admin/inventory/stocklevel/?location__id__exact={warehouse}",
        "/admin/inventory/stocklevel/?q=SKU-004242",
        "/admin/inventory/stocklevel/?q=DC-150",
        "/admin/inventory/stockmovement/",
    ]
    console = [reverse("oms_console:dashboard")]
    for slug in QUEUES:
        queue = reverse("oms_console:queue", args=[slug])
        console += [queue, f"{queue}?location=DC-150", f"{queue}?q=c4242%40example.com"]
    # Customer service: finding people, an order's page, the alerts page.
    service = [
        f"{SEARCH_PAGE}lovelace",
        f"{SEARCH_PAGE}Surname0424",
        f"{SEARCH_PAGE}urname042",
        f"{SEARCH_PAGE}c4242%40exa",
        f"{SEARCH_PAGE}c42424",
        f"{SEARCH_PAGE}0424242",
        f"{SEARCH_PAGE}06+00+42+42",
        f"{SEARCH_PAGE}1Z424242",
        f"{SEARCH_PAGE}B00424242",
        f"{SEARCH_PAGE}emma",
        reverse("orders_console:order", args=["B00424242"]),
        reverse("orders_console:order", args=["B00999990"]),
        reverse("alerts_console:list"),
    ]
    return (
        [("admin", page) for page in pages + console]
        + [("service", page) for page in [*service, reverse("oms_console:dashboard")]]
        + [
            ("store", page)
            for page in console
            + [
                f"{SEARCH_PAGE}Surname0424",
                f"/admin/fulfilment/fulfilment/?location__id__exact={store}",
            ]
        ]
    )


def measure() -> list[tuple[str, str, int, float, float, float]]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from console.tasks import stock_snapshot_refresh_task

    started = time.perf_counter()
    stock_snapshot_refresh_task()  # as the beat does every few minutes
    print(f"stock snapshot (periodic task): {(time.perf_counter() - started) * 1000:.0f} ms")
    clients = {}
    for who, username in (
        ("admin", "bench-admin"),
        ("store", "bench-store"),
        ("service", "bench-service"),
    ):
        clients[who] = Client()
        clients[who].force_login(User.objects.get(username=username))
    sql_ms = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_ms[0] += (time.perf_counter() - started) * 1000

    print(f"load average before: {load_average()}")
    results = []
    for who, url in urls():
        client = clients[who]
        times, sql_times = [], []
        status = 0
        for _ in range(4):
            sql_ms[0] = 0.0
            started = time.perf_counter()
            with connection.execute_wrapper(timed):
                response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            sql_times.append(sql_ms[0])
            status = response.status_code
        warm = statistics.median(times[1:])
        # The SQL time of the warm run nearest the median.
        pairs = zip(times[1:], sql_times[1:], strict=True)
        sql = min(pairs, key=lambda pair: abs(pair[0] - warm))[1]
        results.append((who, url, status, times[0], warm, sql))
    print(f"load average after: {load_average()}")
    return results


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) + f" ({os.cpu_count()} cores)"


def goal(url: str) -> int:
    return SEARCH_GOAL_MS if url.startswith(SEARCH_PAGE) else GOAL_MS


def report(results) -> None:
    print(f"\n{'who':7} {'status':>6} {'cold ms':>8} {'warm ms':>8} {'sql ms':>7}  url")
    for who, url, status, cold, warm, sql in results:
        flag = f"  <-- over {goal(url)} ms" if warm > goal(url) else ""
        print(f"{who:7} {status:>6} {cold:>8.0f} {warm:>8.0f} {sql:>7.0f}  {url}{flag}")
    slowest = sorted(results, key=lambda row: -row[4])[:8]
    print("\nslowest (warm median; SQL / Python):")
    for who, url, _status, _cold, warm, sql in slowest:
        print(f"  {warm:6.0f} ms ({sql:4.0f} SQL / {warm - sql:4.0f} Python)  {who:6} {url}")
    over = [row for row in results if row[4] > goal(row[1])]
    bad = [row for row in results if row[2] != 200]
    searches = [row[4] for row in results if row[1].startswith(SEARCH_PAGE)]
    print(
        f"\n{len(results)} pages; {len(over)} over their goal ({GOAL_MS} ms a page, "
        f"{SEARCH_GOAL_MS} ms a search); {len(bad)} not 200"
    )
    if searches:
        print(
            f"finding customers: {len(searches)} searches, median {statistics.median(searches):.0f}"
            f" ms, slowest {max(searches):.0f} ms"
        )


if __name__ == "__main__":
    sys.exit(main())
