#!/usr/bin/env python
"""Storefront connectors: stock figures from the ledger to a storefront, through the relay.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/connectors.py

It makes a database of its own (`<name>_bench_connectors`, dropped at the end unless
--keep), starts a fake Shopify shop (the tests' one: GraphQL Admin API on localhost, noting
when each inventorySetQuantities arrives) and a real Celery worker, connects the `web`
channel to the shop with one mapped warehouse and `--skus` products, and pushes every
figure once (remote ids looked up and kept). Then, in one run:

* latency: `--changes` ledger changes (stock_adjust, each on its own SKU, `--rate` a
  second), each committed as the services commit. Prints p50/p99/max from the commit to
  the storefront's receipt of the new figure.
* burst: `--burst` changes of each of 5 SKUs, as fast as one process commits them. Prints
  the changes per storefront call for those SKUs (the coalescing ratio) and the time until
  the last figure arrived.
* webhooks (last: its orders' stock moves would queue ahead of the figures above): signed
  Shopify `orders/create` webhooks POSTed to `/connectors/web/webhook/` on a gunicorn
  server (2 workers) at `--orders-per-minute` for `--minutes` (only when the webhook
  endpoint exists in this checkout). Prints p50/p99 of the time to answer.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_connectors"
QUEUE = "oms-bench-connectors"
SHOP_LOCATION = "gid://shopify/Location/1"
WEBHOOK_SECRET = "bench-webhook-secret-0123"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def setup(shop, skus: int):
    """The network, the catalogue with stock, the connector; every figure pushed once."""
    from connectors.models import Connector, ConnectorLocation
    from connectors.sealing import secret_seal
    from connectors.services.outbound import connector_push, stock_push_all
    from inventory.models import Location, Product
    from inventory.services import stock_receive
    from orders.models import Channel
    from outbox.producers import producers_run

    dc = Location.objects.create(
        code="DC-BENCH", name="Bench warehouse", lat=48.85, lon=2.35, shipment_cost="5.00"
    )
    products = Product.objects.bulk_create(
        [Product(sku=f"SKU-{n:05d}", name=f"Product {n}") for n in range(skus)]
    )
    for product in products:
        stock_receive(product=product, location=dc, quantity=10_000, reference="bench")
        shop.variant_add(product.sku)
    connector = Connector.objects.create(
        channel=Channel.objects.get(code="web"),
        kind="shopify",
        base_url=shop.base_url,
        webhook_secret_sealed=secret_seal(WEBHOOK_SECRET),
        access_token_sealed=secret_seal(shop.token),
    )
    ConnectorLocation.objects.create(connector=connector, location=dc, remote_id=SHOP_LOCATION)
    stock_push_all(connector=connector)
    while connector_push(connector=connector).skus:
        pass
    # The relay's producers start at the end of what exists, as on a running system.
    producers_run()
    return connector, dc, products


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def arrivals(shop, item: str, figure: int, after: float) -> float | None:
    """When the storefront first received `figure` for the inventory item after `after`,
    or None."""
    for at, rows in list(shop.set_log):
        if at < after:
            continue
        for row in rows:
            if row["inventoryItemId"] == item and row["quantity"] == figure:
                return at
    return None


def latency(shop, connector, dc, products, changes: int, rate: float) -> dict:
    """One change per SKU, `rate` a second; each new figure's delay to the storefront."""
    from inventory.selectors import available_by_location
    from inventory.services import stock_adjust

    committed: list[tuple[str, int, float]] = []
    started = time.monotonic()
    for n in range(changes):
        pause = started + n / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        product = products[n % len(products)]
        stock_adjust(product=product, location=dc, quantity=-1, reason="bench")
        at = time.time()
        by_sku = available_by_location(skus=[product.sku], channel=connector.channel)
        figure = by_sku.get(product.sku, {}).get(dc.code, 0)
        committed.append((shop.variants[product.sku]["item"], figure, at))
    wait_until(lambda: arrivals(shop, *committed[-1]) is not None, 120)
    delays, missing = [], 0
    for item, figure, at in committed:
        arrived = arrivals(shop, item, figure, at)
        if arrived is None:
            missing += 1
            if os.environ.get("BENCH_DEBUG"):
                from connectors.models import StockSync

                sku = next(s for s, ids in shop.variants.items() if ids["item"] == item)
                row = StockSync.objects.get(sku=sku)
                sent = [
                    (round(at2 - at, 2), r["quantity"])
                    for at2, rows in shop.set_log
                    for r in rows
                    if r["inventoryItemId"] == item
                ]
                print(
                    "DEBUG",
                    sku,
                    figure,
                    row.dirty,
                    row.version,
                    row.pushed,
                    row.next_try_at,
                    row.claimed_until,
                    row.last_error,
                    sent,
                )
        else:
            delays.append(arrived - at)
    return {"changes": changes, "missing": missing, "delays": delays}


