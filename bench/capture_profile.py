#!/usr/bin/env python
"""Order capture's app CPU, in-process: the WSGI application called as gunicorn calls it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/capture_profile.py \
        [--orders 300] [--profile]

Runs against the database in `DATABASE_URL` as it is (it must hold the demo network:
`manage.py seed_demo`), with `DEBUG` off. It sends 3-line orders through the whole
middleware stack and view with no HTTP server and no client in the way, and prints the
CPU per order of this process (the app's share of capture) and of its PostgreSQL
backend, with the load average. `--profile` runs the loop under pyinstrument and
prints where the app's time went.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
os.environ["DEBUG"] = "0"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def environ_for(body: bytes, token: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/orders/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _start(answer: list[str]):
    def start_response(status: str, headers: list) -> None:
        answer.append(status)

    return start_response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="pyinstrument: wall time")
    parser.add_argument("--cprofile", type=int, default=0, help="cProfile: the N costliest")
    parser.add_argument("--sort", default="cumulative", help="cProfile's order: tottime ...")
    options = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench/capture_profile.py: skipped, set DATABASE_URL to a PostgreSQL database")
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    # The same bodies as the HTTP bench (bench/orders.py; `orders` is also the app's name).
    spec = importlib.util.spec_from_file_location("bench_orders", ROOT / "bench" / "orders.py")
    assert spec is not None and spec.loader is not None
    bench_orders = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_orders)
    order_body = bench_orders.order_body

    application = get_wsgi_application()
    printed = io.StringIO()
    call_command("create_api_token", "bench-profile", stdout=printed, stderr=io.StringIO())
    token = printed.getvalue().strip().split()[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT p.sku FROM inventory_stocklevel s
               JOIN inventory_product p ON p.id = s.product_id
               JOIN inventory_location l ON l.id = s.location_id
               WHERE l.kind = 'warehouse' AND s.on_hand - s.allocated - s.safety_stock > 200
               ORDER BY p.sku"""
        )
        skus = [row[0] for row in cursor.fetchall()]
    rng = random.Random(7)
    statuses: dict[int, int] = {}

    def send(count: int) -> None:
        for _ in range(count):
            body = json.dumps(order_body(rng, skus, None)).encode()
            answer: list[str] = []
            chunks = application(environ_for(body, token), _start(answer))
            b"".join(chunks)
            chunks.close()
            code = int(answer[0].split()[0])
            statuses[code] = statuses.get(code, 0) + 1

    send(30)  # warm up: prepared statements, caches
    statuses.clear()
    backend = connection.connection.info.backend_pid
    profiler = None
    if options.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    if options.cprofile:
        import cProfile
        import pstats

        with cProfile.Profile(time.process_time) as cprofiler:
            send(options.orders)
        stats = pstats.Stats(cprofiler).sort_stats(options.sort)
        stats.print_stats(options.cprofile)
        return
    pg_before, cpu_before, wall_before = _backend_cpu(backend), time.process_time(), time.time()
    send(options.orders)
    cpu = time.process_time() - cpu_before
    wall = time.time() - wall_before
    pg = _backend_cpu(backend) - pg_before
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    per = 1000 / options.orders
    print(
        f"{options.orders} orders in-process (statuses {statuses}): "
        f"app {cpu * per:.2f} ms CPU per order, PostgreSQL {pg * per:.2f} ms, "
        f"wall {wall * per:.2f} ms; load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
