#!/usr/bin/env python
"""Delivery-option quotes for 3-line baskets on the demo network: p50/p99, in-process and
over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/delivery_options.py

It makes a database of its own (`<name>_bench_delivery`), migrates it, loads the demo
network (`seed_demo`: ~45 locations, carriers, prices, calendars), then times
`delivery_quote` in this process and `POST /api/v1/delivery-options/` through gunicorn
(sync workers, like bench/orders.py): first one client per worker (the latency of a quote,
no request waiting for a worker), then twice as many clients (throughput). Baskets draw 3
SKUs that a Paris warehouse holds, for destinations spread over France; `at` is a weekday
morning, so every method is in play.

The machine may be shared: the load average is printed, and so is the CPU each quote
costs (the gunicorn workers and the bench database's PostgreSQL backends, read from /proc;
in-process, this process's CPU time), which other work on the machine disturbs far less
than the wall-clock times.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.orders import (  # noqa: E402 - the same database and server helpers
    CpuMeter,
    admin_dsn,
    dsn,
    percentile,
    prepare,
    server_env,
    start_server,
)


def bench_url(base: str) -> str:
    parsed = urlparse(base)
    return parsed._replace(path=f"{parsed.path.rstrip('/') or '/oms'}_bench_delivery").geturl()


def drop(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with psycopg.connect(admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def skus_in_paris(url: str) -> list[str]:
    with psycopg.connect(dsn(url)) as conn:
        return [
            row[0]
            for row in conn.execute(
                """SELECT p.sku FROM inventory_stocklevel s
                   JOIN inventory_product p ON p.id = s.product_id
                   JOIN inventory_location l ON l.id = s.location_id
                   WHERE l.code = 'DC-PARIS' AND s.on_hand - s.safety_stock > 20
                   ORDER BY p.sku"""
            )
        ]


def next_weekday_morning() -> str:
    day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return datetime(
        day.year, day.month, day.day, 10, 30, tzinfo=ZoneInfo("Europe/Paris")
    ).isoformat()


def basket(rng: random.Random, skus: list[str], at: str) -> dict:
    return {
        "channel": "web",
        "lines": [{"sku": sku, "quantity": rng.randint(1, 2)} for sku in rng.sample(skus, 3)],
        "destination": {
            "postcode": "75001",
            "country": "FR",
            "lat": 43 + rng.random() * 7,
            "lon": -1 + rng.random() * 8,
        },
        "at": at,
    }


def in_process(env: dict, skus: list[str], at: str, count: int) -> list[float]:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "oms.settings"
    import django

    django.setup()
    from inventory.models import Product
    from orders.models import Channel
    from orders.services.delivery_options import Destination, delivery_quote

    channel = Channel.objects.get(code="web")
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    moment = datetime.fromisoformat(at)
    rng = random.Random(7)
    timings, cpu = [], 0.0
    for n in range(count + 20):
        body = basket(rng, skus, at)
        destination = Destination(**body["destination"])
        lines = [(products[line["sku"]], line["quantity"]) for line in body["lines"]]
        started, cpu_started = time.perf_counter(), time.process_time()
        quote = delivery_quote(channel=channel, lines=lines, destination=destination, at=moment)
        elapsed = time.perf_counter() - started
        assert quote.options, "the demo network should serve a 3-line basket"
        if n >= 20:  # the first quotes load the settings and warm caches
            timings.append(elapsed)
            cpu += time.process_time() - cpu_started
    return timings, cpu


def over_http(port: int, token: str, skus: list[str], at: str, clients: int, count: int):
    timings, statuses = [], []
    lock = threading.Lock()

    def work(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(count // clients):
            payload = json.dumps(basket(rng, skus, at))
            started = time.perf_counter()
            conn.request(
                "POST",
                "/api/v1/delivery-options/",
                body=payload,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - started, response.status))
        conn.close()
        with lock:
            for elapsed, code in mine:
                timings.append(elapsed)
                statuses.append(code)

    pool = [threading.Thread(target=work, args=(seed,)) for seed in range(clients)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return timings, statuses, time.perf_counter() - started


def line(label: str, timings: list[float]) -> str:
    return (
        f"{label:<36} p50 {percentile(timings, 50) * 1000:6.1f} ms   "
        f"p99 {percentile(timings, 99) * 1000:6.1f} ms   ({len(timings)} quotes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    options = parser.parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        print("bench/delivery_options.py: skipped, set DATABASE_URL to a PostgreSQL database")
        return
    url = bench_url(base)
    env = server_env(url)
    print(f"preparing {urlparse(url).path.lstrip('/')}: migrate, seed_demo ...", flush=True)
    token = prepare(url, env)
    skus = skus_in_paris(url)
    at = next_weekday_morning()
    print(
        f"3-line baskets, {len(skus)} SKUs, at {at}; load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    server_options = argparse.Namespace(
        worker_class="sync", workers=options.workers, threads=1, preload=True
    )
    server = start_server(env, options.port, server_options)
    meter = CpuMeter(server.pid, urlparse(url).path.lstrip("/"))
    try:
        over_http(options.port, token, skus, at, options.clients, 100)  # warm up
        for clients in dict.fromkeys((options.workers, options.clients)):
            before, client_cpu = meter.sample(), time.process_time()
            timings, statuses, elapsed = over_http(
                options.port, token, skus, at, clients, options.quotes
            )
            after, client_cpu = meter.sample(), time.process_time() - client_cpu
            bad = sum(code != 200 for code in statuses)
            per = 1000 / len(timings)
            app = CpuMeter.used(before, after, "app")
            postgres = CpuMeter.used(before, after, "postgres")
            print(
                line(f"over HTTP ({clients} clients, gunicorn x{options.workers})", timings)
                + f"  {len(timings) / elapsed:.0f} quotes/s, {bad} not 200\n"
                + f"    CPU per quote: app {app * per:.1f} ms, PostgreSQL {postgres * per:.1f} ms,"
                + f" clients {client_cpu * per:.1f} ms; load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    timings, cpu = in_process(env, skus, at, options.quotes)
    print(
        line("in-process (delivery_quote)", timings)
        + f"  CPU {cpu * 1000 / len(timings):.1f} ms per quote"
        + f"; load average {os.getloadavg()[0]:.2f}"
    )
    if not options.keep:
        from django.db import connections

        connections.close_all()
        drop(url)


if __name__ == "__main__":
    main()