def burst(shop, connector, dc, products, per_sku: int) -> dict:
    """`per_sku` changes of each of 5 SKUs, as fast as they commit; calls per SKU."""
    from inventory.selectors import available_by_location
    from inventory.services import stock_adjust

    chosen = products[-5:]
    items = {shop.variants[p.sku]["item"] for p in chosen}
    before = len(shop.set_log)
    started = time.time()
    for _ in range(per_sku):
        for product in chosen:
            stock_adjust(product=product, location=dc, quantity=-1, reason="bench burst")
    committed = time.time()
    figures = available_by_location(skus=[p.sku for p in chosen], channel=connector.channel)
    final = {shop.variants[p.sku]["item"]: figures[p.sku][dc.code] for p in chosen}
    settled = wait_until(
        lambda: all(shop.levels.get((item, SHOP_LOCATION)) == f for item, f in final.items()),
        120,
    )
    if os.environ.get("BENCH_DEBUG") and not settled:
        for item, figure in final.items():
            print("DEBUG burst", item, figure, shop.levels.get((item, SHOP_LOCATION)))
    calls = [
        (at, rows)
        for at, rows in shop.set_log[before:]
        if any(row["inventoryItemId"] in items for row in rows)
    ]
    per_sku_calls = sum(
        sum(1 for row in rows if row["inventoryItemId"] in items) for _, rows in calls
    )
    return {
        "changes": per_sku * len(chosen),
        "commit_seconds": committed - started,
        "sku_sends": per_sku_calls,
        "calls": len(calls),
        "settled": settled,
        "last_after_commit": (max(at for at, _ in calls) - committed) if calls else None,
    }


def shopify_webhook(number: int, sku: str) -> bytes:
    order = {
        "id": 900_000_000 + number,
        "name": f"#B{number}",
        "email": f"bench{number}@example.com",
        "currency": "EUR",
        "created_at": "2026-12-01T10:00:00+01:00",
        "cancelled_at": None,
        "financial_status": "paid",
        "line_items": [{"id": number, "sku": sku, "quantity": 1, "price": "19.90"}],
        "shipping_lines": [{"code": "standard", "price": "0.00"}],
        "customer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "shipping_address": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "address1": "1 rue de Rivoli",
            "city": "Paris",
            "zip": "75001",
            "country_code": "FR",
            "latitude": 48.86,
            "longitude": 2.34,
        },
    }
    return json.dumps(order).encode()


