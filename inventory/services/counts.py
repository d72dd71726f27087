"""Stock counts: set on hand to what staff counted on the shelf.

A count is of the shelf at `counted_at` (by default, when it was uploaded). Movements
recorded after that moment (sales shipped while the file was prepared) are re-applied
on top, so a late upload does not bring sold units back:

    new on hand = counted + sum(non-count movements of the row created after counted_at)

Each counted row gets ONE ledger movement of kind "count" (possibly of quantity 0: the
shelf matched) carrying `counted_at`. A count older than a count already applied to the
row is stale and rejected. Any bad row rejects the whole file, with every bad row listed;
a good file applies as one transaction.

The path is set-based so that 100,000 rows take seconds, not minutes
(COPY and set-based SQL write ~18,000 rows/s where the ORM's bulk methods write ~2,000;
docs/performance.md): the lines go into a temporary table (COPY on
PostgreSQL), are checked with joins, the stock rows are locked in pk order, and one
UPDATE ... FROM plus one INSERT ... SELECT write the balances and the ledger.

The admin, the API and `manage.py import_stock_counts` all come through here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache, caches
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.actors import acting_person
from accounts.scoping import location_ids_for
from core.enqueue import task_send_after_commit
from core.exceptions import DomainError
from inventory.countfile import CountKey, CountLine, RowError, parse_count_file
from inventory.exceptions import CountRejected
from inventory.models import Location, Product, StockCountImport, StockMovement
from inventory.moved import stock_changed
from inventory.notify import stock_freed

logger = logging.getLogger(__name__)

# Named, not imported: the tasks module imports this one.
CHECK_TASK = "inventory.tasks.stock_count_import_check_task"
APPLY_TASK = "inventory.tasks.stock_count_import_apply_task"

Status = StockCountImport.Status
Progress = Callable[[int, str], None]

# Errors kept on a rejected import record: enough to fix a file, bounded for a garbage one.
MAX_STORED_ERRORS = 10_000
_COPY_CHUNK = 10_000


class CountChange(NamedTuple):
    """What a count does to one stock row."""

    row: int
    sku: str
    location: str
    before: int
    counted: int
    # The sum of the movements recorded after counted_at, re-applied on top of the count.
    later: int
    after: int

    @property
    def difference(self) -> int:
        return self.after - self.before

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "sku": self.sku,
            "location": self.location,
            "before": self.before,
            "counted": self.counted,
            "later": self.later,
            "after": self.after,
            "difference": self.after - self.before,
        }

    @classmethod
    def from_stored(cls, stored: Iterable) -> list[CountChange]:
        return [cls(*item) for item in stored]


def count_rows_pack(changes: list[CountChange]) -> bytes:
    """Return changes as stored on an import: compressed JSON arrays."""
    return zlib.compress(json.dumps(changes, separators=(",", ":")).encode(), 1)


def count_rows_unpack(data: bytes | memoryview | None) -> list[CountChange]:
    if not data:
        return []
    return CountChange.from_stored(json.loads(zlib.decompress(data)))


@dataclass
class CountOutcome:
    """The result of applying counts: the changes, and the import record for a file."""

    changes: list[CountChange]
    counted_at: datetime
    count_import: StockCountImport | None = None
    # True when the same file had been applied before: `changes` is that first result.
    already_applied: bool = False

    @property
    def applied(self) -> int:
        return len(self.changes)


@dataclass
class CountPreview:
    """What applying the counts would do now; nothing was written."""

    changes: list[CountChange]
    counted_at: datetime
    total_rows: int
    # The import that already applied these exact bytes, if any.
    already_applied: StockCountImport | None = None


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Public services -----------------------------------------------------------------


def stock_count_apply(
    *,
    lines: list[CountLine],
    actor: AbstractBaseUser | None,
    counted_at: datetime | None = None,
    errors: Iterable[RowError] = (),
    unchecked: Iterable[CountKey] = (),
    reference: str = "stock count",
) -> CountOutcome:
    """Apply count lines (the API's JSON form) as one transaction, or raise CountRejected.

    `errors` are problems the caller already found in the input (wrong types): they are
    reported together with the ones found here, so every bad row is listed at once.
    `unchecked` are the keys of those bad rows: an unknown SKU or location among them is
    reported too, so every problem of a row is listed at once.
    """
    counted_at = counted_at or timezone.now()
    changes = _apply_atomically(
        lines=lines,
        known_errors=list(errors),
        unchecked=list(unchecked),
        counted_at=counted_at,
        actor=actor,
        reference=reference,
    )
    return CountOutcome(changes=changes, counted_at=counted_at)


def stock_count_file_preview(*, data: bytes, counted_at: datetime | None = None) -> CountPreview:
    """Check a count file and return what confirming it would do, or raise CountRejected."""
    counted_at = counted_at or timezone.now()
    first = _applied_import(file_digest(data))
    if first is not None:
        return CountPreview(
            changes=count_rows_unpack(first.changes),
            counted_at=first.counted_at,
            total_rows=first.total_rows,
            already_applied=first,
        )
    parsed = parse_count_file(data)
    changes = _preview(
        lines=parsed.lines,
        known_errors=parsed.errors,
        unchecked=parsed.unchecked,
        counted_at=counted_at,
    )
    return CountPreview(changes=changes, counted_at=counted_at, total_rows=parsed.total_rows)


def stock_count_file_apply(
    *,
    data: bytes,
    actor: AbstractBaseUser | None,
    source: str,
    file_name: str = "",
    counted_at: datetime | None = None,
) -> CountOutcome:
    """Apply a count file as one transaction and record it, or raise CountRejected.

    The same bytes uploaded again are not counted again: the answer is the first result,
    marked `already_applied`.
    """
    digest = file_digest(data)
    first = _applied_import(digest)
    if first is not None:
        return _replayed(first)
    counted_at = counted_at or timezone.now()
    parsed = parse_count_file(data)
    record = StockCountImport(
        digest=digest,
        file_name=file_name[:255],
        source=source,
        status=Status.APPLIED,
        counted_at=counted_at,
        total_rows=parsed.total_rows,
        actor=acting_person(actor),
    )
    try:
        changes = _apply_new_import(
            record=record,
            parsed_lines=parsed.lines,
            errors=parsed.errors,
            unchecked=parsed.unchecked,
        )
    except IntegrityError:
        # A concurrent upload of the same bytes committed first: answer with its result.
        first = _applied_import(digest)
        if first is None:
            raise
        return _replayed(first)
    except CountRejected as exc:
        record.pk = None
        record.status = Status.REJECTED
        record.errors = exc.row_errors[:MAX_STORED_ERRORS]
        record.save()
        raise
    return CountOutcome(changes=changes, counted_at=counted_at, count_import=record)


def stock_count_import_start(
    *, data: bytes, file_name: str, actor: AbstractBaseUser | None
) -> StockCountImport:
    """Record an uploaded file to check and apply in the background (the admin's path for
    big files), and queue its check once the record is committed.

    Return the import that already applied the same bytes instead, if there is one.
    """
    digest = file_digest(data)
    first = _applied_import(digest)
    if first is not None:
        return first
    with transaction.atomic():
        record = StockCountImport.objects.create(
            digest=digest,
            file_name=file_name[:255],
            source=StockCountImport.Source.ADMIN,
            status=Status.QUEUED,
            data=data,
            counted_at=timezone.now(),
            phase="Waiting for a worker to check the file",
            actor=acting_person(actor),
        )
        task_send_after_commit(CHECK_TASK, record.pk)
    return record


def stock_count_import_check(*, count_import_id: int) -> None:
    """Check a queued import and store its preview (or its errors). Run by a task; a second
    delivery while another run holds the lease does nothing."""
    record = _claim(count_import_id, waiting=Status.QUEUED, running=Status.CHECKING)
    if record is None:
        return
    progress = _progress_writer(record)
    try:
        first = _applied_import(record.digest)
        if first is not None:
            _mark_duplicate(record, first)
            return
        lines, parse_errors, unchecked, total = _parse_with_progress(
            record, progress, start=0, end=30
        )
        changes = _preview(
            lines=lines,
            known_errors=parse_errors,
            unchecked=unchecked,
            counted_at=record.counted_at,
            progress=_scaled(progress, 30, 95),
            lease=record,
        )
    except CountCancelled:
        _finish(record, status=Status.CANCELLED, phase=CANCELLED_PHASE, expected=Status.CHECKING)
        return
    except CountRejected as exc:
        _finish(
            record,
            status=Status.REJECTED,
            phase=f"{exc.rows} row(s) rejected; nothing will be applied",
            errors=exc.row_errors[:MAX_STORED_ERRORS],
            expected=Status.CHECKING,
        )
        return
    except Exception:
        _finish(
            record,
            status=Status.FAILED,
            phase="The check failed unexpectedly; nothing was applied, upload again",
            expected=Status.CHECKING,
        )
        raise
    _finish(
        record,
        status=Status.PREVIEWED,
        phase=f"{len(changes):,} row(s) checked; confirm to apply",
        total_rows=total,
        preview=count_rows_pack(changes),
        expected=Status.CHECKING,
    )


def stock_count_import_confirm(
    *, count_import: StockCountImport, actor: AbstractBaseUser | None
) -> StockCountImport:
    """Queue the application of a previewed import, once."""
    with transaction.atomic():
        confirmed = StockCountImport.objects.filter(
            pk=count_import.pk, status=Status.PREVIEWED
        ).update(
            status=Status.CONFIRMED,
            phase="Waiting for a worker to apply the counts",
            progress=0,
            attempts=0,
            heartbeat_at=None,
            actor=acting_person(actor) or count_import.actor,
            updated_at=timezone.now(),
        )
        if not confirmed:
            raise DomainError("This import is not waiting for confirmation.", field="status")
        task_send_after_commit(APPLY_TASK, count_import.pk)
    count_import.refresh_from_db()
    return count_import


# An import can be cancelled until its counts are committed: waiting, being checked,
# previewed, rejected, confirmed or being applied.
CANCELLABLE = (
    Status.QUEUED,
    Status.CHECKING,
    Status.PREVIEWED,
    Status.REJECTED,
    Status.CONFIRMED,
    Status.APPLYING,
)
CANCELLED_PHASE = "Cancelled; nothing was applied"


def stock_count_import_cancel(*, count_import: StockCountImport) -> StockCountImport:
    """Cancel an import at any step before its counts are committed.

    A check or apply running inside its transaction holds the import's row: it is asked to
    stop (a flag the worker reads at each step and just before committing), rolls back and
    records the cancellation itself; the answer's `phase` says it is stopping.
    """
    _cancel_flag_set(count_import)
    # PostgreSQL answers at once (nowait) when a worker's transaction holds the row; SQLite
    # has no row locks, and its writer waits for the database lock instead.
    try:
        with transaction.atomic():
            record = (
                StockCountImport.objects.select_for_update(nowait=True)
                .defer("data", "preview", "changes")
                .get(pk=count_import.pk)
            )
            if record.status == Status.CANCELLED:
                return record
            if record.status not in CANCELLABLE:
                raise DomainError(
                    f"This import is {record.get_status_display().lower()}: only an import "
                    "whose counts are not applied yet can be cancelled.",
                    field="status",
                )
            StockCountImport.objects.filter(pk=record.pk).update(
                status=Status.CANCELLED,
                phase=CANCELLED_PHASE,
                data=b"",
                progress=100,
                updated_at=timezone.now(),
            )
    except OperationalError:
        # The row is locked by the worker's transaction: it stops at its next step.
        count_import.refresh_from_db()
        count_import.phase = "Cancelling: the worker stops before anything is applied"
        return count_import
    cache.delete(_progress_key(count_import))
    count_import.refresh_from_db()
    return count_import


def stock_count_import_apply(*, count_import_id: int) -> None:
    """Apply a confirmed import as one transaction. Run by a task; running it twice applies
    the file once, and a second delivery while another run holds the lease does nothing."""
    record = _claim(count_import_id, waiting=Status.CONFIRMED, running=Status.APPLYING)
    if record is None:
        return
    progress = _progress_writer(record)
    try:
        lines, parse_errors, unchecked, total = _parse_with_progress(
            record, progress, start=0, end=20
        )
        _apply_claimed_import(
            record_id=record.pk,
            lines=lines,
            errors=parse_errors,
            unchecked=unchecked,
            total_rows=total,
            progress=_scaled(progress, 20, 100),
        )
    except CountCancelled:
        _finish(record, status=Status.CANCELLED, phase=CANCELLED_PHASE, expected=Status.APPLYING)
    except IntegrityError:
        first = _applied_import(record.digest)
        if first is None:
            _finish(
                record,
                status=Status.FAILED,
                phase="The apply failed; nothing was applied, upload again",
                expected=Status.APPLYING,
            )
            raise
        _mark_duplicate(record, first)
    except CountRejected as exc:
        _finish(
            record,
            status=Status.REJECTED,
            phase="Rejected when applied (the stock changed since the preview); nothing applied",
            errors=exc.row_errors[:MAX_STORED_ERRORS],
            expected=Status.APPLYING,
        )
    except Exception:
        _finish(
            record,
            status=Status.FAILED,
            phase="The apply failed unexpectedly; nothing was applied, upload again",
            expected=Status.APPLYING,
        )
        raise


# --- Leases: a check or apply whose worker died ----------------------------------------

# Runs of a check or apply that may start before the sweep gives up on the import: a file
# that kills its worker each time (memory) must not be retried for ever.
MAX_ATTEMPTS = 3


class CountCancelled(Exception):
    """Someone cancelled the import while a worker was on it: stop, apply nothing."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.OMS_JOB_LEASE_SECONDS)


def _claim(count_import_id: int, *, waiting: str, running: str) -> StockCountImport | None:
    """Take the import for this run: waiting, or running under a lease that ran out (its
    worker died). Return it, or None when another run holds it or it moved on."""
    now = timezone.now()
    claimed = StockCountImport.objects.filter(
        Q(status=waiting) | Q(status=running, heartbeat_at__lt=now - _lease()),
        pk=count_import_id,
    ).update(
        status=running,
        phase="Reading the file",
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None
    return StockCountImport.objects.get(pk=count_import_id)


def stock_count_imports_sweep() -> dict[str, int]:
    """Restart or fail the checks and applies whose worker died, and send again the tasks of
    imports left waiting (a message the broker lost). Run by beat; safe to run anywhere.

    A check or apply in its transaction holds its import's row (PostgreSQL): the sweep
    skips it, however long it takes. Outside it, the heartbeat tells: older than the lease,
    the worker is gone. Its transaction died with it, so nothing was applied: the import
    goes back to waiting and its task is sent again, up to MAX_ATTEMPTS runs; then it fails.
    """
    now = timezone.now()
    stale = now - _lease()
    done = {"restarted": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        lost = list(
            StockCountImport.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Status.CHECKING, Status.APPLYING])
            .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, updated_at__lt=stale))
            .only("pk", "status", "attempts", "operation")
        )
        for record in lost:
            checking = record.status == Status.CHECKING
            what = "checking" if checking else "applying"
            if record.attempts >= MAX_ATTEMPTS:
                StockCountImport.objects.filter(pk=record.pk).update(
                    status=Status.FAILED,
                    phase=(
                        f"The worker {what} this import stopped {record.attempts} times; it "
                        "failed and nothing was applied: upload the file again"
                    ),
                    progress=100,
                    heartbeat_at=None,
                    updated_at=now,
                )
                done["failed"] += 1
                continue
            StockCountImport.objects.filter(pk=record.pk).update(
                status=Status.QUEUED if checking else Status.CONFIRMED,
                phase=(
                    f"The worker {what} this import stopped; it was restarted"
                    + ("" if checking else " (nothing had been applied)")
                ),
                progress=0,
                heartbeat_at=None,
                updated_at=now,
            )
            task_send_after_commit(CHECK_TASK if checking else APPLY_TASK, record.pk)
            done["restarted"] += 1
        # Waiting for longer than a lease: the message may be lost (a broker restart, a
        # worker killed before it acknowledged). A second delivery does no harm.
        waiting = list(
            StockCountImport.objects.filter(
                status__in=[Status.QUEUED, Status.CONFIRMED], updated_at__lt=stale
            ).values_list("pk", "status")
        )
        for pk, status in waiting:
            StockCountImport.objects.filter(pk=pk, status=status).update(updated_at=now)
            task_send_after_commit(CHECK_TASK if status == Status.QUEUED else APPLY_TASK, pk)
            done["resent"] += 1
    if done["restarted"] or done["failed"]:
        logger.warning("count imports whose worker died: %s", done)
    return done


