"""The body of a delivery and its signature, as receivers verify them."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from core.api.values import moment

SIGNATURE_HEADER = "X-OMS-Signature"
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


def signature_verify(body: bytes, secret: str, header: str) -> bool:
    """Return whether `header` signs `body` with `secret` (for receivers written in Python)."""
    return hmac.compare_digest(signature(body, secret), header or "")
