"""`Idempotency-Key` for any POST (docs/api.md): the first answer is stored and replayed.

How a POST with the header runs:

1. A record for (user, key) is inserted first, on its own, as a claim with no
   answer yet ("in progress"). The unique (user, key) index lets exactly one of
   two concurrent twins insert it.
2. The request runs. Its answer is stored on the record if it is a 2xx or a 4xx
   (the request was judged: retrying the same body would be judged the same way);
   a 5xx or an unhandled error deletes the claim, so a retry runs afresh.
3. A later request with the same user and key:
   * same method, path and body: the stored answer is sent again, with
     `Idempotent-Replayed: true`;
   * anything different: 409 `{"errors": {"idempotency_key": [...]}}`;
   * the first is still running: wait for it up to `OMS_IDEMPOTENCY_WAIT_SECONDS`
     (default 2 s), then replay its answer, or answer 409 with `Retry-After: 1`.

Keys belong to a user: two integrations that happen to pick the same key do not
see each other's answers. The caller's scope counts as part of the request (accounts
registers how to read it, `caller_scope_register`): a token whose locations or channels
changed since the first answer gets a 409, never that answer. A claim older than
`OMS_IDEMPOTENCY_STALE_SECONDS` (default 120 s, beyond any request timeout) was left
by a worker that died and is taken over by the next retry; the stock ledger carries
the key too (`ledger_idempotency_key`), so a movement that did commit is not written twice.

A dead claimer is usually known at once, without that wait: the claim records the
PostgreSQL session it was written from (`pg_backend_pid()` and the session's start), and
the request runs on that same session. A killed app process closes its socket, and a
restarted primary ends every session, so a retry that no longer finds the session in
`pg_stat_activity` (or finds its pid reused by a later session) takes the claim over at
once. This holds across app hosts, since every host's sessions are in the one primary's
`pg_stat_activity`, and across a primary restart, since no session outlives it. A session
still there counts as alive, even if its client is gone: a statement it is still running
could commit, so the retry waits for it (or for the stale horizon). Behind a pooler in
transaction mode the claim's session is not the request's, so the check is turned off
there (`OMS_IDEMPOTENCY_CLAIMER_CHECK=0`) and only the stale horizon applies; SQLite has no
sessions to check either.
Records older than `OMS_IDEMPOTENCY_TTL_HOURS` (default 24 h) no longer count;
`idempotency_records_purge` deletes them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from django.conf import settings
from django.db import connections, router
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.batches import Batched, delete_in_batches
from core.models import IdempotencyRecord
from core.sql import column

Handler: TypeAlias = Callable[..., Response]

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
_POLL_SECONDS = 0.05

# Declared on every POST in the OpenAPI schema.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Send a retry with the same key and body: the first answer is replayed "
        "(header Idempotent-Replayed: true). The same key with another body is a 409."
    ),
)


# Reads a caller's scope as a short string; registered by accounts (above core) at start-up.
_caller_scope: Callable[[Any], str] | None = None


def caller_scope_register(reader: Callable[[Any], str]) -> None:
    """Make `reader(user)` part of every request's hash: a replay needs the same scope."""
    global _caller_scope
    _caller_scope = reader


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def idempotent(handler: Handler) -> Handler:
    """Decorate a DRF view's `post` so that an `Idempotency-Key` header makes it idempotent."""

    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = idempotent_run(
            request, lambda: handler(view, request, *args, **kwargs), view.handle_exception
        )
        return response

    return wrapper


def idempotent_run(
    request: Request,
    run: Callable[[], HttpResponse],
    refusal: Callable[[Exception], HttpResponse],
) -> Any:
    """Answer `run()`, made idempotent by the request's `Idempotency-Key` header, if any.

    `refusal(exc)` turns an error `run` raised into its answer (which is stored like any
    other), or raises it again. For a DRF view and for order capture's plain view alike: an
    answer is stored from its `data` when it has some, else from its content (JSON).
    """
    key = request.headers.get(HEADER)
    if key is None or not request.user.is_authenticated:
        return run()
    key = _clean_key(key)
    endpoint = f"{request.method} {request.path}"[:512]
    digest = _request_hash(request)
    record = _claim(request.user, key, endpoint, digest)
    if isinstance(record, Response):
        return record
    try:
        response = run()
    except Exception as exc:
        try:
            response = refusal(exc)
        except Exception:
            _release(record)
            raise
    if response.status_code >= 500:
        _release(record)
    else:
        _store(record, response)
    return response


