"""The shared cache: Redis in production, and the database's cache table while Redis cannot be
reached (issue 16 §5). Sign-in and token counters, the widget's limits and the webhook's replay
window live here; with Redis down they answered 500. Now each call that finds Redis unreachable is
answered by the database cache, and Redis is not tried again for a few seconds (so a dead Redis
costs one short connect timeout per process every few seconds, not one per call)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
_down_until = 0.0


def errors() -> tuple[type[BaseException], ...]:
    """What an unreachable Redis raises."""
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def redis_up() -> bool:
    """False for ``RETRY_SECONDS`` after a call found Redis unreachable."""
    return time.monotonic() >= _down_until


def mark_down() -> None:
    global _down_until
    _down_until = time.monotonic() + RETRY_SECONDS


# One client (and so one connection pool) per Redis address and options in each process. Django
# keeps a cache object per context, and the ASGI server runs every request in a fresh copy of its
# context: each request made its own pool and opened a new connection to Redis (a quarter of a
# signed webhook's CPU, issue 20 §4).
_CLIENTS: dict[str, RedisCacheClient] = {}
_CLIENTS_LOCK = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    """Django's client makes a ``redis.Redis`` for every call (its constructor fills a table of
    some 170 response callbacks each time); one per pool serves every thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # the stubs leave out the client's private helpers
        index = django._get_connection_pool_index(write)
        client = self._redis.get(index)
        if client is None:
            client = self._redis[index] = django._client(connection_pool=django._get_connection_pool(write))
        return client


class FailoverRedisCache(RedisCache):
    """RedisCache whose calls fall back to the ``fallback`` cache (the database) while Redis is
    unreachable. Counters restart in the fallback: a lock-out may be forgotten once, never a 500."""

    @cached_property
    def _cache(self) -> RedisCacheClient:
        servers, options = getattr(self, "_servers"), getattr(self, "_options")  # noqa: B009 (untyped in the stubs)
        key = repr((servers, sorted(options.items())))
        client = _CLIENTS.get(key)
        if client is None:
            with _CLIENTS_LOCK:
                client = _CLIENTS.get(key)
                if client is None:
                    client = _CLIENTS[key] = SharedRedisCacheClient(servers, **options)
        return client

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if redis_up():
            try:
                return getattr(super(), name)(*args, **kwargs)
            except errors() as exc:
                mark_down()
                log.warning("Redis cache unreachable (%s); the database cache answers for %ss", exc, RETRY_SECONDS)
        return getattr(caches["fallback"], name)(*args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get_many", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("incr", *args, **kwargs)

    def decr(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("decr", *args, **kwargs)

    def clear(self) -> Any:
        return self._call("clear")
