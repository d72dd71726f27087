"""HTTP calls from the OMS to a storefront's API, and what their answers mean.

Every call goes through the outbound URL rule (core/outbound.py): the storefront's host is
checked before each call and the connection goes to the address that was checked, as the
webhook transport does. Redirects are not followed.

An answer is sorted into what the caller must do next:

* `RemoteThrottled`: the storefront asks us to slow down (HTTP 429 with `Retry-After`,
  Shopify's `THROTTLED`); the connector waits that long before its next call;
* `RemoteUnavailable`: down, timed out, 5xx; tried again with backoff;
* `RemoteRefused`: a 4xx or an error the storefront names (a wrong token, a rejected
  input); tried again with backoff too, so that nothing is lost once a person fixes it,
  and shown on the console;
* `RemoteNotFound`: the id we sent is unknown there; the caller looks it up again.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import urllib3
from django.conf import settings

from core.outbound import OutboundRefused, outbound_addresses

USER_AGENT = "OMS-Connectors/1"
# Whatever a storefront asks, a connector waits at most this long before trying again.
RETRY_AFTER_MAX_SECONDS = 3600.0


class RemoteError(Exception):
    """A call that did not do what it was for; `str()` is for people."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message[:255])
        self.status = status


class RemoteThrottled(RemoteError):
    def __init__(self, message: str, *, retry_after: float, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = min(max(retry_after, 0.0), RETRY_AFTER_MAX_SECONDS)


class RemoteUnavailable(RemoteError):
    pass


class RemoteRefused(RemoteError):
    pass


class RemoteNotFound(RemoteError):
    """`ids`: the remote ids the storefront did not know, when it says which."""

    def __init__(self, message: str, *, status: int | None = None, ids: list[str] | None = None):
        super().__init__(message, status=status)
        self.ids = ids or []


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@cache
def _manager() -> urllib3.PoolManager:
    # Connections are kept from one call to the next: a stock push is many calls to one host.
    return urllib3.PoolManager(num_pools=32, maxsize=4, block=False, retries=False)


@cache
def _timeout() -> urllib3.Timeout:
    seconds = settings.OMS_WEBHOOK_TIMEOUT_SECONDS
    return urllib3.Timeout(connect=min(seconds, 5.0), read=seconds)


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def call(
    *,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> Reply:
    """Send one JSON request; return the answer of a 2xx, raise a `RemoteError` otherwise."""
    try:
        parsed = urllib3.util.parse_url(url.strip())
        scheme = (parsed.scheme or "").lower()
        if scheme not in ("http", "https") or not parsed.host:
            raise OutboundRefused("The storefront URL must start with https:// and name a host.")
        host = parsed.host.strip("[]").lower()
        port = parsed.port or (443 if scheme == "https" else 80)
        address = outbound_addresses(host, port, field="base_url")[0]
    except OutboundRefused as refused:
        raise RemoteRefused(f"Refused: {refused.message}") from refused
    path = parsed.request_uri
    if query:
        path += ("&" if "?" in path else "?") + urlencode(query)
    tls = {"server_hostname": host, "assert_hostname": host} if scheme == "https" else {}
    pool = _manager().connection_from_host(address, port, scheme, pool_kwargs=tls)
    sent_headers = {
        "Host": parsed.host + (f":{parsed.port}" if parsed.port else ""),
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        **(headers or {}),
    }
    data = None
    if body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
        sent_headers["Content-Type"] = "application/json"
    try:
        response = pool.urlopen(
            method,
            path,
            body=data,
            headers=sent_headers,
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=_timeout(),
        )
    except (urllib3.exceptions.HTTPError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise RemoteUnavailable(f"{type(reason).__name__}: {reason}") from error
    status = response.status
    answer_headers = {name.lower(): value for name, value in response.headers.items()}
    try:
        decoded = json.loads(response.data) if response.data else None
    except ValueError:
        decoded = response.data[:200].decode("utf-8", "replace")
    if 200 <= status < 300:
        return Reply(status, decoded, answer_headers)
    described = f"HTTP {status}: {_excerpt(decoded)}"
    if status == 429:
        raise RemoteThrottled(
            described, retry_after=retry_after_seconds(answer_headers), status=status
        )
    if status == 404:
        raise RemoteNotFound(described, status=status)
    if status >= 500 or status == 408:
        raise RemoteUnavailable(described, status=status)
    raise RemoteRefused(described, status=status)


def retry_after_seconds(headers: dict[str, str], default: float = 2.0) -> float:
    """Return `Retry-After` in seconds (Shopify sends seconds, possibly with decimals)."""
    try:
        return float(headers.get("retry-after", default))
    except ValueError:
        return default


def _excerpt(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return (text or "")[:200]
