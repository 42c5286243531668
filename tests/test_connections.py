"""Connections a request reuses (issue 20 §4): one Redis pool per process, and a kept PostgreSQL
connection checked by its socket before the server is asked."""

from __future__ import annotations

import contextvars
import select
from typing import Any

import pytest
from django.db import connection

from kefu.core.cache import FailoverRedisCache


def test_every_cache_object_of_a_process_shares_one_redis_client() -> None:
    """Django makes a cache object per context and the ASGI server gives each request a fresh
    context: without sharing, every request opened its own connection to Redis."""
    params = {"OPTIONS": {"socket_connect_timeout": 0.5}}
    first = FailoverRedisCache("redis://127.0.0.1:6379/14", params)
    in_another_context = contextvars.Context().run(FailoverRedisCache, "redis://127.0.0.1:6379/14", params)
    elsewhere = FailoverRedisCache("redis://127.0.0.1:6379/15", params)
    other_options = FailoverRedisCache("redis://127.0.0.1:6379/14", {"OPTIONS": {"socket_connect_timeout": 2}})
    assert first is not in_another_context
    assert first._cache is in_another_context._cache
    assert elsewhere._cache is not first._cache
    assert other_options._cache is not first._cache


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_kept_connection_is_checked_by_its_socket_and_a_dead_one_is_found(monkeypatch: Any) -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper as Django

    from kefu.core.pgbackend.base import DatabaseWrapper

    kept = DatabaseWrapper(dict(connection.settings_dict), "kept")
    kept.ensure_connection()
    try:
        asked: list[bool] = []
        real = Django.is_usable
        monkeypatch.setattr(Django, "is_usable", lambda self: asked.append(True) or real(self))
        assert kept.is_usable() is True
        assert asked == []  # alive, and the server was not asked
        with connection.cursor() as cursor:  # the server ends it, as a restart does
            cursor.execute("SELECT pg_terminate_backend(%s)", [kept.connection.info.backend_pid])
        select.select([kept.connection.fileno()], [], [], 5)  # the goodbye arrives
        assert kept.is_usable() is False
        assert asked  # the socket had the server's goodbye on it: then the query decided
    finally:
        kept.close()


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_connection_whose_socket_numbers_past_1024_is_still_alive(monkeypatch: Any) -> None:
    """A busy web worker holds more than 1,024 sockets (keep-alive clients, live streams):
    ``select()`` cannot watch such a number, and the check must not call the connection dead."""
    import os
    import resource

    from django.db.backends.postgresql.base import DatabaseWrapper as Django

    from kefu.core.pgbackend.base import DatabaseWrapper

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    kept = DatabaseWrapper(dict(connection.settings_dict), "kept")
    try:
        kept.ensure_connection()
        assert kept.connection.fileno() >= 1024
        monkeypatch.setattr(Django, "is_usable", lambda self: pytest.fail("the server was asked"))
        assert kept.is_usable() is True
    finally:
        kept.close()
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
