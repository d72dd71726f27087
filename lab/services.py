"""Every write of the lab: record a replay, run it (claimed once), keep its figures and CSV.

A replay only reads the history; what it writes is its own run.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.enqueue import task_send_after_commit
from core.exceptions import DomainError
from lab.history import history_load
from lab.models import ReplayRun
from lab.policy import ReplayPolicy, period_read, policy_from_json, policy_to_json
from lab.replay import replay
from lab.report import csv_of, summary_of

# Named, not imported: the tasks module imports this one.
RUN_TASK = "lab.tasks.replay_run_task"
Status = ReplayRun.Status
Echo = Callable[[int, int], None]


@transaction.atomic(durable=True)
def replay_run_start(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    first_day: date,
    last_day: date,
    policy: ReplayPolicy,
    name: str = "",
) -> ReplayRun:
    """Record a replay and have a worker run it once the record is committed."""
    run = replay_run_create(
        actor=actor, first_day=first_day, last_day=last_day, policy=policy, name=name
    )
    task_send_after_commit(RUN_TASK, run.pk)
    return run


def replay_run_create(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    first_day: date,
    last_day: date,
    policy: ReplayPolicy,
    name: str = "",
    source: str = ReplayRun.Source.CONSOLE,
) -> ReplayRun:
    """Record a replay, waiting to run; raise `ReplayInputError` for a period that does not
    read."""
    period_read(first_day, last_day)
    return ReplayRun.objects.create(
        name=name.strip()[:128],
        first_day=first_day,
        last_day=last_day,
        policy=policy_to_json(policy),
        source=source,
        actor=actor if actor is not None and actor.is_authenticated else None,  # type: ignore[misc]
        message="Waiting for a worker.",
    )


def replay_run_execute(*, run_id: int, echo: Echo | None = None) -> ReplayRun | None:
    """Claim the run and replay it to the end; None when another worker holds it (or it is
    finished). A run whose worker died (heartbeat older than OMS_JOB_LEASE_SECONDS) is
    taken over from the start."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.OMS_JOB_LEASE_SECONDS)
    claimed = ReplayRun.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale), pk=run_id
    ).update(
        status=Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        processed=0,
        message="Reading the period's history.",
    )
    if claimed != 1:
        return None
    run = ReplayRun.objects.defer("output").get(pk=run_id)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        ReplayRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            processed=done,
            total=total,
            heartbeat_at=timezone.now(),
            message=f"Replaying: {done:,} of {total:,} orders.",
        )
        if echo is not None:
            echo(done, total)

    try:
        policy = policy_from_json(run.policy)
        start, end = period_read(run.first_day, run.last_day)
        history = history_load(start=start, end=end)
        progress(0, len(history.orders))
        result = replay(history, policy, progress=progress)
        summary = summary_of(result)
        output = zlib.compress(csv_of(result.outcomes).encode("utf-8"), 6)
    except DomainError as error:
        _finish(run_id, Status.FAILED, error.message)
    except Exception:
        _finish(run_id, Status.FAILED, "The replay stopped on an unexpected error.")
        raise
    else:
        ReplayRun.objects.filter(pk=run_id).update(
            status=Status.DONE,
            summary=summary,
            output=output,
            total=summary["orders"],
            processed=summary["orders"],
            elapsed_seconds=round(time.perf_counter() - started, 3),
            finished_at=timezone.now(),
            message=f"{summary['orders']:,} orders replayed; "
            f"{summary['changed']:,} planned differently.",
        )
    return ReplayRun.objects.defer("output").get(pk=run_id)


def _finish(run_id: int, status: str, message: str) -> None:
    ReplayRun.objects.filter(pk=run_id).update(
        status=status, message=message[:255], finished_at=timezone.now()
    )


def replay_run_csv(run: ReplayRun) -> bytes:
    """Return the run's per-order CSV."""
    return zlib.decompress(bytes(run.output)) if run.output else b""
