#!/usr/bin/env python
"""Webhook delivery: events committed in the outbox to a local receiver, through the relay.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/outbox.py

It makes a database of its own (`<name>_bench_outbox`, dropped at the end unless --keep),
starts a receiver (a threaded HTTP/1.1 server in its own process that notes when each event
id arrives) and a real Celery worker, and subscribes the receiver to `fulfilment.requested`. Then:

* stream: 10,000 events written at a steady rate (`--rate`, in transactions of 10) through
  `events_emit`, as the services write them: each commit kicks the relay. Prints the
  delivered events/s and the p50/p99 delay from commit to arrival at the receiver.
* backlog: 10,000 events committed as fast as possible (100 per transaction), drained by
  the relay meanwhile and after. Prints events/s from the first commit to the last arrival.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_outbox"
QUEUE = "oms-bench-outbox"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def receiver(port: int, out: str) -> int:
    """Serve until SIGTERM; write `event-id arrival-time` lines to `out`.

    A bare asyncio HTTP/1.1 server with keep-alive: it must not be what limits the run.
    """
    import asyncio

    arrivals: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                await reader.readexactly(int(headers.get("content-length", "0")))
                arrivals.append(f"{headers['x-oms-event-id']} {time.time()}")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def stop(*_):
        Path(out).write_text("\n".join(arrivals))
        os._exit(0)

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())
    return 0


def produce(count: int, rate: float | None, per_transaction: int) -> None:
    """Commit `count` fulfilment events (two per fulfilment), `rate` per second (None: at
    once), through `events_emit` as the services do."""
    from django.db import transaction

    from outbox.emit import Draft, events_emit

    started = time.monotonic()
    for batch in range(count // per_transaction):
        if rate:
            pause = started + batch * per_transaction / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        first = batch * per_transaction
        with transaction.atomic():
            events_emit(
                drafts=[
                    Draft(
                        "fulfilment.requested",
                        {"id": n // 2, "order": f"B{n // 2:08d}", "location": "DC-1"},
                        None,
                        # Two events per fulfilment, as requested then shipped: each key's
                        # second event waits for its first (delivered in order).
                        f"fulfilment:{n // 2}",
                    )
                    for n in range(first, first + per_transaction)
                ]
            )


def committed_at() -> dict[str, float]:
    """Return each event's time of writing: a few milliseconds before its commit, so the
    delays below are slightly pessimistic."""
    from outbox.models import OutboxEvent

    return {
        str(uid): at.timestamp() for uid, at in OutboxEvent.objects.values_list("uid", "created_at")
    }


def wait_delivered(total: int, timeout: float) -> None:
    from outbox.models import Delivery

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
        # The receiver listens on this machine, which webhooks may reach only when allowed.
        "OMS_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
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
        from outbox.models import Delivery, OutboxEvent
        from outbox.services import subscription_create

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
            stdout=(out_dir / "outbox-worker.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        results = {}
        for phase, rate, per_transaction in (("stream", args.rate, 10), ("backlog", None, 100)):
            port = 18000 + os.getpid() % 1000
            out = out_dir / f"outbox-{phase}.txt"
            receiving = subprocess.Popen(
                [sys.executable, __file__, "--receiver", str(port), str(out)], env=env
            )
            time.sleep(1.0)
            Delivery.objects.all().delete()
            OutboxEvent.objects.all().delete()
            from outbox.models import WebhookSubscription

            WebhookSubscription.objects.all().delete()
            subscription_create(
                url=f"http://127.0.0.1:{port}/hooks",
                secret="bench-secret-0123456789",
                events=["fulfilment.requested"],
            )
            time.sleep(1.0)  # the worker's first run, on nothing
            started = time.time()
            produce(args.events, rate, per_transaction)
            produced = time.time()
            wait_delivered(args.events, timeout=300)
            committed = committed_at()
            seen = arrivals(receiving, out)
            missing = set(committed) - set(seen)
            delays = [seen[uid] - at for uid, at in committed.items() if uid in seen]
            last = max(seen.values())
            results[phase] = {
                "events": len(committed),
                "missing": len(missing),
                "events_per_s": len(committed) / (last - started),
                "offered_per_s": len(committed) / (produced - started),
                "p50": percentile(delays, 50),
                "p99": percentile(delays, 99),
                "max": max(delays),
            }
        for phase, figures in results.items():
            print(
                f"{phase:8s} {figures['events']} events committed at "
                f"{figures['offered_per_s']:.0f}/s, {figures['missing']} missing: "
                f"{figures['events_per_s']:.0f} events/s delivered; commit->delivery "
                f"p50 {figures['p50'] * 1000:.0f} ms, p99 {figures['p99'] * 1000:.0f} ms, "
                f"max {figures['max'] * 1000:.0f} ms"
            )
        print(
            f"(stream: asked for {args.rate:.0f} events/s, 10 per commit; backlog: 100 per "
            "commit, as fast as the producer goes)"
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


if __name__ == "__main__":
    sys.exit(main())
