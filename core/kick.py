"""Wake a draining task after commit, without paying for a task message on every commit.

Sending a Celery task costs the caller about 1.5 ms of CPU (measured with Celery on Redis):
too much on the order hot path for work that one run can do for many commits at once
(deliver pending webhook events, evaluate the stock rows that moved). A marker in the
cache shared by web servers and workers says "a run is already queued". The run clears the
marker *before* it reads (`kick_clear`), so a commit that lands after the clear queues
another run and nothing committed is left unseen. The marker expires, so a lost message
delays the work by at most its lifetime; periodic sweeps cover a broker outage.

A transaction owes its kicks together (`Kicks`): every marker it sets, and the members it
adds to shared sets for a task to pop (inventory.moved: which stock rows moved), go to
Redis in one pipelined round trip after commit, however many services asked. An order's
capture moves stock and emits events: one trip wakes the alerts and the webhook relay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from celery import current_app
from django.core.cache import caches
from django.db import transaction
from redis.client import Pipeline

from core.cache import RedisCache

logger = logging.getLogger(__name__)

CACHE_ALIAS = "coordination"


@dataclass(eq=False)
class Kicks:
    """What one transaction asks of Redis after it commits."""

    # The commit hooks' list of the transaction these kicks belong to (Django replaces it
    # on commit, rollback and savepoint rollback).
    hooks: list[Any] = field(repr=False)
    # core.kick key -> (task name, marker lifetime in seconds).
    tasks: dict[str, tuple[str, float]] = field(default_factory=dict)
    # Shared set (cache key) -> the members to add, read when sent; added before the
    # markers, so a run that clears its marker and then pops the set sees them.
    members: dict[str, Callable[[], Iterable[str]]] = field(default_factory=dict)
    sent: bool = False

    def add(self, *, task_name: str, key: str, ttl: float = 5.0) -> None:
        self.tasks.setdefault(key, (task_name, ttl))


def kicks_pending() -> Kicks | None:
    """Return the current transaction's kicks, sent once it commits; None outside one."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    kicks: Kicks | None = getattr(connection, "_kicks_pending", None)
    if kicks is None or kicks.sent or kicks.hooks is not connection.run_on_commit:
        kicks = Kicks(hooks=connection.run_on_commit)
        pending = kicks
        transaction.on_commit(lambda: kicks_send(pending))
        connection._kicks_pending = kicks
    return kicks


def kick_after_commit(*, task_name: str, key: str, ttl: float = 5.0) -> None:
    """Queue `task_name` once the current transaction commits, unless a run is queued."""
    kicks = kicks_pending()
    if kicks is None:
        kick(task_name=task_name, key=key, ttl=ttl)
        return
    kicks.add(task_name=task_name, key=key, ttl=ttl)


def kicks_send(kicks: Kicks) -> None:
    """Send what `kicks` asks, once (the first of its hooks to run sends it all): with
    Redis, the set members and the markers in one round trip, then a task message for each
    marker that was not set already."""
    if kicks.sent:
        return
    kicks.sent = True
    if not kicks.tasks:
        return
    cache = caches[CACHE_ALIAS]
    try:
        replies = _round_trip(cache, kicks) if isinstance(cache, RedisCache) else None
    except Exception:  # Redis refused a command: the committed change stands, sweeps run it
        logger.warning("could not send the kicks of a commit; the periodic sweeps will run")
        return
    if replies is None:
        # No Redis, or Redis down: each marker through the cache, which carries on in this
        # process's memory; the sets are Redis's only (embedded readers use a watermark,
        # and the periodic sweeps cover an outage).
        for key, (task_name, ttl) in kicks.tasks.items():
            kick(task_name=task_name, key=key, ttl=ttl)
        return
    queued = replies[len(replies) - len(kicks.tasks) :]
    for (key, (task_name, _)), fresh in zip(kicks.tasks.items(), queued, strict=True):
        if fresh:
            _task_send(task_name, partial(cache.delete, _marker(key)))


def _round_trip(cache: RedisCache, kicks: Kicks) -> list[Any] | None:
    """Add the members, then set the markers, in one pipelined round trip; return the
    replies, or None if Redis does not answer."""
    members = [(name, list(read())) for name, read in kicks.members.items()]

    def commands(pipe: Pipeline) -> None:
        for name, added in members:
            if added:
                pipe.sadd(cache.make_and_validate_key(name), *added)
        for key, (_, ttl) in kicks.tasks.items():
            # As `cache.add` writes a marker (`kick`, whole seconds), so either reads the other's.
            marker = cache.make_and_validate_key(_marker(key))
            pipe.set(marker, 1, ex=int(ttl), nx=True)

    return cache.round_trip(commands)


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
    return _task_send(task_name, lambda: cache.delete(marker))


def _task_send(task_name: str, marker_delete: Callable[[], object]) -> bool:
    try:
        current_app.send_task(
            task_name,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # a broker outage must not fail a committed change
        marker_delete()
        logger.warning("could not queue %s; the periodic sweep will run it", task_name)
        return False
    return True


def kick_clear(key: str) -> None:
    """Mark that the queued run has started: call before reading the work to do."""
    caches[CACHE_ALIAS].delete(_marker(key))


def _marker(key: str) -> str:
    return f"kick:{key}"
