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
  server (2 workers) at each rate of `--orders-per-minute` (comma-separated) for
  `--minutes`, after a few unmeasured ones. Prints per rate: p50/p99/max of the time to
  answer (the order placed in the request), the web server's CPU per webhook (its
  processes' utime + stime from /proc), the delay from storing to the order placed
  (p50/p99), the worker's CPU per order it placed, if any, and the load average.

Every wait has a deadline (`--deadline` for the whole run), and the worker, the web server
and the fake shop are stopped in `finally`, whatever happened.
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
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """Return the CPU seconds (user + system) of process `pid` and of its live children
    (gunicorn's workers), from /proc; `with_children` adds those its children left when
    they were reaped (a worker recycled by gunicorn)."""
    total = 0.0
    for candidate in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # After the ")": state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based.
        used = int(fields[11]) + int(fields[12])
        if with_children and candidate == pid:
            used += int(fields[13]) + int(fields[14])
        total += used / TICK
    return total


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def say(line: str) -> None:
    """Print a phase's figures as soon as it ends: a run stopped later still shows them."""
    print(line, flush=True)


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


# The whole run ends by then (set by main): no wait goes past it.
RUN_DEADLINE = float("inf")


def wait_until(condition, timeout: float) -> bool:
    deadline = min(time.monotonic() + timeout, RUN_DEADLINE)
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


def webhook_send(pool, number: int, sku: str) -> tuple[int, float]:
    """POST one signed orders/create; return its status (0: no answer) and seconds taken."""
    import urllib3

    body = shopify_webhook(number, sku)
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
            "POST",
            "/connectors/web/webhook/",
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=5.0, read=60.0),
        ).status
    except urllib3.exceptions.HTTPError:
        status = 0  # no answer in time
    return status, time.perf_counter() - began


def webhooks(
    port: int, products, per_minute: float, minutes: float, first: int, web_pid: int
) -> dict:
    """POST signed orders/create webhooks at a steady rate (numbered from `first`); time
    each answer; the web server's CPU over the run."""
    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=64, retries=False)
    total = int(per_minute * minutes)
    interval = 60.0 / per_minute
    timings: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(number: int) -> None:
        status, took = webhook_send(pool, number, products[number % len(products)].sku)
        with lock:
            timings.append(took)
            statuses[status] = statuses.get(status, 0) + 1

    cpu_before = cpu_seconds(web_pid, with_children=True)
    threads = []
    started = time.monotonic()
    for n in range(total):
        if time.monotonic() > RUN_DEADLINE:
            break
        pause = started + n * interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        thread = threading.Thread(target=send, args=(first + n,), daemon=True)
        thread.start()
        threads.append(thread)
    # Each request gives up after 65 s at most; the joins share one deadline.
    deadline = min(time.monotonic() + 90, RUN_DEADLINE)
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(web_pid, with_children=True) - cpu_before
    unanswered = sum(1 for thread in threads if thread.is_alive())
    pool.close()
    return {
        "sent": len(threads),
        "statuses": statuses,
        "timings": timings,
        "unanswered": unanswered,
        "web_cpu": cpu,
        "seconds": elapsed,
        "load": load_average(),
    }


