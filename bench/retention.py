"""Retention over a large outbox: how long pruning takes, and how long one batch holds its
locks, by batch size.

Sets up its own database (<name>_bench_retention beside the one in DATABASE_URL, dropped at
the end unless --keep) and, for each batch size, fills it afresh with N webhook events 40
days old, each delivered to two subscribers (so 2N deliveries), plus as many recent events
that stay; then runs `operations.retention.retention_prune` and prints the rows pruned, the
batches, the total time and the longest batch (a batch's locks last no longer than its
transaction).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms python bench/retention.py [--events N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdb import database_create, database_drop  # noqa: E402

SUFFIX = "_bench_retention"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--batches", default="1000,10000", help="batch sizes, comma-separated")
    parser.add_argument("--keep", action="store_true", help="Keep the bench database.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("retention: skipped (needs DATABASE_URL to PostgreSQL)")
        return 0
    bench_url = database_create(url, SUFFIX)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-" + "x" * 40,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from operations.retention import retention_prune

        call_command("migrate", verbosity=0)
        print(
            f"retention: {args.events:,} old events, {2 * args.events:,} deliveries;"
            f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        )
        from django.db import connection

        for size in (int(s) for s in args.batches.split(",")):
            fill(args.events)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            backend_cpu = backend_seconds(backend)
            started = time.perf_counter()
            pruned = retention_prune(batch_size=size)
            seconds = time.perf_counter() - started
            backend_cpu = backend_seconds(backend) - backend_cpu
            events = pruned.by_kind["delivered_events"]
            print(
                f"    batch {size:,}: {events.rows:,} events (with their deliveries) in"
                f" {events.batches:,} batches, {seconds:.1f} s; longest batch"
                f" {events.longest_seconds * 1000:.0f} ms; PostgreSQL CPU per batch"
                f" {backend_cpu / max(1, events.batches) * 1000:.0f} ms"
                f" (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url, SUFFIX)
    return 0


def backend_seconds(pid: int) -> float:
    """CPU seconds a PostgreSQL backend on this machine has used (user + system)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # PostgreSQL on another machine
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fill(events: int) -> None:
    from django.db import connection

    from outbox.models import WebhookSubscription

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE fulfilment_delivery, fulfilment_outboxevent")
    subscriptions = [
        WebhookSubscription.objects.get_or_create(
            url=f"https://hooks.example.com/{n}",
            defaults={"secret": "bench-secret-0123456789", "events": ["order.created"]},
        )[0].pk
        for n in range(2)
    ]
    with connection.cursor() as cursor:
        # Old and delivered (pruned), then as many recent ones (kept), in id order as written.
        cursor.execute(
            """INSERT INTO fulfilment_outboxevent
                   (uid, event, key, data, created_at, fanned_out, request_id)
               SELECT gen_random_uuid(), 'order.created', '', '{"number": "W-1"}',
                      now() - CASE WHEN g <= %s THEN interval '40 days'
                                   ELSE interval '1 day' END, true, ''
               FROM generate_series(1, %s) g""",
            [events, 2 * events],
        )
        cursor.execute(
            """INSERT INTO fulfilment_delivery
                   (subscription_id, event_id, key, status, attempts, next_try_at, horizon_at,
                    last_response, last_error, delivered_at, created_at)
               SELECT s, e.id, '', 'delivered', 1, e.created_at, e.created_at, '', '',
                      e.created_at, e.created_at
               FROM fulfilment_outboxevent e CROSS JOIN unnest(%s::bigint[]) s""",
            [subscriptions],
        )
        cursor.execute("VACUUM ANALYZE fulfilment_outboxevent")
        cursor.execute("VACUUM ANALYZE fulfilment_delivery")


if __name__ == "__main__":
    raise SystemExit(main())
