"""The body of a delivery and its signatures, as receivers verify them (outbox/verify.py).

Two signatures travel with every delivery. `X-OMS-Signature` signs the body alone: kept for
receivers written against it, but a delivery captured on the way verifies forever.
`X-OMS-Signature-256` signs the time of the attempt with the body (`X-OMS-Timestamp`), so a
receiver can refuse a delivery older than its tolerance: a replay must be recent, and within
that window the event id (the same on every retry) tells the receiver it has seen it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from core.api.values import moment

SIGNATURE_HEADER = "X-OMS-Signature"
TIMESTAMP_HEADER = "X-OMS-Timestamp"
SIGNATURE_256_HEADER = "X-OMS-Signature-256"
EVENT_ID_HEADER = "X-OMS-Event-Id"
EVENT_TYPE_HEADER = "X-OMS-Event"
ATTEMPT_HEADER = "X-OMS-Delivery-Attempt"


def event_body_from_text(*, uid: str, event: str, created_at: datetime, data: str) -> bytes:
    """Return the bytes POSTed for an event, `data` being JSON text as the database keeps it:
    the same on every retry and to every receiver."""
    head = json.dumps(
        {"id": uid, "event": event, "created_at": moment(created_at)},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return f'{head[:-1]},"data":{data}}}'.encode()


def signature(body: bytes, secret: str) -> str:
    """Return the `X-OMS-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_timed(body: bytes, secret: str, timestamp: int) -> str:
    """Return the `X-OMS-Signature-256` value for a delivery sent at `timestamp` (Unix
    seconds): `t=<seconds>,v1=<hex HMAC-SHA256 of "<seconds>.<body>">`."""
    return f"t={timestamp},v1={signature_v1(body, secret, timestamp)}"


def signature_v1(body: bytes, secret: str, timestamp: int) -> str:
    """Return the hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with `secret`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def timed_headers(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """Return the three signature headers of one delivery attempt made at `timestamp`."""
    return {
        SIGNATURE_HEADER: signature(body, secret),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_256_HEADER: signature_timed(body, secret, timestamp),
    }