def _cancel_key(record: StockCountImport) -> str:
    return f"inventory:count-import-cancel:{record.operation}"


def _cancel_flag_set(record: StockCountImport) -> None:
    # The coordination cache: web servers and workers share it (core/kick.py).
    caches["coordination"].set(_cancel_key(record), True, timeout=7 * 24 * 3600)


def _cancel_requested(record: StockCountImport) -> bool:
    return bool(caches["coordination"].get(_cancel_key(record)))


def count_import_progress(record: StockCountImport) -> dict:
    """Return the live progress of an import: what its task last reported."""
    live = cache.get(_progress_key(record)) or {}
    finished = record.status in _FINISHED
    return {
        "id": record.pk,
        "status": record.status,
        "status_label": record.get_status_display(),
        "percent": 100 if finished else live.get("percent", record.progress),
        "phase": record.phase if finished else live.get("phase", record.phase),
        "total_rows": record.total_rows,
        "applied_rows": record.applied_rows,
        "finished": finished,
    }


# --- Import records ------------------------------------------------------------------

_FINISHED = {
    Status.PREVIEWED,
    Status.APPLIED,
    Status.REJECTED,
    Status.DUPLICATE,
    Status.CANCELLED,
    Status.FAILED,
}


def _applied_import(digest: str) -> StockCountImport | None:
    return StockCountImport.objects.filter(digest=digest, status=Status.APPLIED).first()


