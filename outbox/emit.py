"""Write events into the outbox, in the caller's transaction, and wake the relay after commit.

Nothing here talks to the broker before the commit: the event row is the promise, and a
broker that is down only delays it (the periodic sweep relays what no kick reached).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import uuid4

import msgspec
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from core import request_id
from core.kick import kick_after_commit
from core.sql import Writes, rows_insert
from outbox.events import EVENT_TYPES
from outbox.models import OutboxEvent

RELAY_TASK = "outbox.tasks.outbox_relay_task"
RELAY_KEY = "outbox-relay"


@dataclass(frozen=True)
class Draft:
    """One event to write: `event_emit`'s arguments."""

    event: str
    data: dict
    location_id: int | None = None
    key: str = ""
    at: datetime | None = field(default=None, compare=False)
    # The second location of an event about two (a transfer's).
    other_location_id: int | None = None


def event_emit(*, event: str, data: dict, location_id: int | None = None, key: str = "") -> None:
    """Write one event in the current transaction; the relay sends it once that commits.

    `key` orders events: those with the same key reach each subscriber one after another.
    """
    events_emit(drafts=[Draft(event, data, location_id, key)])


def events_emit(*, drafts: Iterable[Draft], writes: Writes | None = None) -> None:
    """Write several events in one INSERT in the current transaction (see `event_emit`);
    with `writes`, as a part of the caller's one statement (core.sql.Writes)."""
    if events_write(drafts=drafts, writes=writes):
        kick_after_commit(task_name=RELAY_TASK, key=RELAY_KEY)


def events_write(*, drafts: Iterable[Draft], writes: Writes | None = None) -> int:
    """Write the events without waking the relay (the relay's own producers); return how many."""
    now = timezone.now()
    rid = request_id.current()
    drafts = list(drafts)
    for draft in drafts:
        if draft.event not in EVENT_TYPES:
            raise ValueError(f"unknown event type {draft.event!r}")
    if writes is None and len(drafts) >= COPIED and connection.vendor == "postgresql":
        _copy(drafts, now, rid)
        return len(drafts)
    rows = [
        OutboxEvent(
            uid=uuid4(),
            event=draft.event,
            key=draft.key,
            location_id=draft.location_id,
            other_location_id=draft.other_location_id,
            data=draft.data,
            created_at=draft.at or now,
            request_id=rid,
            fanned_out=False,
        )
        for draft in drafts
    ]
    if writes is not None:
        writes.insert(rows)
    else:
        rows_insert(rows)
    return len(rows)


# Events from which one writing goes by COPY: a multi-row INSERT of a thousand payloads
# costs PostgreSQL several times what COPY does (docs/performance.md, "Returns").
COPIED = 200
# msgspec, as `core.sql.Writes` encodes event rows; what it does not know (a lazy
# translation) goes to the field's own encoder.
_JSON = msgspec.json.Encoder(enc_hook=DjangoJSONEncoder().default)
_COPY_COLUMNS = (
    "uid",
    "event",
    "key",
    "location_id",
    "other_location_id",
    "data",
    "created_at",
    "request_id",
    "fanned_out",
)


def _copy(drafts: list[Draft], now: datetime, rid: str) -> None:
    """Write the events by COPY (PostgreSQL), straight from the drafts: no model rows."""
    table = OutboxEvent._meta.db_table
    statement = f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    encode = _JSON.encode
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for draft in drafts:
            copy.write_row(
                (
                    uuid4(),
                    draft.event,
                    draft.key,
                    draft.location_id,
                    draft.other_location_id,
                    encode(draft.data).decode(),
                    draft.at or now,
                    rid,
                    False,
                )
            )