def orders_placed(first: int, count: int, timeout: float) -> dict:
    """Wait until the worker has applied the bodies numbered first..first+count-1; return
    the delays from storing to applying and the worker's CPU meanwhile."""
    from connectors.models import StorefrontOrder

    ids = [f"bench-{n}" for n in range(first, first + count)]
    rows = StorefrontOrder.objects.filter(webhook_id__in=ids)
    wait_until(lambda: not rows.filter(status="received").exists(), timeout)
    done = list(rows.exclude(status="received").values_list("received_at", "processed_at"))
    return {
        "stored": rows.count(),
        "applied": rows.filter(status="applied").count(),
        "delays": [(processed - received).total_seconds() for received, processed in done],
        "last": max((processed for _, processed in done), default=None),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="Ledger changes a second.")
    parser.add_argument("--burst", type=int, default=100, help="Changes of each burst SKU.")
    parser.add_argument(
        "--orders-per-minute",
        default="300,1000",
        help="Webhook rates, comma-separated: each runs for --minutes.",
    )
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument(
        "--deadline", type=float, default=1800.0, help="Seconds the whole run may take."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    global RUN_DEADLINE
    RUN_DEADLINE = time.monotonic() + args.deadline
    rates = [float(rate) for rate in args.orders_per_minute.split(",") if rate.strip()]

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
    shop = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        import django

        django.setup()
        from django.urls import NoReverseMatch, reverse

        from oms.celery import app
        from tests.connectors.fakes.shopify import FakeShopify

        # The shop's clock follows the wall clock: its GraphQL cost budget refills as time
        # passes (a standing clock never refills it, and the shop would answer THROTTLED for
        # good once a few hundred calls had spent it).
        shop = FakeShopify(real_clock=True).start()
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
        worker_pid = processes[-1].pid
        time.sleep(3.0)  # the worker's first runs, on nothing
        say(f"load average at start {load_average()}")
        timed = latency(shop, connector, dc, products, args.changes, args.rate)
        d = timed["delays"]
        say(
            f"latency   {timed['changes']} ledger changes at {args.rate:g}/s, "
            f"{timed['missing']} not arrived: commit -> storefront p50 "
            f"{percentile(d, 50) * 1000:.0f} ms, p99 {percentile(d, 99) * 1000:.0f} ms, "
            f"max {max(d, default=float('nan')) * 1000:.0f} ms; load {load_average()}"
        )
        burst_figures = burst(shop, connector, dc, products, args.burst)
        last = burst_figures["last_after_commit"]
        say(
            f"burst     {burst_figures['changes']} changes of 5 SKUs committed in "
            f"{burst_figures['commit_seconds']:.1f} s -> {burst_figures['sku_sends']} SKU "
            f"figures sent in {burst_figures['calls']} calls: "
            f"{burst_figures['changes'] / max(burst_figures['sku_sends'], 1):.0f} changes per "
            f"figure sent; last figure {last * 1000 if last is not None else float('nan'):.0f} "
            f"ms after the last commit; settled: {burst_figures['settled']}; "
            f"load {load_average()}"
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
            web_pid = processes[-1].pid
            if not wait_until(lambda: _listening(port), 90):
                raise SystemExit("gunicorn did not start: see bench/out/connectors-web.log")
            import urllib3

            # A few unmeasured webhooks: each web worker's first request opens its database
            # connection and imports what the view needs.
            warm = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=4, retries=False)
            for n in range(20):
                webhook_send(warm, 800_000 + n, products[n].sku)
            warm.close()
            first = 0
            for rate in rates:
                worker_before = cpu_seconds(worker_pid)
                hooks = webhooks(port, products, rate, args.minutes, first, web_pid)
                placed = orders_placed(first, hooks["sent"], 600)
                worker_cpu = cpu_seconds(worker_pid) - worker_before
                t = hooks["timings"]
                answers = dict(sorted(hooks["statuses"].items()))
                lag = placed["delays"]
                say(
                    f"webhooks  {hooks['sent']} signed orders/create at {rate:.0f}/min for "
                    f"{args.minutes:g} min (load {hooks['load']}), answers {answers}, "
                    f"{hooks['unanswered']} unanswered: answer "
                    f"p50 {percentile(t, 50) * 1000:.0f} ms, "
                    f"p99 {percentile(t, 99) * 1000:.0f} ms, "
                    f"max {max(t, default=float('nan')) * 1000:.0f} ms; web CPU "
                    f"{hooks['web_cpu'] / max(hooks['sent'], 1) * 1000:.1f} ms per webhook; "
                    f"{placed['stored']} stored, {placed['applied']} placed, "
                    f"stored -> placed p50 {percentile(lag, 50):.1f} s, "
                    f"p99 {percentile(lag, 99):.1f} s; worker CPU "
                    f"{worker_cpu / max(placed['applied'], 1) * 1000:.0f} ms per order (the stock "
                    f"figures its units moved); load {load_average()}"
                )
                first += hooks["sent"]
        else:
            say("webhooks  skipped: no webhook endpoint in this checkout")
    finally:
        if shop is not None:
            shop.stop()
        for process in processes:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
