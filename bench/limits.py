#!/usr/bin/env python
"""Bodies over their caps: how fast they are refused, and what that costs the server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/limits.py

It makes a database of its own (`<name>_bench_limits`, dropped at the end), starts gunicorn
with the project's gunicorn.conf.py (2 workers) and then:

* oversize counts: `--parallel` clients at once each declare a 48 MB stock count and send
  its first 64 KB; prints the time to the 413 (p50, max) and /healthz's latency meanwhile;
* long orders: an order of 10,000 lines (refused while parsed: 413) and of 501 lines
  (refused by the serializer: 400), `--repeat` times each; prints the median time;
* the workers' peak resident memory (VmHWM) after all that.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_limits"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def oversize_count(port: int, token: str) -> tuple[int, float]:
    head = (
        "POST /api/v1/stock/counts/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {48 * MB}\r\n\r\n"
    ).encode()
    line = b'{"sku":"SKU-1","quantity":5},'
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(head + b'{"location":"DC-PARIS","lines":[' + line * (64 * 1024 // len(line)))
        status = int(conn.makefile("rb").readline().split()[1])
    return status, time.perf_counter() - started


def post_json(port: int, token: str, path: str, body: dict) -> tuple[int, float]:
    import http.client

    data = json.dumps(body).encode()
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        path,
        data,
        {"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - started


def healthz(port: int) -> float:
    import http.client

    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - started


def order(lines: int) -> dict:
    return {
        "channel": "web",
        "external_id": f"W-{lines}",
        "customer": {"email": "a@example.com", "name": "Ada"},
        "shipping_address": {
            "line1": "1 rue",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
        },
        "delivery_method": "standard",
        "currency": "EUR",
        "lines": [{"sku": f"SKU-{n}", "quantity": 1, "unit_price": "1.00"} for n in range(lines)],
    }


def peak_rss_mb(master: int) -> list[float]:
    children = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True
    ).stdout.split()
    peaks = []
    for pid in children:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                peaks.append(int(row.split()[1]) / 1024)
    return peaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("limits: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_create(url, SUFFIX)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        token = subprocess.run(
            [*manage, "create_api_token", "bench-limits"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "/dev/null",
                "oms.wsgi",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                healthz(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

        refused: list[tuple[int, float]] = []
        health: list[float] = []
        done = threading.Event()

        def client() -> None:
            refused.append(oversize_count(port, token))

        def watcher() -> None:
            while not done.is_set():
                health.append(healthz(port))

        clients = [threading.Thread(target=client) for _ in range(args.parallel)]
        watching = threading.Thread(target=watcher)
        watching.start()
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        done.set()
        watching.join()
        times = sorted(seconds for _, seconds in refused)
        print(
            f"oversize counts: {args.parallel} x 48 MB declared -> "
            f"{sorted({status for status, _ in refused})}, time to answer "
            f"p50 {statistics.median(times) * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms"
        )
        print(
            f"/healthz meanwhile: {len(health)} answers, "
            f"median {statistics.median(health) * 1000:.1f} ms, max {max(health) * 1000:.1f} ms"
        )
        for lines in (10_000, 501):
            runs = [
                post_json(port, token, "/api/v1/orders/", order(lines)) for _ in range(args.repeat)
            ]
            median = statistics.median(seconds for _, seconds in runs) * 1000
            print(
                f"order of {lines:,} lines -> {sorted({code for code, _ in runs})}, "
                f"median {median:.1f} ms"
            )
        print("workers' peak RSS (MB):", ", ".join(f"{mb:.0f}" for mb in peak_rss_mb(server.pid)))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        database_drop(url, SUFFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
