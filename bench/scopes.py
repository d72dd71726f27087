"""What scoping costs an API request: the same reads and order capture with a token without
scope, one scoped to a location (a 3PL) and one scoped to a channel (a storefront).

Makes its own database (<name>_bench_scopes beside the one in DATABASE_URL, dropped at the
end), loads the demo network (`seed_demo`: 45 locations, 500 products), places orders over
the API, then times requests through Django's test client (in process, no server): the
median and 95th percentile in milliseconds and the SQL queries per request, per endpoint
and kind of token. The token's permissions, locations and channels are read with the token
in one query, so a scoped request should cost no query more than an unscoped one but the
narrowing itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/scopes.py [--orders N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_scopes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="Orders placed before timing.")
    parser.add_argument("--requests", type=int, default=100, help="Timed requests per row.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("scopes: skipped (needs DATABASE_URL to PostgreSQL)")
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
        tokens = setup(args.orders)
        rows = measure(tokens, args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(url, SUFFIX)
    report(rows)
    return 0


def _token(username: str, *options: str) -> str:
    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", username, *options, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def setup(orders: int) -> dict[str, str]:
    """Migrate, seed the demo network, place `orders` orders; return a token per kind."""
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from inventory.models import Location, StockLevel

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    busiest = (
        StockLevel.objects.filter(location__ships=True, on_hand__gt=0)
        .values_list("location__code", flat=True)
        .order_by("-on_hand")
        .first()
    )
    tokens = {
        "no scope": _token("bench-erp"),
        "location": _token("bench-3pl", "--location", busiest),
        "channel": _token("bench-shop", "--channel", "web"),
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {tokens['no scope']}")
    skus = list(
        StockLevel.objects.filter(location__code=busiest, on_hand__gt=5).values_list(
            "product__sku", flat=True
        )[:50]
    )
    for n in range(orders):
        body = _order("web" if n % 2 else "app", f"B-{n}", skus[n % len(skus)])
        client.post("/api/v1/orders/", body, format="json")
    print(f"seeded: {Location.objects.count()} locations, {orders} orders; 3PL at {busiest}")
    return tokens


def _order(channel: str, external_id: str, sku: str) -> dict:
    return {
        "channel": channel,
        "external_id": external_id,
        "customer": {"email": "b@example.com", "name": "Bench", "phone": "+33 6 12 34 56 78"},
        "shipping_address": {
            "line1": "1 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
            "lat": 48.86,
            "lon": 2.34,
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": 1, "unit_price": "10.00"}],
    }


READS = [
    "/api/v1/stock/?page_size=100",
    "/api/v1/fulfilments/?page_size=100",
    "/api/v1/orders/?page_size=100",
    "/api/v1/locations/",
    "/api/v1/webhooks/",
]


def measure(tokens: dict[str, str], requests: int) -> list[tuple]:
    from rest_framework.test import APIClient

    rows = []
    for kind, token in tokens.items():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        for path in READS:
            rows.append((kind, f"GET {path}", *_time(client.get, path, requests)))
        if kind != "location":
            n = iter(range(10**9))

            def capture(_path, client=client, kind=kind, n=n):
                body = _order("web", f"T-{kind}-{next(n)}", _any_sku())
                return client.post("/api/v1/orders/", body, format="json")

            rows.append((kind, "POST /api/v1/orders/", *_time(capture, "", requests)))
    return rows


_SKU: list[str] = []


def _any_sku() -> str:
    if not _SKU:
        from inventory.models import StockLevel

        _SKU.extend(
            StockLevel.objects.filter(on_hand__gt=100).values_list("product__sku", flat=True)[:20]
        )
    _SKU.append(_SKU.pop(0))
    return _SKU[0]


def _time(call, path: str, requests: int) -> tuple[float, float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call(path)  # warm
    timings, queries = [], []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = call(path)
            timings.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))
        assert response.status_code < 500, response.content
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, statistics.median(queries), response.status_code


def report(rows: list[tuple]) -> None:
    print(f"{'token':<10} {'request':<42} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'status':>7}")
    for kind, what, p50, p95, queries, status in rows:
        print(f"{kind:<10} {what:<42} {p50:8.1f} {p95:8.1f} {queries:8.0f} {status:7d}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine)")


if __name__ == "__main__":
    raise SystemExit(main())
