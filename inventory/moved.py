"""The one call the stock services make when balances move: have them read after commit.

The reader is a task of an app above inventory (the alerts evaluate the moved rows); it
names itself in its `AppConfig.ready` (`reader_register`), so inventory imports none of it.

It must cost next to nothing on the order capture path (bench/orders.py): no task message
per commit, only the shared marker of core/kick.py, and at most one hook per transaction
however many rows it moves (a count file moves thousands at once).

Which rows moved travels with the kick, so the task reads only those rows:

* With Redis as the coordination cache (REDIS_URL: every real deployment), the hook adds
  the transaction's stock row ids to one Redis set (one SADD, before the kick's marker, in
  the one round trip of the transaction's kicks: core.kick.Kicks), and the task pops the
  set. A bulk writer may name whole locations instead of rows.
* Embedded (no Redis: a file cache, SQLite) there is no atomic shared set: the task reads
  the rows whose `updated_at` passed its watermark. That is a scan of the stock table,
  fine for the small data such a setup holds.

A lost set (Redis flushed, a task crashing after its pop) leaves rows to the periodic
sweep, which evaluates everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import caches
from django.db import transaction

from core.cache import RedisCache
from core.kick import CACHE_ALIAS, Kicks, kicks_pending, kicks_send

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
        _send(changed, _kicks_for(changed, None))
        return
    # Django replaces its list of commit hooks on commit, rollback and savepoint rollback:
    # the same list object means our hook is registered, and due unless it already ran
    # (tests run hooks without committing).
    pending = getattr(connection, "_alerts_stock_changed", None)
    registered = getattr(connection, "_alerts_stock_hooks", None) is connection.run_on_commit
    if not registered or pending is None or pending.sent:
        changed = Changed()
        kicks = _kicks_for(changed, kicks_pending())
        transaction.on_commit(lambda: _send(changed, kicks))
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


def _kicks_for(changed: Changed, kicks: Kicks | None) -> Kicks:
    """Add the reader's and the other tasks' kicks, with the moved rows, to the transaction's
    kicks (core.kick): one round trip after commit sends them with every other kick it owes
    (an order's capture also wakes the webhook relay for its events)."""
    if kicks is None:
        kicks = Kicks(hooks=[])
    if _reader is not None:
        kicks.add(task_name=_reader, key=STOCK_KEY, ttl=KICK_TTL)
        # The ids go before the reader's marker: a run that clears the marker and then
        # pops (the task) sees them, or a later run is queued by this very marker.
        kicks.members[CHANGED_KEY] = changed.members
    for task_name, key in _kicks.items():
        kicks.add(task_name=task_name, key=key, ttl=KICK_TTL)
    return kicks


def _send(changed: Changed, kicks: Kicks) -> None:
    changed.sent = True
    kicks_send(kicks)


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
