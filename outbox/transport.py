"""POST a signed body to a receiver, over pooled connections shared by the relay's threads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import urllib3
from django.conf import settings

from outbox.signing import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature,
)

EXCERPT_BYTES = 1000
USER_AGENT = "OMS-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What a receiver said: a status code and the start of its body, or the error."""

    status: int | None
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@cache
def _manager() -> urllib3.PoolManager:
    # One pool per receiver host and process, sized for the relay's threads: connections are
    # kept open from one event to the next.
    return urllib3.PoolManager(
        num_pools=64, maxsize=settings.OMS_WEBHOOK_CONCURRENCY, block=False, retries=False
    )


@cache
def _target(url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
    """Return the connection pool and the request path of `url` (looked up once per URL:
    the lookup cost as much as the rest of a request)."""
    parsed = urllib3.util.parse_url(url)
    return _manager().connection_from_url(url), parsed.request_uri


@cache
def _timeout() -> urllib3.Timeout:
    seconds = settings.OMS_WEBHOOK_TIMEOUT_SECONDS
    return urllib3.Timeout(connect=min(seconds, 5.0), read=seconds)


def post(*, url: str, body: bytes, secret: str, event_id: str, event: str, attempt: int) -> Answer:
    """POST `body` to `url`, signed with `secret`; never raise for the receiver's faults."""
    try:
        pool, path = _target(url)
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: signature(body, secret),
                EVENT_ID_HEADER: event_id,
                EVENT_TYPE_HEADER: event,
                ATTEMPT_HEADER: str(attempt),
            },
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=_timeout(),
            preload_content=False,
        )
    except (urllib3.exceptions.HTTPError, ValueError) as error:
        return Answer(status=None, error=_error_text(error))
    try:
        excerpt = response.read(EXCERPT_BYTES, decode_content=True)
        response.drain_conn()
    except urllib3.exceptions.HTTPError as error:
        return Answer(status=response.status, error=_error_text(error))
    finally:
        response.release_conn()
    return Answer(status=response.status, excerpt=excerpt.decode("utf-8", "replace"))


def _error_text(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return f"{type(reason).__name__}: {reason}"[:255]
