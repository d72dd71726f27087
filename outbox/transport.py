"""POST a signed body to a receiver, over pooled connections shared by the relay's threads.

The receiver's host is checked before every attempt (core/outbound.py) and the connection
goes to the address that was checked, not to the name: a name that resolved to a public
address when the subscription was made and resolves to 127.0.0.1 now (DNS rebinding) is
refused, and one that answers differently between the check and the connect cannot slip
in. The request still carries the name: in the Host header, and for https in the TLS server
name and the certificate check. Redirects are not followed (a 3xx is a failed attempt), and
only the start of the answer is kept, for people to read in the admin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache, lru_cache

import urllib3
from django.conf import settings

from core.outbound import OutboundRefused, outbound_addresses
from core.request_id import HEADER as REQUEST_ID_HEADER
from outbox.signing import ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, timed_headers

EXCERPT_BYTES = 500
# An answer left longer than this is not read to its end: its connection is closed instead.
DRAIN_BYTES = 64 * 1024
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


@dataclass(frozen=True)
class Target:
    """Where a URL points, parsed once: the name, the port, the path and the Host header."""

    scheme: str
    host: str
    port: int
    path: str
    host_header: str


@cache
def _manager() -> urllib3.PoolManager:
    # One pool per receiver address and name, per process, sized for the relay's threads:
    # connections are kept open from one event to the next.
    return urllib3.PoolManager(
        num_pools=64, maxsize=settings.OMS_WEBHOOK_CONCURRENCY, block=False, retries=False
    )


@lru_cache(maxsize=4096)
def target(url: str) -> Target:
    """Parse `url` (cached: parsing cost as much as the rest of a request)."""
    parsed = urllib3.util.parse_url(url.strip())
    scheme = (parsed.scheme or "").lower()
    if scheme not in ("http", "https") or not parsed.host:
        raise OutboundRefused("The URL must start with https:// (or http://) and name a host.")
    if parsed.auth:
        raise OutboundRefused("The URL must not carry a user name or password.")
    port = parsed.port or (443 if scheme == "https" else 80)
    host_header = parsed.host + (f":{parsed.port}" if parsed.port else "")
    return Target(scheme, parsed.host.strip("[]").lower(), port, parsed.request_uri, host_header)


def _pool(to: Target, address: str) -> urllib3.HTTPConnectionPool:
    """The pool that connects to `address` for `to`'s host name."""
    tls = {"server_hostname": to.host, "assert_hostname": to.host} if to.scheme == "https" else {}
    return _manager().connection_from_host(address, to.port, to.scheme, pool_kwargs=tls)


@cache
def _timeout() -> urllib3.Timeout:
    seconds = settings.OMS_WEBHOOK_TIMEOUT_SECONDS
    return urllib3.Timeout(connect=min(seconds, 5.0), read=seconds)


def post(
    *,
    url: str,
    body: bytes,
    secret: str,
    event_id: str,
    event: str,
    attempt: int,
    request_id: str = "",
) -> Answer:
    """POST `body` to `url`, signed with `secret` at this moment; never raise for the
    receiver's faults. A host that is not (or no longer) public is a failed attempt."""
    try:
        to = target(url)
        address = outbound_addresses(to.host, to.port)[0]
    except OutboundRefused as refused:
        return Answer(status=None, error=f"Refused: {refused.message}"[:255])
    headers = {
        "Host": to.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event,
        ATTEMPT_HEADER: str(attempt),
        **timed_headers(body, secret, int(time.time())),
    }
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    try:
        response = _pool(to, address).urlopen(
            "POST",
            to.path,
            body=body,
            headers=headers,
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
        remaining = response.length_remaining
        if remaining is not None and remaining <= DRAIN_BYTES:
            response.drain_conn()  # the connection can serve the next event
        else:
            response.close()  # a long or endless answer is not read: a new connection
    except urllib3.exceptions.HTTPError as error:
        return Answer(status=response.status, error=_error_text(error))
    finally:
        response.release_conn()
    return Answer(status=response.status, excerpt=_printable(excerpt))


def _printable(excerpt: bytes) -> str:
    # PostgreSQL text holds no NUL character: one in an answer must not stop the relay.
    return excerpt[:EXCERPT_BYTES].decode("utf-8", "replace").replace("\x00", "\ufffd")


def _error_text(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return f"{type(reason).__name__}: {reason}"[:255]