def webhooks(port: int, products, per_minute: float, minutes: float) -> dict:
    """POST signed orders/create webhooks at a steady rate; time each answer."""
    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=32, retries=False)
    total = int(per_minute * minutes)
    interval = 60.0 / per_minute
    timings: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(number: int) -> None:
        body = shopify_webhook(number, products[number % len(products)].sku)
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Webhook-Id": f"bench-{number}",
            "X-Shopify-Shop-Domain": "bench.myshopify.com",
        }
        began = time.perf_counter()
        try:
            status = pool.urlopen(
                "POST", "/connectors/web/webhook/", body=body, headers=headers
            ).status
        except urllib3.exceptions.HTTPError:
            status = 0  # no answer
        took = time.perf_counter() - began
        with lock:
            timings.append(took)
            statuses[status] = statuses.get(status, 0) + 1

    threads = []
    started = time.monotonic()
    for number in range(total):
        pause = started + number * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        thread = threading.Thread(target=send, args=(number,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(60)
    return {"sent": total, "statuses": statuses, "timings": timings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="Ledger changes a second.")
    parser.add_argument("--burst", type=int, default=100, help="Changes of each burst SKU.")
    parser.add_argument("--orders-per-minute", type=float, default=1000.0)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("connectors: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_create(url, SUFFIX)
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "CELERY_QUEUE": QUEUE,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORT": "0",
        "SECURE_SSL_REDIRECT": "0",
        # The fake shop listens on this machine, which outbound calls reach only when allowed.
        "OMS_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
    }
    os.environ.update(env)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        import django

        django.setup()
        from django.urls import NoReverseMatch, reverse

        from oms.celery import app
        from tests.connectors.fakes.shopify import FakeShopify

        shop = FakeShopify().start()
        connector, dc, products = setup(shop, args.skus)
        # The setup's own tasks (backorder checks of every receipt) are not the bench's.
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(QUEUE)
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "oms",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    QUEUE,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    f"--loglevel={os.environ.get('BENCH_WORKER_LOG', 'WARNING')}",
                ],
                cwd=ROOT,
                env=env,
                stdout=(out_dir / "connectors-worker.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        time.sleep(3.0)  # the worker's first runs, on nothing
        lines = []
        timed = latency(shop, connector, dc, products, args.changes, args.rate)
        d = timed["delays"]
        lines.append(
            f"latency   {timed['changes']} ledger changes at {args.rate:g}/s, "
            f"{timed['missing']} not arrived: commit -> storefront p50 "
            f"{percentile(d, 50) * 1000:.0f} ms, p99 {percentile(d, 99) * 1000:.0f} ms, "
            f"max {max(d) * 1000:.0f} ms"
        )
        burst_figures = burst(shop, connector, dc, products, args.burst)
        last = burst_figures["last_after_commit"]
        lines.append(
            f"burst     {burst_figures['changes']} changes of 5 SKUs committed in "
            f"{burst_figures['commit_seconds']:.1f} s -> {burst_figures['sku_sends']} SKU "
            f"figures sent in {burst_figures['calls']} calls: "
            f"{burst_figures['changes'] / max(burst_figures['sku_sends'], 1):.0f} changes per "
            f"figure sent; last figure {last * 1000 if last is not None else float('nan'):.0f} "
            f"ms after the last commit; settled: {burst_figures['settled']}"
        )
        try:
            reverse("connector-webhook", args=["web"])
            has_webhook = True
        except NoReverseMatch:
            has_webhook = False
        if has_webhook:
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "-c",
                        "gunicorn.conf.py",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "2",
                        "oms.wsgi",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=(out_dir / "connectors-web.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
            if not wait_until(lambda: _listening(port), 90):
                raise SystemExit("gunicorn did not start: see bench/out/connectors-web.log")
            hooks = webhooks(port, products, args.orders_per_minute, args.minutes)
            t = hooks["timings"]
            answers = dict(sorted(hooks["statuses"].items()))
            lines.append(
                f"webhooks  {hooks['sent']} signed orders/create at "
                f"{args.orders_per_minute:.0f}/min for {args.minutes:g} min, answers "
                f"{answers}: p50 {percentile(t, 50) * 1000:.0f} ms, "
                f"p99 {percentile(t, 99) * 1000:.0f} ms, max {max(t) * 1000:.0f} ms"
            )
            from connectors.models import StorefrontOrder

            applied = StorefrontOrder.objects.filter(status="applied").count()
            lines[-1] += f"; {applied} orders placed"
        else:
            lines.append("webhooks  skipped: no webhook endpoint in this checkout")
        print("\n".join(lines))
        shop.stop()
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
