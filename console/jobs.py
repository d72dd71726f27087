"""Run a queue's bulk action or export, in the request for a few rows or as a background job.

Every row is one call of its service, in its own transaction: a failure on one row is told
and the others go on. A background job re-reads its rows through the queue at run time, so
a row another person already handled (it left the queue) is not acted on twice, and a job
retaken after its worker died goes on with what is left.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from console.admin_export_job import admin_export_write
from console.models import BackgroundJob
from console.queues import QUEUES, Action, Queue, row_label
from core.enqueue import task_send_after_commit
from core.exceptions import DomainError, NotFoundError
from core.replica import heavy_reads

# Ticked rows up to this many run inside the request; more go to a background job.
# Named, not imported: the tasks module imports this one.
JOB_TASK = "console.tasks.console_job_run_task"
SYNC_MAX_ROWS = 25
# A job acts on (or exports) at most this many rows; narrow the filters for more.
JOB_MAX_ROWS = 100_000
ERRORS_KEPT = 200
CHUNK = 100
# Runs a job may start before the sweep gives up on it (a job that kills its worker each
# time must not be retried for ever).
MAX_ATTEMPTS = 3
# Spreadsheets run cells that start with these as formulas.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Status = BackgroundJob.Status


@dataclass
class Outcome:
    succeeded: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def action_apply(
    *,
    action: Action,
    rows: Iterable,
    actor: AbstractBaseUser,
    inputs: Mapping[str, str],
) -> Outcome:
    """Call the action's service on each row; collect what failed and why."""
    outcome = Outcome()
    for row in rows:
        try:
            action.run(row, actor, inputs)
        except DomainError as error:
            outcome.failures.append((row_label(row), error.message))
        else:
            outcome.succeeded += 1
    return outcome


@transaction.atomic(durable=True)
def job_start(
    *,
    kind: str,
    queue: Queue,
    actor: AbstractBaseUser,
    filters: Mapping[str, str],
    ids: list[int] | None = None,
    action: Action | None = None,
    inputs: Mapping[str, str] | None = None,
) -> BackgroundJob:
    """Record a job and enqueue its task once the record is committed."""
    job = BackgroundJob.objects.create(
        kind=kind,
        queue=queue.slug,
        action=action.slug if action else "",
        params={"filters": dict(filters), "ids": ids, "inputs": dict(inputs or {})},
        actor=actor,
        summary="Waiting for a worker.",
    )
    task_send_after_commit(JOB_TASK, job.pk)
    return job


def _lease() -> timedelta:
    """A running job whose heartbeat is older than this lost its worker."""
    return timedelta(seconds=settings.OMS_JOB_LEASE_SECONDS)


def job_run(*, job_id: int) -> None:
    """Claim the job and run it to the end; a job another worker holds is left alone."""
    now = timezone.now()
    claimed = BackgroundJob.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=now - _lease()),
        pk=job_id,
    ).update(
        status=Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        processed=0,
        succeeded=0,
        failed=0,
        errors=[],
        summary=Case(
            When(attempts__gt=0, then=Value(RESTARTED)),
            default=Value("Started."),
        ),
    )
    if claimed != 1:
        return
    job = BackgroundJob.objects.select_related("actor").defer("output").get(pk=job_id)
    try:
        if job.params.get("admin_model"):
            summary = admin_export_write(job, _progress)
        elif job.kind == BackgroundJob.Kind.EXPORT:
            summary = _export(job)
        else:
            summary = _act(job)
    except DomainError as error:
        _finish(job, Status.FAILED, error.message)
    except Exception:
        _finish(job, Status.FAILED, "The job stopped on an unexpected error; nothing more ran.")
        raise
    else:
        _finish(job, Status.DONE, summary)


RESTARTED = "The worker running this job stopped; it was restarted."


def jobs_sweep() -> dict[str, int]:
    """Restart or fail the running jobs whose worker died (heartbeat older than the lease),
    and send again the tasks of jobs left waiting (a message the broker lost). Run by beat.

    A restarted bulk action re-reads its rows through the queue, so the rows its first run
    handled (they left the queue) are not acted on twice; an export starts over.
    """
    now = timezone.now()
    stale = now - _lease()
    done = {"restarted": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        lost = list(
            BackgroundJob.objects.select_for_update(skip_locked=True)
            .filter(status=Status.RUNNING, heartbeat_at__lt=stale)
            .only("pk", "attempts")
        )
        for job in lost:
            if job.attempts >= MAX_ATTEMPTS:
                BackgroundJob.objects.filter(pk=job.pk).update(
                    status=Status.FAILED,
                    summary=f"The worker running this job stopped {job.attempts} times; it "
                    "failed. Rows it had done stay done; start it again for the rest.",
                    finished_at=now,
                )
                done["failed"] += 1
                continue
            BackgroundJob.objects.filter(pk=job.pk).update(
                status=Status.QUEUED, summary=RESTARTED, heartbeat_at=now
            )
            task_send_after_commit(JOB_TASK, job.pk)
            done["restarted"] += 1
        waiting = BackgroundJob.objects.filter(status=Status.QUEUED).filter(
            Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale)
        )
        for pk in list(waiting.values_list("pk", flat=True)):
            BackgroundJob.objects.filter(pk=pk, status=Status.QUEUED).update(heartbeat_at=now)
            task_send_after_commit(JOB_TASK, pk)
            done["resent"] += 1
    return done