def _replayed(first: StockCountImport) -> CountOutcome:
    return CountOutcome(
        changes=count_rows_unpack(first.changes),
        counted_at=first.counted_at,
        count_import=first,
        already_applied=True,
    )


def _mark_duplicate(record: StockCountImport, first: StockCountImport) -> None:
    record.duplicate_of = first
    _finish(
        record,
        status=Status.DUPLICATE,
        phase=f"The same file was already applied as import #{first.pk}; nothing was changed",
        extra=["duplicate_of"],
    )


def _finish(
    record: StockCountImport,
    *,
    status: str,
    phase: str,
    extra=(),
    expected: str | None = None,
    **fields,
) -> None:
    """Record how a run ended; with `expected`, only if the import is still in that status
    (a cancel that came meanwhile stands)."""
    record.status = status
    record.phase = phase[:255]
    record.progress = 100
    record.heartbeat_at = None
    for name, value in fields.items():
        setattr(record, name, value)
    if status in (Status.REJECTED, Status.DUPLICATE, Status.CANCELLED):
        record.data = b""
    names = ["status", "phase", "progress", "data", "heartbeat_at", *fields, *extra]
    if expected is None:
        record.save(update_fields=[*names, "updated_at"])
    else:
        values = {name: getattr(record, name) for name in names}
        StockCountImport.objects.filter(pk=record.pk, status=expected).update(
            **values, updated_at=timezone.now()
        )
    cache.delete(_progress_key(record))


