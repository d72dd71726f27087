"""Wake a draining task after commit, without paying for a task message on every commit.

Sending a Celery task costs the caller about 1.5 ms of CPU (measured with Celery on Redis):
too much on the order hot path for work that one run can do for many commits at once
(deliver pending webhook events, evaluate the stock rows that moved). A marker in the
cache shared by web servers and workers says "a run is already queued". The run clears the
marker *before* it reads (`kick_clear`), so a commit that lands after the clear queues
another run and nothing committed is left unseen. The marker expires, so a lost message
delays the work by at most its lifetime; periodic sweeps cover a broker outage.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)

CACHE_ALIAS = "coordination"


def kick_after_commit(*, task_name: str, key: str, ttl: float = 5.0) -> None:
    """Queue `task_name` once the current transaction commits, unless a run is queued."""
    transaction.on_commit(lambda: kick(task_name=task_name, key=key, ttl=ttl))


def kick(*, task_name: str, key: str, ttl: float = 5.0) -> bool:
    """Queue `task_name` now unless a run is already queued; return whether one was sent."""
    cache = caches[CACHE_ALIAS]
    marker = _marker(key)
    try:
        if not cache.add(marker, 1, timeout=ttl):
            return False
    except Exception:  # Redis down: the committed change stands, sweeps run it
        logger.warning("could not reach the coordination cache to queue %s", task_name)
        return False
    try:
        current_app.send_task(
            task_name,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # a broker outage must not fail a committed change
        cache.delete(marker)
        logger.warning("could not queue %s; the periodic sweep will run it", task_name)
        return False
    return True


def kick_clear(key: str) -> None:
    """Mark that the queued run has started: call before reading the work to do."""
    caches[CACHE_ALIAS].delete(_marker(key))


def _marker(key: str) -> str:
    return f"kick:{key}"
