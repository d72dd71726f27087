"""Retention: what has served its time is pruned by age, in short batches.

Each kind of row has its own horizon (a setting, README "Configuration"):

* webhook events whose every delivery was answered with a 2xx, with those deliveries,
  after OMS_RETAIN_DELIVERED_EVENTS_DAYS. An event with a delivery still waiting or dead
  stays (a dead delivery is evidence someone may want to read or send again), as does one
  the relay has not fanned out yet;
* idempotency records after OMS_IDEMPOTENCY_TTL_HOURS, past which they no longer count;
* the files that jobs kept (a stock count's uploaded bytes and preview, a console export)
  after OMS_RETAIN_JOB_FILES_DAYS once the job is over: the job's row stays, with its
  figures and errors, and a count's digest still stops the same file from being applied
  twice;
* internal timeline noise after OMS_RETAIN_TIMELINE_NOISE_DAYS: the status changes and
  notes that the system wrote on an order's timeline for staff only (no person wrote
  them, no customer sees them). Everything else on a timeline stays.

The stock ledger is never pruned: it is the audit trail every balance is checked against.
Batches are OMS_RETENTION_BATCH rows, each its own transaction (core.batches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from console.models import BackgroundJob
from core.api.idempotency import idempotency_records_purge
from core.batches import Batched, delete_in_batches, update_in_batches
from inventory.models import StockCountImport
from orders.models import OrderEvent
from outbox.models import Delivery, OutboxEvent

COUNT_IMPORTS_OVER = (
    StockCountImport.Status.APPLIED,
    StockCountImport.Status.REJECTED,
    StockCountImport.Status.DUPLICATE,
    StockCountImport.Status.CANCELLED,
    StockCountImport.Status.FAILED,
)
JOBS_OVER = (BackgroundJob.Status.DONE, BackgroundJob.Status.FAILED)
TIMELINE_NOISE = (OrderEvent.Kind.STATUS_CHANGED, OrderEvent.Kind.NOTE)


@dataclass
class Pruned:
    """What one run removed, by kind of row."""

    by_kind: dict[str, Batched] = field(default_factory=dict)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            kind: {"rows": done.rows, "batches": done.batches}
            for kind, done in self.by_kind.items()
        }

    def longest_batch_seconds(self) -> float:
        return max((done.longest_seconds for done in self.by_kind.values()), default=0.0)


def retention_prune(*, now: datetime | None = None, batch_size: int | None = None) -> Pruned:
    """Prune every kind of row past its horizon; return what went."""
    now = now or timezone.now()
    size = batch_size or settings.OMS_RETENTION_BATCH
    return Pruned(
        by_kind={
            "delivered_events": delivered_events_prune(now=now, batch_size=size),
            "idempotency_records": idempotency_records_purge(
                older_than=timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS), batch_size=size
            ),
            "count_import_files": count_import_files_prune(now=now, batch_size=size),
            "export_files": export_files_prune(now=now, batch_size=size),
            "timeline_noise": timeline_noise_prune(now=now, batch_size=size),
        }
    )


def delivered_events_prune(*, now: datetime, batch_size: int) -> Batched:
    """Delete events older than the horizon that reached every subscriber, with their
    deliveries."""
    cutoff = now - timedelta(days=settings.OMS_RETAIN_DELIVERED_EVENTS_DAYS)
    unanswered = Delivery.objects.filter(event=OuterRef("pk")).exclude(
        status=Delivery.Status.DELIVERED
    )
    events = OutboxEvent.objects.filter(created_at__lt=cutoff, fanned_out=True).filter(
        ~Exists(unanswered)
    )

    def deliveries_delete(ids: list[int]) -> None:
        Delivery.objects.filter(event_id__in=ids)._raw_delete(connection.alias)

    return delete_in_batches(events, batch_size=batch_size, before=deliveries_delete)


def count_import_files_prune(*, now: datetime, batch_size: int) -> Batched:
    """Drop the uploaded bytes and the preview of stock counts over for longer than the
    horizon."""
    cutoff = now - timedelta(days=settings.OMS_RETAIN_JOB_FILES_DAYS)
    kept = StockCountImport.objects.filter(
        status__in=COUNT_IMPORTS_OVER, updated_at__lt=cutoff
    ).filter(~Q(data=b"") | ~Q(preview=b""))
    # update() leaves auto_now alone: updated_at keeps telling when the count was over.
    return update_in_batches(kept, values={"data": b"", "preview": b""}, batch_size=batch_size)


def export_files_prune(*, now: datetime, batch_size: int) -> Batched:
    """Drop the files of console jobs finished for longer than the horizon."""
    cutoff = now - timedelta(days=settings.OMS_RETAIN_JOB_FILES_DAYS)
    kept = BackgroundJob.objects.filter(status__in=JOBS_OVER, finished_at__lt=cutoff).exclude(
        output_name=""
    )
    return update_in_batches(kept, values={"output": b"", "output_name": ""}, batch_size=batch_size)


def timeline_noise_prune(*, now: datetime, batch_size: int) -> Batched:
    """Delete the system's internal status changes and notes older than the horizon."""
    cutoff = now - timedelta(days=settings.OMS_RETAIN_TIMELINE_NOISE_DAYS)
    noise = OrderEvent.objects.filter(
        kind__in=TIMELINE_NOISE, public=False, actor__isnull=True, created_at__lt=cutoff
    )
    return delete_in_batches(noise, batch_size=batch_size)
