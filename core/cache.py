"""Django's Redis cache, keeping one client per connection pool, and carrying on without Redis.

Django builds a new `redis.Redis` for every cache operation, and its constructor registers
some two hundred response callbacks: about 1 ms of CPU per operation on this machine,
paid on the order hot path by the after-commit kick (core/kick.py). A client only wraps its
connection pool and is safe to share between threads, so one per pool is enough.

What the caches hold can be lost: rate-limit counts (tracking), the alerts badge, count
progress, markers that save a task message. So when Redis does not answer, every operation
goes to the process's own memory instead of failing the page: the console, the admin, login
and tracking keep working, with rate limits counted per process meanwhile. The outage is
logged once; Redis is tried again every `RETRY_SECONDS`, and used again once it answers.
`/healthz` says which caches are unavailable (`caches_unavailable`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import ConnectionPool, Redis
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_SECONDS = 5.0
# A page must not hang on a Redis that does not answer: seconds to connect, and per reply.
CONNECT_TIMEOUT_SECONDS = 1.0
REPLY_TIMEOUT_SECONDS = 2.0


class PooledClientRedisCacheClient(RedisCacheClient):
    # Django's own private attributes, which its type stubs leave out.
    _servers: list[str]
    _pools: dict[int, ConnectionPool]
    _pool_class: type[ConnectionPool]
    _pool_options: dict[str, Any]
    _client: Callable[..., Redis]
    _get_connection_pool_index: Callable[[bool], int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(
        self, key: str | bytes | memoryview | None = None, *, write: bool = False
    ) -> Redis:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


@dataclass
class Outage:
    """Whether one Redis cache is taken as down, shared by every thread of the process
    (Django keeps a cache object per thread)."""

    name: str
    until: float = 0.0  # monotonic time before which Redis is not tried
    down: bool = False

    def begin(self, error: Exception) -> None:
        self.until = time.monotonic() + RETRY_SECONDS
        if not self.down:
            self.down = True
            logger.warning(
                "cache %s unavailable (%s): carrying on with this process's memory",
                self.name,
                error,
            )

    def end(self) -> None:
        if self.down:
            self.down = False
            logger.warning("cache %s available again", self.name)


_outages: dict[str, Outage] = {}


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", REPLY_TIMEOUT_SECONDS)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = PooledClientRedisCacheClient
        name = f"{server}|{params.get('KEY_PREFIX', '')}"
        self._outage = _outages.setdefault(name, Outage(name))
        # Named like this cache: every thread of the process shares the same memory.
        self._fallback = LocMemCache(
            f"fallback:{name}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10_000}},
        )

    @property
    def unavailable(self) -> bool:
        """Whether Redis was found down and is not being tried for now."""
        return self._outage.down

    def ping(self) -> bool:
        """Ask Redis now, whatever the last outcome; return whether it answered."""
        try:
            self._cache.get_client(write=True).ping()
        except UNAVAILABLE as error:
            self._outage.begin(error)
            return False
        self._outage.end()
        return True

    def round_trip(self, commands: Callable[[Pipeline], object]) -> list[Any] | None:
        """Send what `commands` puts in a pipeline (no MULTI) in one round trip, on the
        process's client; return the replies, or None when Redis does not answer (then,
        as for any operation, it is not tried again for `RETRY_SECONDS`)."""
        if self._outage.down and time.monotonic() < self._outage.until:
            return None
        try:
            pipe = self._cache.get_client(write=True).pipeline(transaction=False)
            commands(pipe)
            replies = pipe.execute()
        except UNAVAILABLE as error:
            self._outage.begin(error)
            return None
        self._outage.end()
        return replies

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self._outage.down and time.monotonic() < self._outage.until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            result = getattr(DjangoRedisCache, name)(self, *args, **kwargs)
        except UNAVAILABLE as error:
            self._outage.begin(error)
            return getattr(self._fallback, name)(*args, **kwargs)
        self._outage.end()
        return result

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        return self._run("clear")


def caches_unavailable() -> list[str]:
    """Return the aliases of the Redis caches that do not answer now (asked afresh)."""
    return [
        alias
        for alias in caches.settings
        if isinstance(cache := caches[alias], RedisCache) and not cache.ping()
    ]
