"""Check a webhook delivery on the receiving side: for receivers written in Python.

    from outbox.verify import signature_verify

    if not signature_verify(request.body, request.headers, SECRET):
        return HttpResponse(status=401)

`signature_verify` takes the raw bytes as received (before any JSON parsing) and checks
`X-OMS-Signature-256` against `X-OMS-Timestamp`: the HMAC must match (compared in constant
time) and the timestamp must lie within `tolerance_seconds` (300 by default) of the
receiver's clock, either way. A captured delivery replayed later than that is refused; one
replayed sooner carries an event id (`X-OMS-Event-Id`) the receiver has already handled.
The module imports nothing from Django, so it can be copied into a receiver as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-OMS-Timestamp"
SIGNATURE_256_HEADER = "X-OMS-Signature-256"
DEFAULT_TOLERANCE_SECONDS = 300


def signature_verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Return whether `body` was signed with `secret` by the OMS within the tolerance.

    `headers` is the delivery's headers in any letter case (a plain dict, Django's
    `request.headers`, an `email.message.Message`). False when a header is missing or
    malformed, the timestamps disagree, the signature does not match, or the delivery is
    more than `tolerance_seconds` old (or that far in the future).
    """
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    pairs = _pairs(lowered.get(SIGNATURE_256_HEADER.lower(), ""))
    if not stamp.isdigit() or pairs.get("t") != [stamp] or not pairs.get("v1"):
        return False
    clock = time.time() if now is None else now
    if abs(clock - int(stamp)) > tolerance_seconds:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    # The header may carry more than one v1 (a later signing scheme beside this one).
    return any(hmac.compare_digest(expected, given) for given in pairs["v1"])


def _pairs(header: str) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if value:
            pairs.setdefault(name, []).append(value)
    return pairs
