#!/usr/bin/env python
"""Webhook delivery: events committed in the outbox to a local receiver, through the relay.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/outbox.py

It makes a database of its own (`<name>_bench_outbox`, dropped at the end unless --keep),
starts a receiver (a threaded HTTP/1.1 server in its own process that notes when each event
id arrives) and a real Celery worker, and subscribes the receiver to `stock.low`. Then:

* stream: 10,000 events written at a steady rate (`--rate`, in transactions of 10) through
  `events_emit`, as the services write them: each commit kicks the relay. Prints the
  delivered events/s and the p50/p99 delay from commit to arrival at the receiver.
* backlog: 10,000 events committed at once (as after a broker outage), drained by the
  relay. Prints events/s from the first commit to the last arrival.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUFFIX = "_bench_outbox"
QUEUE = "oms-bench-outbox"
PER_TRANSACTION = 10


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def receiver(port: int, out: str) -> int:
    """Serve until SIGTERM; write `event-id arrival-time` lines to `out`."""
    arrivals: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            arrivals.append(f"{self.headers['X-OMS-Event-Id']} {time.time()}")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    server = Server(("127.0.0.1", port), Handler)

    def stop(*_):
        Path(out).write_text("\n".join(arrivals))
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    return 0


def database_create(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "oms") + SUFFIX
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_drop(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def produce(count: int, rate: float | None) -> dict[str, float]:
    """Commit `count` stock.low events, `rate` per second (None: at once); return each event
    id's commit time."""
    from django.db import transaction

    from fulfilment.outbox import Draft, events_emit
    from fulfilment.outbox.models import OutboxEvent

    committed: dict[str, float] = {}
    started = time.monotonic()
    for batch in range(count // PER_TRANSACTION):
        if rate:
            due = started + batch * PER_TRANSACTION / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        with transaction.atomic():
            first = batch * PER_TRANSACTION
            events_emit(
                drafts=[
                    Draft(
                        "stock.low",
                        {"sku": f"SKU-{n % 500:04d}", "location": "DC-1", "available": 3},
                        None,
                        f"stock:{n % 50}",
                    )
                    for n in range(first, first + PER_TRANSACTION)
                ]
            )
            ids = list(
                OutboxEvent.objects.order_by("-id").values_list("uid", flat=True)[:PER_TRANSACTION]
            )
        now = time.time()
        committed.update((str(uid), now) for uid in ids)
    return committed


def wait_delivered(total: int, timeout: float) -> None:
    from fulfilment.outbox.models import Delivery

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Delivery.objects.filter(status="delivered").count() >= total:
            return
        time.sleep(0.25)
    raise SystemExit(f"not all delivered within {timeout}s")


def arrivals(receiver_process: subprocess.Popen, out: Path) -> dict[str, float]:
    receiver_process.send_signal(signal.SIGTERM)
    receiver_process.wait(10)
    seen: dict[str, float] = {}
    for line in out.read_text().splitlines():
        uid, at = line.split()
        seen.setdefault(uid, float(at))  # the first arrival counts
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=600.0, help="Stream rate, events/s.")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    parser.add_argument("--receiver", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        return receiver(int(args.receiver[0]), args.receiver[1])

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("outbox: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_create(url)
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
        "CELERY_QUEUE": QUEUE,
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    worker = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        import django

        django.setup()
        from fulfilment.outbox.models import Delivery, OutboxEvent
        from fulfilment.outbox.services import subscription_create

        worker = subprocess.Popen(
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
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
        )
        results = {}
        for phase, rate in (("stream", args.rate), ("backlog", None)):
            port = 18000 + os.getpid() % 1000
            out = out_dir / f"outbox-{phase}.txt"
            receiving = subprocess.Popen(
                [sys.executable, __file__, "--receiver", str(port), str(out)], env=env
            )
            time.sleep(1.0)
            Delivery.objects.all().delete()
            OutboxEvent.objects.all().delete()
            from fulfilment.outbox.models import WebhookSubscription

            WebhookSubscription.objects.all().delete()
            subscription_create(
                url=f"http://127.0.0.1:{port}/hooks",
                secret="bench-secret-0123456789",
                events=["stock.low"],
            )
            time.sleep(1.0)  # the worker's first run, on nothing
            started = time.time()
            committed = produce(args.events, rate)
            wait_delivered(args.events, timeout=300)
            seen = arrivals(receiving, out)
            missing = set(committed) - set(seen)
            delays = [seen[uid] - at for uid, at in committed.items() if uid in seen]
            last = max(seen.values())
            results[phase] = {
                "events": len(committed),
                "missing": len(missing),
                "events_per_s": len(committed) / (last - started),
                "p50": percentile(delays, 50),
                "p99": percentile(delays, 99),
                "max": max(delays),
            }
        for phase, figures in results.items():
            print(
                f"{phase:8s} {figures['events']} events, {figures['missing']} missing: "
                f"{figures['events_per_s']:.0f} events/s delivered; commit->delivery "
                f"p50 {figures['p50'] * 1000:.0f} ms, p99 {figures['p99'] * 1000:.0f} ms, "
                f"max {figures['max'] * 1000:.0f} ms"
            )
        if args.rate:
            print(f"(stream offered at {args.rate:.0f} events/s, {PER_TRANSACTION} per commit)")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(bench_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
