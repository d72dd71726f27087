"""Delete or rewrite many rows in batches, each batch its own short transaction.

One DELETE over millions of rows holds its locks (and, on a replica, blocks replay of what
conflicts with it) for minutes, and bloats the WAL in one go. Here each batch takes the ids
of at most `batch_size` matching rows with `FOR UPDATE SKIP LOCKED` (a row that a request
holds is left for the next run, never waited for), acts on those ids and commits. A batch's
locks last as long as one small statement; `bench/retention.py` measures it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Batched:
    """How many rows went (or changed), in how many batches (transactions), and the longest
    a batch's transaction lasted (its locks lasted no longer)."""

    rows: int = 0
    batches: int = 0
    longest_seconds: float = 0.0


def _ids(queryset: QuerySet[Any], batch_size: int, after: Any) -> list[Any]:
    # Each batch starts past the last id of the one before: the rows it removed are dead
    # tuples until VACUUM, and starting from the first id again would walk over all of them
    # (each batch slower than the last). A row skipped as locked waits for the next run.
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    return list(
        queryset.order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:batch_size]
    )


def delete_in_batches(
    queryset: QuerySet[Any],
    *,
    batch_size: int,
    before: Callable[[list[Any]], None] | None = None,
) -> Batched:
    """Delete the rows of `queryset`, `batch_size` at a time; `before(ids)` runs in each
    batch's transaction first (to delete what points at them: no ORM cascade, no signals)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    model: type[Model] = queryset.model
    rows = batches = 0
    longest = 0.0
    last = None
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            ids = _ids(queryset, batch_size, last)
            if not ids:
                break
            if before is not None:
                before(ids)
            model._base_manager.filter(pk__in=ids)._raw_delete(queryset.db)
        longest = max(longest, time.perf_counter() - started)
        last = ids[-1]
        rows += len(ids)
        batches += 1
        if len(ids) < batch_size:
            break
    return Batched(rows=rows, batches=batches, longest_seconds=longest)


def update_in_batches(
    queryset: QuerySet[Any], *, values: Mapping[str, Any], batch_size: int
) -> Batched:
    """Set `values` on the rows of `queryset`, `batch_size` at a time."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    model: type[Model] = queryset.model
    rows = batches = 0
    longest = 0.0
    last = None
    while True:
        started = time.perf_counter()
        with transaction.atomic():
            ids = _ids(queryset, batch_size, last)
            if not ids:
                break
            model._base_manager.filter(pk__in=ids).update(**values)
        longest = max(longest, time.perf_counter() - started)
        last = ids[-1]
        rows += len(ids)
        batches += 1
        if len(ids) < batch_size:
            break
    return Batched(rows=rows, batches=batches, longest_seconds=longest)
