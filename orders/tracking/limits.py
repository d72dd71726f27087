"""The rate limit of the number + e-mail lookup: guessing costs time.

Failed lookups are counted in the cache (Redis in production, so every web process shares
the counts; a file cache locally) per client address and per order number, in fixed
windows: by default 10 failures per 10 minutes (`OMS_TRACKING_MAX_FAILURES`,
`OMS_TRACKING_WINDOW_SECONDS`). Past that the lookup answers 429 without looking.

The client address is the one the outermost trusted proxy saw (`OMS_TRUSTED_PROXY_COUNT`
hops of `X-Forwarded-For`, accounts.client_ip; `REMOTE_ADDR` with none), as for login
lockouts: else every customer shares the proxy's address and one guesser blocks all.
The per-number count also holds against guessers spread over many addresses; its price is
that one of them can hold a number's form lookup for a window (the signed link still works).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.client_ip import client_ip


@dataclass(frozen=True)
class RateLimit:
    attempts: int
    window_seconds: int


def rate_limit() -> RateLimit:
    return RateLimit(
        attempts=settings.OMS_TRACKING_MAX_FAILURES,
        window_seconds=settings.OMS_TRACKING_WINDOW_SECONDS,
    )


def client_address(request: HttpRequest) -> str:
    # The same trusted-proxy rule as the login lockouts: behind the proxy every request
    # comes from it, and a client-written X-Forwarded-For entry must not pick the bucket.
    return client_ip(request) or "unknown"


def _keys(address: str, number: str) -> list[str]:
    window = rate_limit().window_seconds
    bucket = int(time.time() // window)
    keys = [f"track:ip:{address}:{bucket}"]
    if number:
        keys.append(f"track:number:{number}:{bucket}")
    return keys


def lookup_blocked(*, address: str, number: str) -> bool:
    """Return whether this address, or this order number, has failed too often just now."""
    limit = rate_limit().attempts
    counts = cache.get_many(_keys(address, number))
    return any(count >= limit for count in counts.values())


def lookup_failed(*, address: str, number: str) -> None:
    """Count one failed lookup against the address and the order number."""
    window = rate_limit().window_seconds
    for key in _keys(address, number):
        # add() then incr(): the first failure of a window starts the count at 1.
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=window)