def ledger_idempotency_key(request: Request) -> str | None:
    """Return the request's key, scoped to its user, for `stock_movement_record`; or None."""
    key = request.headers.get(HEADER)
    if key is None or not request.user.is_authenticated:
        return None
    key = _clean_key(key)
    scoped = f"api:{request.user.pk}:{key}"
    if len(scoped) <= 128:
        return scoped
    return f"api:{request.user.pk}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def idempotency_records_purge(
    *, older_than: timedelta | None = None, batch_size: int = 1000
) -> Batched:
    """Delete records past their time to live, in batches (core.batches)."""
    if older_than is None:
        older_than = timedelta(hours=_setting("OMS_IDEMPOTENCY_TTL_HOURS", 24))
    return delete_in_batches(
        IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than),
        batch_size=batch_size,
    )


def _clean_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError(
            {
                "idempotency_key": [
                    f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII "
                    "characters (a UUID is a good choice)."
                ]
            }
        )
    return key


def _request_hash(request: Request) -> str:
    """Hash the body and, when accounts registered how to read it, the caller's scope."""
    digest = _body_hash(request)
    if _caller_scope is None:
        return digest
    return hashlib.sha256(f"{digest}|{_caller_scope(request.user)}".encode()).hexdigest()


def _body_hash(request: Request) -> str:
    """Hash the body; JSON is hashed in a canonical form, so key order and spacing don't count."""
    try:
        raw = request._request.body  # read before the view parses it, so both can
    except RawPostDataException:
        # A form already parsed upstream (the CSRF check of a session login reads it).
        return _form_hash(request._request)
    try:
        canonical = json.dumps(
            json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()
    except (ValueError, RecursionError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def _form_hash(django_request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for name, values in sorted(django_request.POST.lists()):
        digest.update(json.dumps([name, values]).encode())
    for name in sorted(django_request.FILES):
        upload = django_request.FILES.getlist(name)[-1]  # the last one sent under the name
        digest.update(name.encode())
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
    return digest.hexdigest()


# (pid, session start) of each open PostgreSQL connection: asked once per connection, which
# keeps its session for its life; forgotten with the connection.
_sessions: weakref.WeakKeyDictionary[Any, tuple[int, datetime]] = weakref.WeakKeyDictionary()


def _claimer_session() -> tuple[int | None, datetime | None]:
    """Return the PostgreSQL session this request's claim and work run on, or (None, None)."""
    if not getattr(settings, "OMS_IDEMPOTENCY_CLAIMER_CHECK", True):
        return None, None
    connection = connections[router.db_for_write(IdempotencyRecord)]
    if connection.vendor != "postgresql":
        return None, None
    connection.ensure_connection()
    raw = connection.connection
    session = _sessions.get(raw)
    if session is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            )
            session = cursor.fetchone()
        _sessions[raw] = session
    return session


def _claimer_gone(record: IdempotencyRecord) -> bool:
    """Return whether the session that took `record`'s claim has ended (see the module's
    docstring). Unknown counts as alive: the claim is then retaken at the stale horizon."""
    if record.claimer_pid is None or not getattr(settings, "OMS_IDEMPOTENCY_CLAIMER_CHECK", True):
        return False
    # The primary's sessions, where claims are written: never a replica's (none there).
    connection = connections[router.db_for_write(IdempotencyRecord)]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # pg_stat_activity is read once per transaction; each poll needs a fresh look.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        # backend_start is NULL for a session of another role without pg_read_all_stats: the
        # pid's presence is then all that is known, and it counts as alive.
        cursor.execute(
            "SELECT backend_start IS NULL OR backend_start = %s FROM pg_stat_activity"
            " WHERE pid = %s",
            [record.claimer_started_at, record.claimer_pid],
        )
        row = cursor.fetchone()
    return row is None or not row[0]


def _claim(user: Any, key: str, endpoint: str, digest: str) -> IdempotencyRecord | Response:
    """Insert the claim and return its record; or the answer to send instead."""
    deadline = time.monotonic() + _setting("OMS_IDEMPOTENCY_WAIT_SECONDS", 2)
    stale_after = timedelta(seconds=_setting("OMS_IDEMPOTENCY_STALE_SECONDS", 120))
    ttl = timedelta(hours=_setting("OMS_IDEMPOTENCY_TTL_HOURS", 24))
    pid, started = _claimer_session()
    while True:
        now = timezone.now()
        claimed = _claim_insert(
            IdempotencyRecord(
                user=user,
                key=key,
                endpoint=endpoint,
                request_hash=digest,
                created_at=now,
                claimed_at=now,
                claimer_pid=pid,
                claimer_started_at=started,
            )
        )
        if claimed is not None:
            return claimed
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:  # deleted between our insert and read (a failed twin): try again
            continue
        if record.created_at < now - ttl:
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.endpoint != endpoint or record.request_hash != digest:
            return _conflict(
                f"This {HEADER} was already used for a different request "
                f"({record.endpoint}, another body or another token scope). Use a new key "
                "for a new request."
            )
        if record.response_status is not None:
            return _replay(record)
        if record.claimed_at < now - stale_after or _claimer_gone(record):
            # The worker that claimed it died. Take the claim over; of two retries doing so
            # at once, the conditional update lets one win.
            retaken = IdempotencyRecord.objects.filter(
                pk=record.pk, response_status__isnull=True, claimed_at=record.claimed_at
            ).update(claimed_at=now, claimer_pid=pid, claimer_started_at=started)
            if retaken == 1:
                record.claimed_at = now
                record.claimer_pid, record.claimer_started_at = pid, started
                return record
            continue
        if time.monotonic() >= deadline:
            response = _conflict(
                f"A request with this {HEADER} is still in progress; retry in a moment."
            )
            response["Retry-After"] = "1"
            return response
        time.sleep(_POLL_SECONDS)


# The claim and the answer are written with plain statements, built once: every POST with
# a key pays for both, and through the ORM (a create in its own atomic block, a save) they
# cost an order about 1 ms more of the app's CPU (docs/performance.md, "Order capture").
_CLAIM_FIELDS = (
    "user",
    "key",
    "endpoint",
    "request_hash",
    "response_body",
    "created_at",
    "claimed_at",
    "claimer_pid",
    "claimer_started_at",
)


def _claim_insert(record: IdempotencyRecord) -> IdempotencyRecord | None:
    """Insert `record` as a claim and return it with its key; None if (user, key) has a
    record already. One statement, a transaction of its own outside an atomic block: the
    claim is seen by every twin as soon as it returns. A twin inserting at the same moment
    waits for it and then inserts nothing (the unique index decides), without an error."""
    db = connections[router.db_for_write(IdempotencyRecord)]
    insert, _ = _statements(db.alias)
    params = [
        field.get_db_prep_save(getattr(record, field.attname), db) for field in _claim_fields()
    ]
    with db.cursor() as cursor:
        cursor.execute(insert, params)
        row = cursor.fetchone()
    if row is None:
        return None
    record.pk = row[0]
    record._state.adding, record._state.db = False, db.alias
    return record


def _store(record: IdempotencyRecord, response: HttpResponse) -> None:
    if isinstance(response, Response):
        body = response.data
        record.response_body = JSONRenderer().render(body).decode() if body is not None else ""
    else:
        record.response_body = response.content.decode()
    record.response_status = response.status_code
    db = connections[router.db_for_write(IdempotencyRecord)]
    _, update = _statements(db.alias)
    with db.cursor() as cursor:
        cursor.execute(update, [record.response_status, record.response_body, record.pk])


@functools.cache
def _claim_fields() -> list[Any]:
    return [IdempotencyRecord._meta.get_field(name) for name in _CLAIM_FIELDS]


@functools.cache
def _statements(alias: str) -> tuple[str, str]:
    """Return the claim's INSERT and the answer's UPDATE for the database `alias`."""
    db = connections[alias]

    def quoted(name: str) -> str:
        field = IdempotencyRecord._meta.get_field(name)
        assert isinstance(field, Field)
        return str(db.ops.quote_name(column(field)))

    table = db.ops.quote_name(IdempotencyRecord._meta.db_table)
    fields = _claim_fields()
    insert = (
        f"INSERT INTO {table} ({', '.join(quoted(field.name) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f" ON CONFLICT ({quoted('user')}, {quoted('key')}) DO NOTHING RETURNING {quoted('id')}"
    )
    update = (
        f"UPDATE {table} SET {quoted('response_status')} = %s, {quoted('response_body')} = %s"
        f" WHERE {quoted('id')} = %s"
    )
    return insert, update


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, response_status__isnull=True).delete()


def _replay(record: IdempotencyRecord) -> Response:
    body = json.loads(record.response_body) if record.response_body else None
    response = Response(body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    return response


def _conflict(message: str) -> Response:
    return Response({"errors": {"idempotency_key": [message]}}, status=status.HTTP_409_CONFLICT)
