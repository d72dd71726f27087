"""Heavy read-only pages read from a streaming replica, while it keeps up.

With DATABASE_REPLICA_URL set, the database alias `replica` points at a hot standby. Nothing
reads from it by default: a page, an export or a report opts in by running its reads inside
`heavy_reads()` (or under `@reads_from_replica`), and only reads that no write depends on
may: dashboards, exports, reports, the console's big lists. Inside a transaction on the
primary, reads stay on the primary, whatever the block says.

A replica behind by more than OMS_REPLICA_MAX_LAG_SECONDS (or one that does not answer)
is left aside: those pages read from the primary until it catches up, so a page never shows
figures older than the limit. The lag is what the standby says of itself, read at most every
few seconds per process (`replica_state`); the console's dashboard shows it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model

logger = logging.getLogger(__name__)

REPLICA = "replica"
# Seconds a process trusts its last reading of the lag before it asks again.
CHECK_SECONDS = 5.0

# On a standby: 0 when every WAL record received is replayed (an idle primary sends
# nothing, and the last replayed transaction's age would grow without any lag), else the age
# of the last transaction replayed. On a primary (a "replica" that is the primary itself, in
# tests): 0. NULL: a standby that has not replayed anything yet.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
END
"""

_heavy: ContextVar[bool] = ContextVar("heavy_reads", default=False)


@dataclass(frozen=True)
class ReplicaState:
    """What the console shows of the replica, and whether heavy pages read from it."""

    configured: bool
    lag_seconds: float | None = None  # None: unknown (not configured, or no answer)
    limit_seconds: float = 0.0
    error: str = ""

    @property
    def usable(self) -> bool:
        return (
            self.configured
            and not self.error
            and self.lag_seconds is not None
            and self.lag_seconds <= self.limit_seconds
        )


def configured() -> bool:
    return bool(settings.OMS_READ_REPLICA) and REPLICA in settings.DATABASES


def replica_lag_seconds(alias: str = REPLICA) -> float | None:
    """Return how far behind the database of `alias` replays (seconds), asking it now."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return 0.0  # SQLite has no standby: a mirror alias is the same file
    with connection.cursor() as cursor:
        cursor.execute(LAG_SQL)
        row = cursor.fetchone()
    # GREATEST in SQL would turn NULL (nothing replayed yet) into 0: the clamp is done here.
    return None if row is None or row[0] is None else max(0.0, float(row[0]))


def replica_state_read(alias: str = REPLICA) -> ReplicaState:
    """Ask the replica for its lag now, and judge it against the limit."""
    limit = float(settings.OMS_REPLICA_MAX_LAG_SECONDS)
    if alias not in settings.DATABASES or not settings.OMS_READ_REPLICA:
        return ReplicaState(configured=False, limit_seconds=limit)
    try:
        lag = replica_lag_seconds(alias)
    except DatabaseError as error:
        logger.warning("the read replica does not answer: %s", error)
        return ReplicaState(configured=True, limit_seconds=limit, error=str(error)[:200])
    return ReplicaState(configured=True, lag_seconds=lag, limit_seconds=limit)


_last: tuple[float, ReplicaState] | None = None


def replica_state() -> ReplicaState:
    """Return the replica's state, asked at most every CHECK_SECONDS by this process."""
    global _last
    now = time.monotonic()
    if _last is None or now - _last[0] > CHECK_SECONDS:
        state = replica_state_read()
        if _last is not None and _last[1].usable and not state.usable:
            logger.warning(
                "heavy pages read from the primary: replica lag %s s, limit %s s",
                state.lag_seconds,
                state.limit_seconds,
            )
        _last = (now, state)
    return _last[1]


def replica_state_forget() -> None:
    """Forget the last reading (tests, and after a failover)."""
    global _last
    _last = None


@contextmanager
def heavy_reads() -> Iterator[None]:
    """Let reads inside the block go to the replica (when configured and keeping up)."""
    token = _heavy.set(True)
    try:
        yield
    finally:
        _heavy.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def reads_from_replica(view: Callable[P, R]) -> Callable[P, R]:
    """Run a read-only view (or function) inside `heavy_reads()`."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with heavy_reads():
            return view(*args, **kwargs)

    return wrapper


def heavy_reads_alias() -> str:
    """Return the alias heavy reads use now: the replica if it keeps up, else the primary."""
    if configured() and replica_state().usable:
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Send the reads of `heavy_reads()` blocks to the replica; everything else, and every
    write, to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if not _heavy.get() or not configured():
            return None
        # Reads inside a transaction on the primary belong to it (they may follow its writes).
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return heavy_reads_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The same rows on both: an object read from the replica may point at one from the
        # primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # A standby is read-only: it takes its schema from the primary's WAL.
        return db == DEFAULT_DB_ALIAS
