"""Run a transaction again when PostgreSQL aborts it for a deadlock or a serialization
failure: the client must never see one."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

from core.metrics import transaction_retries

T = TypeVar("T")

# SQLSTATE 40P01 deadlock_detected, 40001 serialization_failure.
_RETRYABLE = {"40P01", "40001"}


def is_retryable(error: BaseException) -> bool:
    cause = error.__cause__ or error
    return getattr(cause, "sqlstate", None) in _RETRYABLE or "deadlock detected" in str(error)


def retry_on_conflict(work: Callable[[], T], *, attempts: int = 5, operation: str = "other") -> T:
    """Call `work` (a whole durable transaction) again on a deadlock or serialization failure.

    Each retry counts in `oms_transaction_retries{operation}`: a rising count is contention
    worth looking at before it becomes the errors that exhausted retries are."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as error:
            if not is_retryable(error) or attempt == attempts - 1:
                raise
            transaction_retries.labels(operation).inc()
            # A little jitter so the two victims do not collide again in step.
            time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))
    raise AssertionError("unreachable")
