"""Counters that hold under parallel requests (issue 16 §6): the sign-in and token throttles and the
rate limits count here. With Redis, ``INCR`` (atomic); without it — the embedded default, or while
Redis is unreachable — one row per key in ``core.Counter`` raised by a single conditional
``UPDATE … RETURNING``, so 60 parallel attempts get the numbers 1…60, never one number twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import F

from . import cache as shared_cache
from . import clock
from .models import Counter

_TABLE = Counter._meta.db_table


def _redis() -> Any:
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) and shared_cache.redis_up() else None


def bump(key: str, timeout: int) -> int:
    """Add one to ``key`` (a new or expired key starts at 1 and lives ``timeout`` seconds); the new count."""
    backend = _redis()
    if backend is not None:
        try:
            if RedisCache.add(backend, key, 1, timeout=timeout):
                return 1
            return int(RedisCache.incr(backend, key))
        except ValueError:  # expired between add and incr
            if RedisCache.add(backend, key, 1, timeout=timeout):
                return 1
        except shared_cache.errors():
            shared_cache.mark_down()
    return _table_bump(key, timeout)


def _table_bump(key: str, timeout: int) -> int:
    now = clock.now()
    expires = now + dt.timedelta(seconds=timeout)
    table, name = connection.ops.quote_name(_TABLE), connection.ops.quote_name("key")
    update = (
        f"UPDATE {table} SET value = CASE WHEN expires_at > %s THEN value + 1 ELSE 1 END, "  # noqa: S608
        f"expires_at = CASE WHEN expires_at > %s THEN expires_at ELSE %s END WHERE {name} = %s RETURNING value"
    )
    insert = (
        f"INSERT INTO {table} ({name}, value, expires_at) VALUES (%s, 1, %s) "  # noqa: S608
        f"ON CONFLICT ({name}) DO NOTHING RETURNING value"
    )
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute(update, [now, now, expires, key])
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
            cursor.execute(insert, [key, expires])
            row = cursor.fetchone()
            if row is not None:
                return 1
    raise RuntimeError(f"counter {key!r} could not be raised")  # pragma: no cover (a row deleted thrice)


def peek(key: str) -> int:
    backend = _redis()
    if backend is not None:
        try:
            return int(RedisCache.get(backend, key) or 0)
        except shared_cache.errors():
            shared_cache.mark_down()
    row = Counter.objects.filter(key=key, expires_at__gt=clock.now()).values_list("value", flat=True).first()
    return int(row or 0)


def forget(*keys: str) -> None:
    backend = _redis()
    if backend is not None:
        try:
            RedisCache.delete_many(backend, list(keys))
            return
        except shared_cache.errors():
            shared_cache.mark_down()
    Counter.objects.filter(key__in=keys).delete()


def lower(key: str) -> None:
    """Take one off (never below 0)."""
    backend = _redis()
    if backend is not None:
        try:
            if RedisCache.get(backend, key):
                RedisCache.decr(backend, key)
            return
        except ValueError:  # expired meanwhile
            return
        except shared_cache.errors():
            shared_cache.mark_down()
    Counter.objects.filter(key=key, value__gt=0).update(value=F("value") - 1)


def sweep() -> int:
    """Delete expired rows (the periodic clean-up); how many."""
    deleted, _ = Counter.objects.filter(expires_at__lte=clock.now()).delete()
    return deleted
