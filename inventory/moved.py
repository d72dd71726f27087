"""The one call the stock services make when balances move: have them read after commit.

The reader is a task of an app above inventory (the alerts evaluate the moved rows); it
names itself in its `AppConfig.ready` (`reader_register`), so inventory imports none of it.

It must cost next to nothing on the order capture path (bench/orders.py): no task message
per commit, only the shared marker of core/kick.py, and at most one hook per transaction
however many rows it moves (a count file moves thousands at once).

Which rows moved travels with the kick, so the task reads only those rows:

* With Redis as the coordination cache (REDIS_URL: every real deployment), the hook adds
  the transaction's stock row ids to one Redis set (one SADD, before the kick's marker),
  and the task pops the set. A bulk writer may name whole locations instead of rows.
* Embedded (no Redis: a file cache, SQLite) there is no atomic shared set: the task reads
  the rows whose `updated_at` passed its watermark. That is a scan of the stock table,
  fine for the small data such a setup holds.

A lost set (Redis flushed, a task crashing after its pop) leaves rows to the periodic
sweep, which evaluates everything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from celery import current_app
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from core.kick import CACHE_ALIAS, _marker, kick

logger = logging.getLogger(__name__)

STOCK_KEY = "alerts-stock"
CHANGED_KEY = "alerts-stock-changed"
KICK_TTL = 5  # seconds, as core.kick: a lost task message delays evaluation this long
# Members of the set: "s<stock id>", "l<location id>", or EVERY_ROW.
EVERY_ROW = "*"

# The task that reads the moved rows; None until an app registers one (then nothing is kept).
_reader: str | None = None
# Tasks woken by the same commits with nothing to read but the fact that stock moved, each
# with its core.kick key: the outbox relay, whose producers read the ledger and the stock
# events for storefronts (connectors registers it).
_kicks: dict[str, str] = {}


def reader_register(task_name: str) -> None:
    """Kick `task_name` after each commit that moves stock; it reads what moved with
    `changed_pop` (Redis) or from its own watermark."""
    global _reader
    _reader = task_name


def kick_register(task_name: str, *, key: str) -> None:
    """Also kick `task_name` (core.kick, under `key`) after each commit that moves stock:
    with Redis, in the same round trip as the reader's."""
    _kicks[task_name] = key


@dataclass
class Changed:
    """What moved: stock row ids, locations moved in bulk, or rows nobody named."""

    stock_ids: set[int] = field(default_factory=set)
    location_ids: set[int] = field(default_factory=set)
    every_row: bool = False
    sent: bool = field(default=False, compare=False)

    def members(self) -> list[str]:
        if self.every_row:
            return [EVERY_ROW]
        return [f"s{pk}" for pk in self.stock_ids] + [f"l{pk}" for pk in self.location_ids]

    @classmethod
    def parse(cls, members: Iterable[bytes | str]) -> Changed:
        changed = cls()
        for member in members:
            text = member.decode() if isinstance(member, bytes) else member
            if text == EVERY_ROW:
                changed.every_row = True
            elif text[:1] == "s":
                changed.stock_ids.add(int(text[1:]))
            elif text[:1] == "l":
                changed.location_ids.add(int(text[1:]))
        return changed

    def __bool__(self) -> bool:
        return self.every_row or bool(self.stock_ids or self.location_ids)


def stock_changed(
    stock_ids: Iterable[int] | None = None, *, location_ids: Iterable[int] = ()
) -> None:
    """Queue the evaluation of these stock rows (or of every row at these locations) once
    this transaction commits. Without ids, every row is evaluated: name them."""
    if _reader is None and not _kicks:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        changed = Changed()
        _collect(changed, stock_ids, location_ids)
        _send(changed)
        return
    # Django replaces its list of commit hooks on commit, rollback and savepoint rollback:
    # the same list object means our hook is registered, and due unless it already ran
    # (tests run hooks without committing).
    pending = getattr(connection, "_alerts_stock_changed", None)
    registered = getattr(connection, "_alerts_stock_hooks", None) is connection.run_on_commit
    if not registered or pending is None or pending.sent:
        changed = Changed()
        transaction.on_commit(lambda: _send(changed))
        connection._alerts_stock_hooks = connection.run_on_commit
        connection._alerts_stock_changed = changed
    _collect(connection._alerts_stock_changed, stock_ids, location_ids)


def _collect(changed: Changed, stock_ids, location_ids) -> None:
    if stock_ids is None and not location_ids:
        changed.every_row = True
        return
    changed.stock_ids.update(stock_ids or ())
    changed.location_ids.update(location_ids)


def shared_set() -> bool:
    """Whether changed rows travel in a Redis set (else: the `updated_at` watermark)."""
    return isinstance(caches[CACHE_ALIAS], RedisCache)


def _send(changed: Changed) -> None:
    changed.sent = True
    if not (shared_set() and changed and _reader is not None):
        if _reader is not None:
            kick(task_name=_reader, key=STOCK_KEY)
        for task_name, key in _kicks.items():
            kick(task_name=task_name, key=key)
        return
    cache = caches[CACHE_ALIAS]
    key = cache.make_and_validate_key(CHANGED_KEY)
    marker = cache.make_and_validate_key(_marker(STOCK_KEY))
    others = {task: cache.make_and_validate_key(_marker(k)) for task, k in _kicks.items()}
    try:
        # One round trip: the ids, then core.kick's "a run is queued" marker (as its
        # `cache.add` writes it), then the other tasks' markers. The ids go first: a run
        # that clears the marker and then pops (the task) sees them, or a later run is
        # queued by this very SET.
        pipe = _client(cache).pipeline(transaction=False)
        pipe.sadd(key, *changed.members())
        pipe.set(marker, 1, ex=KICK_TTL, nx=True)
        for other in others.values():
            pipe.set(other, 1, ex=KICK_TTL, nx=True)
        _, queued, *queued_others = pipe.execute()
    except Exception:  # Redis down: the committed change stands
        logger.warning("could not record changed stock rows; the periodic sweep will")
        return
    if queued:
        _task_send(cache, marker)
    for (task_name, other), sent in zip(others.items(), queued_others, strict=True):
        if sent:
            _task_send(cache, other, task_name)


_clients: dict[tuple, object] = {}


def _client(cache):
    """A Redis client for the cache's servers, kept for the process (it is thread-safe):
    Django builds one per cache call, about 0.1 ms of CPU on the order path."""
    servers = tuple(cache._servers)
    client = _clients.get(servers)
    if client is None:
        client = _clients[servers] = cache._cache.get_client(write=True)
    return client


def _task_send(cache, marker: str, task_name: str | None = None) -> None:
    task_name = task_name or _reader
    try:
        current_app.send_task(
            task_name,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # a broker outage must not fail a committed change
        cache._cache.get_client(marker, write=True).delete(marker)
        logger.warning("could not queue %s; the periodic sweep will run it", task_name)


def changed_pop() -> Changed:
    """Take every recorded change out of the shared set, atomically (Redis only)."""
    cache = caches[CACHE_ALIAS]
    key = cache.make_and_validate_key(CHANGED_KEY)
    client = cache._cache.get_client(key, write=True)
    pipe = client.pipeline(transaction=True)
    pipe.smembers(key)
    pipe.delete(key)
    members, _ = pipe.execute()
    return Changed.parse(members)


def changed_restore(changed: Changed) -> None:
    """Put changes back for the next run (an evaluation failed before finishing them)."""
    cache = caches[CACHE_ALIAS]
    key = cache.make_and_validate_key(CHANGED_KEY)
    cache._cache.get_client(key, write=True).sadd(key, *changed.members())