def _progress_key(record: StockCountImport) -> str:
    # The operation uuid, not the pk: several test databases may share one Redis.
    return f"inventory:count-import:{record.operation}"


def _progress_writer(record: StockCountImport) -> Progress:
    """Return a callable that publishes progress where the status page reads it.

    Inside the apply transaction a write to the import row would stay invisible until
    commit, so progress goes to the cache (shared by web and workers); outside it, the
    row is updated too.
    """
    key = _progress_key(record)
    running = record.status

    def report(percent: int, phase: str) -> None:
        percent = max(0, min(99, int(percent)))
        cache.set(key, {"percent": percent, "phase": phase}, timeout=24 * 3600)
        if _cancel_requested(record):
            raise CountCancelled
        if not connection.in_atomic_block:
            # The heartbeat of the lease moves with the progress; a row that left the
            # running status was cancelled (or taken over) meanwhile: stop.
            moved = StockCountImport.objects.filter(pk=record.pk, status=running).update(
                progress=percent, phase=phase[:255], heartbeat_at=timezone.now()
            )
            if not moved:
                raise CountCancelled

    return report


def _scaled(progress: Progress | None, start: int, end: int) -> Progress | None:
    if progress is None:
        return None
    return lambda percent, phase: progress(start + (end - start) * percent // 100, phase)


def _parse_with_progress(record: StockCountImport, progress: Progress, *, start: int, end: int):
    progress(start, f"Reading {record.file_name or 'the file'}")
    parsed = parse_count_file(bytes(record.data))
    progress(end, f"Read {parsed.total_rows:,} row(s)")
    return parsed.lines, parsed.errors, parsed.unchecked, parsed.total_rows


@transaction.atomic(durable=True)
def _apply_new_import(
    *,
    record: StockCountImport,
    parsed_lines: list[CountLine],
    errors: list[RowError],
    unchecked: list[CountKey],
) -> list[CountChange]:
    # Saved first, as applied: a concurrent upload of the same bytes waits on the unique
    # index here and then fails, instead of counting twice.
    record.save()
    changes = _apply(
        lines=parsed_lines,
        known_errors=errors,
        unchecked=unchecked,
        counted_at=record.counted_at,
        actor=record.actor,
        reference=_reference(record),
        operation=record.operation,
    )
    record.applied_rows = len(changes)
    record.changes = count_rows_pack(changes)
    record.applied_at = timezone.now()
    record.progress = 100
    record.phase = f"Applied {len(changes):,} row(s)"
    record.save(update_fields=["applied_rows", "changes", "applied_at", "progress", "phase"])
    return changes


@transaction.atomic(durable=True)
def _apply_claimed_import(
    *,
    record_id: int,
    lines: list[CountLine],
    errors: list[RowError],
    unchecked: list[CountKey],
    total_rows: int,
    progress: Progress | None,
) -> None:
    # The row lock is the lease while the transaction runs (stock_count_imports_sweep).
    record = StockCountImport.objects.select_for_update().get(pk=record_id)
    if record.status != Status.APPLYING:
        return  # another run of this task got here first, or it was cancelled
    record.status = Status.APPLIED
    record.save(update_fields=["status", "updated_at"])
    changes = _apply(
        lines=lines,
        known_errors=errors,
        unchecked=unchecked,
        counted_at=record.counted_at,
        actor=record.actor,
        reference=_reference(record),
        operation=record.operation,
        progress=progress,
    )
    record.total_rows = total_rows
    record.applied_rows = len(changes)
    record.changes = count_rows_pack(changes)
    record.preview = b""
    record.data = b""  # the digest stays, and with it the refusal to apply the file again
    record.applied_at = timezone.now()
    record.progress = 100
    record.phase = f"Applied {len(changes):,} row(s)"
    record.save(
        update_fields=[
            "total_rows",
            "applied_rows",
            "changes",
            "preview",
            "data",
            "applied_at",
            "progress",
            "phase",
        ]
    )
    if _cancel_requested(record):
        raise CountCancelled  # the last moment: nothing is committed
    cache.delete(_progress_key(record))


def _hold_lease(record: StockCountImport, status: str) -> None:
    """Lock the import's row for the rest of the transaction: the lease while it runs.
    Raise CountCancelled if the import left `status` meanwhile."""
    held = (
        StockCountImport.objects.select_for_update()
        .filter(pk=record.pk, status=status)
        .values_list("pk", flat=True)
    )
    if not list(held):
        raise CountCancelled


def _reference(record: StockCountImport) -> str:
    return f"count import #{record.pk} {record.file_name}".strip()[:128]


@transaction.atomic(durable=True)
def _apply_atomically(**kwargs) -> list[CountChange]:
    return _apply(**kwargs)


# --- The set-based engine --------------------------------------------------------------


def _apply(
    *,
    lines: list[CountLine],
    known_errors: list[RowError],
    counted_at: datetime,
    actor: AbstractBaseUser | None,
    reference: str,
    unchecked: Iterable[CountKey] = (),
    operation: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> list[CountChange]:
    """Check and apply counts inside the caller's transaction; raise CountRejected."""
    report = progress or _no_progress
    errors = list(known_errors)
    # A person tied to locations counts only there; other locations are unknown to them.
    places = location_ids_for(actor) if actor is not None else None
    staged, unstaged = _stage_rows(lines, counted_at, errors, places=places, unchecked=unchecked)
    stage = _Stage(apply=not errors)
    stage.load(staged, _scaled(report, 0, 30))
    errors += stage.unknown_skus(unstaged)
    now = timezone.now()
    if errors:
        # Rejected whatever else is found: check the other rows without locking anything.
        stage.apply = False
    else:
        report(35, "Creating missing stock rows")
        stage.create_missing_stock_rows(now)
        report(40, f"Locking {len(staged):,} stock row(s)")
        stage.lock_stock_rows()
    report(50, "Checking against later movements and counts")
    stage.build_work()
    errors += stage.problems()
    if errors:
        stage.drop()
        raise CountRejected(_sorted(errors))
    report(60, "Reading balances")
    changes = stage.changes(lines)
    report(70, f"Writing {len(changes):,} balance(s) and ledger line(s)")
    stage.write(
        now=now,
        operation=operation or uuid.uuid4(),
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        reference=reference[:128],
    )
    stage.drop()
    report(95, "Committing: the counts become visible all at once")
    return changes


def _preview(
    *,
    lines: list[CountLine],
    known_errors: list[RowError],
    counted_at: datetime,
    unchecked: Iterable[CountKey] = (),
    progress: Progress | None = None,
    lease: StockCountImport | None = None,
) -> list[CountChange]:
    report = progress or _no_progress
    errors = list(known_errors)
    staged, unstaged = _stage_rows(lines, counted_at, errors, unchecked=unchecked)
    with transaction.atomic():
        if lease is not None:
            _hold_lease(lease, Status.CHECKING)
        stage = _Stage(apply=False)
        stage.load(staged, _scaled(report, 0, 60))
        errors += stage.unknown_skus(unstaged)
        report(70, "Checking against later movements and counts")
        stage.build_work()
        errors += stage.problems()
        changes = [] if errors else stage.changes(lines)
        stage.drop()
        # Nothing of the staging is kept.
        transaction.set_rollback(True)
    if errors:
        raise CountRejected(_sorted(errors))
    report(100, "Checked")
    return changes


def _no_progress(percent: int, phase: str) -> None:
    pass


def _sorted(errors: list[RowError]) -> list[dict]:
    return [error.as_dict() for error in sorted(errors, key=lambda e: (e.row, e.field))]


def _stage_rows(
    lines: list[CountLine],
    counted_at: datetime,
    errors: list[RowError],
    *,
    places: frozenset[int] | None = None,
    unchecked: Iterable[CountKey] = (),
) -> tuple[list, list[tuple[int, str]]]:
    """Resolve locations (few) in Python and give every line an aware counted_at.

    A naive counted_at is read in the location's time zone: store staff write local time.
    Return the staged rows, and the (row, sku) of the rows left out for a problem (and of
    the `unchecked` rows, whose locations are checked here): their SKUs are still looked
    up, so that a row's unknown SKU is told with its other problems.
    """
    unchecked = list(unchecked)
    codes = {line.location for line in lines}
    codes.update(key.location for key in unchecked if key.location)
    locations = {
        code: (pk, tz)
        for batch in _batches(codes)
        for code, pk, tz in Location.objects.filter(code__in=batch).values_list(
            "code", "pk", "time_zone"
        )
    }
    if places is not None:
        # A person tied to locations counts only there; other locations are unknown to them.
        locations = {code: place for code, place in locations.items() if place[0] in places}
    unstaged: list[tuple[int, str]] = []
    for key in unchecked:
        if key.location and key.location not in locations:
            errors.append(RowError(key.row, "location", f"unknown location '{key.location}'"))
        if key.sku:
            unstaged.append((key.row, key.sku))
    zones: dict[str, ZoneInfo] = {}
    now = timezone.now()
    staged = []
    default_ok = counted_at <= now
    for line in lines:
        place = locations.get(line.location)
        if place is None:
            errors.append(RowError(line.row, "location", f"unknown location '{line.location}'"))
            unstaged.append((line.row, line.sku))
            when = line.counted_at
            if when is not None and timezone.is_aware(when) and when > now:
                errors.append(
                    RowError(line.row, "counted_at", f"counted_at {_when(when)} is in the future")
                )
            continue
        if line.counted_at is None and default_ok:
            staged.append((line.row, line.sku, place[0], line.quantity, counted_at))
            continue
        when = line.counted_at or counted_at
        if timezone.is_naive(when):
            zone = zones.get(place[1]) or zones.setdefault(place[1], ZoneInfo(place[1]))
            when = timezone.make_aware(when, zone)
        if when > now:
            errors.append(
                RowError(line.row, "counted_at", f"counted_at {_when(when)} is in the future")
            )
            unstaged.append((line.row, line.sku))
            continue
        staged.append((line.row, line.sku, place[0], line.quantity, when))
    return staged, unstaged


def _batches(values: set[str]) -> Iterator[list[str]]:
    """Split keys to look up with `IN` into lists within the database's limit of query
    parameters (SQLite's is low); a file's few locations make one."""
    wanted = sorted(values)
    size = 20_000 if connection.vendor == "postgresql" else 900
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _when(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


class _Stage:
    """The count lines of one operation in temporary tables, in the current transaction.

    `count_stage` holds the lines as given; `count_work` the resolved stock row, balance
    before, the sum of later movements and the latest count already applied.
    """

    def __init__(self, *, apply: bool):
        self.apply = apply
        self.postgres = connection.vendor == "postgresql"
        self.cursor = connection.cursor()
        self.drop()
        on_commit = " ON COMMIT DROP" if self.postgres else ""
        self.cursor.execute(
            "CREATE TEMPORARY TABLE count_stage (row_no integer NOT NULL, sku text NOT NULL, "
            "location_id bigint NOT NULL, counted integer NOT NULL, counted_at "
            f"{'timestamptz' if self.postgres else 'text'} NOT NULL){on_commit}"
        )

    def drop(self) -> None:
        self.cursor.execute("DROP TABLE IF EXISTS count_work")
        self.cursor.execute("DROP TABLE IF EXISTS count_stage")

    def load(self, staged: list, progress: Progress | None) -> None:
        report = progress or _no_progress
        total = len(staged) or 1
        if self.postgres:
            with self.cursor.cursor.copy(
                "COPY count_stage (row_no, sku, location_id, counted, counted_at) FROM STDIN"
            ) as copy:
                for start in range(0, len(staged), _COPY_CHUNK):
                    report(start * 100 // total, f"Staging rows {start + 1:,} of {total:,}")
                    for item in staged[start : start + _COPY_CHUNK]:
                        copy.write_row(item)
            self.cursor.execute("ANALYZE count_stage")
        else:
            adapt = connection.ops.adapt_datetimefield_value
            for start in range(0, len(staged), _COPY_CHUNK):
                report(start * 100 // total, f"Staging rows {start + 1:,} of {total:,}")
                self.cursor.executemany(
                    "INSERT INTO count_stage (row_no, sku, location_id, counted, counted_at) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [(*item[:4], adapt(item[4])) for item in staged[start : start + _COPY_CHUNK]],
                )
        report(100, f"Staged {len(staged):,} row(s)")

    def unknown_skus(self, unstaged: list[tuple[int, str]]) -> list[RowError]:
        """Return the unknown SKUs of the staged rows (one join) and of the `unstaged`
        (row, sku) pairs (a query per batch of distinct SKUs; none for a good file)."""
        self.cursor.execute(
            "SELECT t.row_no, t.sku FROM count_stage t "
            "LEFT JOIN inventory_product p ON p.sku = t.sku WHERE p.id IS NULL"
        )
        found = [RowError(row, "sku", f"unknown sku '{sku}'") for row, sku in self.cursor]
        if unstaged:
            known = {
                sku
                for batch in _batches({sku for _, sku in unstaged})
                for sku in Product.objects.filter(sku__in=batch).values_list("sku", flat=True)
            }
            found += [
                RowError(row, "sku", f"unknown sku '{sku}'")
                for row, sku in unstaged
                if sku not in known
            ]
        return found

    def create_missing_stock_rows(self, now: datetime) -> None:
        """Create the stock rows of products never stocked at a counted location."""
        self.cursor.execute(
            "INSERT INTO inventory_stocklevel "
            "(product_id, location_id, on_hand, allocated, reserved, safety_stock, updated_at) "
            "SELECT p.id, t.location_id, 0, 0, 0, 0, %s FROM count_stage t "
            "JOIN inventory_product p ON p.sku = t.sku "
            "WHERE NOT EXISTS (SELECT 1 FROM inventory_stocklevel s "
            "WHERE s.product_id = p.id AND s.location_id = t.location_id) "
            "ORDER BY p.id, t.location_id "
            "ON CONFLICT (product_id, location_id) DO NOTHING",
            [connection.ops.adapt_datetimefield_value(now)],
        )

    def lock_stock_rows(self) -> None:
        """Lock the counted stock rows in pk order, as every stock writer does (locks.py).

        SQLite takes the database write lock when the transaction begins instead.
        """
        if not self.postgres:
            return
        self.cursor.execute(
            "SELECT count(*) FROM (SELECT s.id FROM inventory_stocklevel s "
            "JOIN inventory_product p ON p.id = s.product_id "
            "JOIN count_stage t ON t.sku = p.sku AND t.location_id = s.location_id "
            "ORDER BY s.id FOR UPDATE OF s) AS locked"
        )

    def build_work(self) -> None:
        """Resolve each line to its stock row and balance (read after the lock), then add
        the movements recorded after its counted_at, in one grouped query."""
        join = "JOIN" if self.apply else "LEFT JOIN"
        if self.postgres:
            table, last_count = "count_work ON COMMIT DROP", "CAST(NULL AS timestamptz)"
        else:
            table, last_count = "count_work", "NULL"
        self.cursor.execute(
            f"CREATE TEMPORARY TABLE {table} AS "
            "SELECT t.row_no, t.counted, t.counted_at, s.id AS stock_id, p.id AS product_id, "
            "COALESCE(s.on_hand, 0) AS on_hand_before, 0 AS later, "
            f"{last_count} AS last_count "
            "FROM count_stage t JOIN inventory_product p ON p.sku = t.sku "
            f"{join} inventory_stocklevel s "
            "ON s.product_id = p.id AND s.location_id = t.location_id"
        )
        if self.postgres:
            self.cursor.execute("ANALYZE count_work")
        # A count movement with a later counted_at was necessarily created after it too, so
        # one pass over the movements created after counted_at finds both sums and stale rows.
        self.cursor.execute(
            "UPDATE count_work SET later = agg.later, last_count = agg.last_count FROM ("
            "SELECT w.row_no, "
            "SUM(CASE WHEN m.kind <> 'count' THEN m.quantity ELSE 0 END) AS later, "
            "MAX(CASE WHEN m.kind = 'count' THEN m.counted_at END) AS last_count "
            "FROM count_work w JOIN inventory_stockmovement m "
            "ON m.stock_id = w.stock_id AND m.created_at > w.counted_at "
            "GROUP BY w.row_no) AS agg WHERE count_work.row_no = agg.row_no"
        )

    def problems(self) -> list[RowError]:
        self.cursor.execute(
            "SELECT row_no, counted, later, last_count, counted_at FROM count_work "
            "WHERE last_count > counted_at OR counted + later < 0"
        )
        found = []
        for row, counted, later, last_count, counted_at in self.cursor.fetchall():
            if last_count is not None and _aware(last_count) > _aware(counted_at):
                found.append(
                    RowError(
                        row,
                        "counted_at",
                        f"stale count: a count made at {_when(_aware(last_count))} is already "
                        f"applied, later than this one ({_when(_aware(counted_at))})",
                    )
                )
            else:
                found.append(
                    RowError(
                        row,
                        "quantity",
                        f"counted {counted}, but {-later} unit(s) left after it was counted: "
                        f"on hand would be {counted + later}",
                    )
                )
        return found

    def changes(self, lines: list[CountLine]) -> list[CountChange]:
        by_row = {line.row: line for line in lines}
        self.cursor.execute(
            "SELECT row_no, counted, on_hand_before, later FROM count_work ORDER BY row_no"
        )
        return [
            CountChange(
                row, by_row[row].sku, by_row[row].location, before, counted, later, counted + later
            )
            for row, counted, before, later in self.cursor.fetchall()
        ]

    def write(self, *, now: datetime, operation: uuid.UUID, actor_id, reference: str) -> None:
        """One UPDATE for the balances that change, one INSERT for every ledger line."""
        at = connection.ops.adapt_datetimefield_value(now)
        self.cursor.execute(
            "SELECT DISTINCT product_id FROM count_work WHERE counted + later > on_hand_before"
        )
        # Backordered orders may wait for units a count found (as for a receipt).
        stock_freed(product_ids=[product_id for (product_id,) in self.cursor.fetchall()])
        self.cursor.execute(
            "UPDATE inventory_stocklevel SET on_hand = w.counted + w.later, updated_at = %s "
            "FROM count_work AS w WHERE inventory_stocklevel.id = w.stock_id "
            "AND inventory_stocklevel.on_hand <> w.counted + w.later",
            [at],
        )
        # A count file may move thousands of rows: alerts evaluate its locations whole.
        self.cursor.execute("SELECT DISTINCT location_id FROM count_stage")
        stock_changed(location_ids=[location_id for (location_id,) in self.cursor.fetchall()])
        operation_value = StockMovement._meta.get_field("operation").get_db_prep_value(
            operation, connection
        )
        self.cursor.execute(
            "INSERT INTO inventory_stockmovement (stock_id, kind, quantity, on_hand_after, "
            "reference, reason, operation, counted_at, actor_id, created_at) "
            "SELECT stock_id, 'count', counted + later - on_hand_before, counted + later, "
            "%s, %s, %s, counted_at, %s, %s FROM count_work ORDER BY stock_id",
            [reference, "stock count", operation_value, actor_id, at],
        )


def _aware(value) -> datetime:
    """Datetimes come back from a raw SQLite query as text in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, ZoneInfo("UTC"))
    return value