def _rows(job: BackgroundJob):
    actor = job.actor
    if actor is None or not actor.is_active or not actor.is_staff:
        raise DomainError("The person who started the job can no longer work in the console.")
    queue = QUEUES.get(job.queue)
    if queue is None or not actor.has_perm(queue.view_permission):
        raise NotFoundError("This queue is not open to the person who started the job.")
    rows = queue.rows(actor, job.params.get("filters") or {})
    if ids := job.params.get("ids"):
        rows = rows.filter(pk__in=ids)
    return queue, rows


def _act(job: BackgroundJob) -> str:
    queue, rows = _rows(job)
    action = queue.action(job.action)
    if action is None or not job.actor.has_perm(action.permission):
        raise DomainError("This action is not allowed to the person who started the job.")
    ids = list(rows.values_list("pk", flat=True)[:JOB_MAX_ROWS])
    _progress(job, total=len(ids))
    inputs = job.params.get("inputs") or {}
    outcome = Outcome()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        # Read again: rows handled meanwhile by someone else have left the queue.
        fresh = list(rows.filter(pk__in=chunk))
        step = action_apply(action=action, rows=fresh, actor=job.actor, inputs=inputs)
        outcome.succeeded += step.succeeded
        outcome.failures.extend(step.failures)
        _progress(job, processed=start + len(chunk), outcome=outcome)
    gone = len(ids) - outcome.succeeded - len(outcome.failures)
    said = f"{action.label.rstrip('…')}: {outcome.succeeded} done"
    if outcome.failures:
        said += f", {len(outcome.failures)} failed"
    if gone:
        said += f", {gone} had already left the queue"
    return said + "."


def _export(job: BackgroundJob) -> str:
    queue, rows = _rows(job)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = FULFILMENT_COLUMNS if queue.of_fulfilments else ORDER_COLUMNS
    writer.writerow([title for title, _ in columns])
    written = 0
    # The rows exported are read from the replica when there is one (a file of what the
    # queue held a moment ago); the job's own row and progress stay on the primary.
    with heavy_reads():
        total = min(rows.count(), JOB_MAX_ROWS)
        _progress(job, total=total)
        for row in rows[:JOB_MAX_ROWS].iterator(chunk_size=2000):
            writer.writerow([_cell(value(row)) for _, value in columns])
            written += 1
            if written % 2000 == 0:
                _progress(job, processed=written)
    name = f"{queue.slug}-{timezone.localtime():%Y%m%d-%H%M}.csv"
    BackgroundJob.objects.filter(pk=job.pk).update(
        output=buffer.getvalue().encode("utf-8"), output_name=name, processed=written
    )
    job.processed = written
    return f"Exported {written} row(s) to {name}."


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _when(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


FULFILMENT_COLUMNS = [
    ("fulfilment", lambda f: f.pk),
    ("order", lambda f: f.order.number),
    ("channel", lambda f: f.order.channel.code),
    ("location", lambda f: f.location.code),
    ("status", lambda f: f.status),
    ("delivery_method", lambda f: f.order.delivery_method),
    ("customer_email", lambda f: f.order.customer_email),
    ("promised_date", lambda f: f.order.promised_date),
    ("requested_at", lambda f: _when(f.created_at)),
    ("accepted_at", lambda f: _when(f.accepted_at)),
    ("carrier", lambda f: f.carrier),
    ("tracking_number", lambda f: f.tracking_number),
]
ORDER_COLUMNS = [
    ("order", lambda o: o.number),
    ("channel", lambda o: o.channel.code),
    ("status", lambda o: o.status),
    ("customer_name", lambda o: o.customer_name),
    ("customer_email", lambda o: o.customer_email),
    ("delivery_method", lambda o: o.delivery_method),
    ("pickup_location", lambda o: o.pickup_location.code if o.pickup_location else ""),
    ("promised_date", lambda o: o.promised_date),
    ("logistics_cost", lambda o: o.logistics_cost),
    ("attention_reason", lambda o: o.attention_reason),
    ("created_at", lambda o: _when(o.created_at)),
]


def _progress(
    job: BackgroundJob,
    *,
    total: int | None = None,
    processed: int | None = None,
    outcome: Outcome | None = None,
) -> None:
    values: dict = {"heartbeat_at": timezone.now()}
    if total is not None:
        values["total"] = job.total = total
    if processed is not None:
        values["processed"] = job.processed = processed
    if outcome is not None:
        values["succeeded"] = job.succeeded = outcome.succeeded
        values["failed"] = job.failed = len(outcome.failures)
        values["errors"] = job.errors = [
            {"object": label, "message": message}
            for label, message in outcome.failures[:ERRORS_KEPT]
        ]
    BackgroundJob.objects.filter(pk=job.pk, status=Status.RUNNING).update(**values)


def _finish(job: BackgroundJob, status: str, summary: str) -> None:
    values = {"status": status, "summary": summary[:255], "finished_at": timezone.now()}
    if status == Status.DONE:
        values["processed"] = job.processed
    BackgroundJob.objects.filter(pk=job.pk).update(**values)


def job_progress(job: BackgroundJob) -> dict:
    """Return what the job page shows and polls."""
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "percent": job.percent,
        "total": job.total,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "summary": job.summary,
        "finished": job.finished,
    }
