"""Live updates for the desk (ADR 0012): Server-Sent Events.

A write publishes the ids of the conversations it touched, after commit. Each open page holds one
``EventSource`` stream; the stream wakes when something is published and then reads the database
for what changed since its last event id, so a lost wake-up costs at most one poll interval and
nothing is ever missed. Wake-ups travel in-process by default (one web process, or several that
fall back to the short poll) and over Redis pub/sub when ``KEFU_REDIS_URL`` is set, so every
web process of a deployment wakes at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Any

from django.conf import settings

CHANNEL = "kefu:desk"
_local = threading.Condition()
_generation = 0


def publish(conversation_ids: Iterable[int]) -> None:
    global _generation
    ids = list(conversation_ids)
    with _local:
        _generation += 1
        _local.notify_all()
    url = getattr(settings, "REDIS_URL", "")
    if url:
        with contextlib.suppress(Exception):
            _redis(url).publish(CHANNEL, ",".join(str(i) for i in ids))


_clients: dict[str, Any] = {}


def _redis(url: str) -> Any:
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=1)
    return client


class Waiter:
    """Blocks a stream until something is published (here or, with Redis, anywhere) or ``timeout``."""

    def __init__(self) -> None:
        self.seen = _generation
        url = getattr(settings, "REDIS_URL", "")
        self.pubsub = None
        if url:
            try:
                self.pubsub = _redis(url).pubsub(ignore_subscribe_messages=True)
                self.pubsub.subscribe(CHANNEL)
            except Exception:
                self.pubsub = None

    def wait(self, timeout: float) -> None:
        if self.pubsub is not None:
            try:
                self.pubsub.get_message(timeout=timeout)
                return
            except Exception:
                self.pubsub = None
        with _local:
            if _generation == self.seen:
                _local.wait(timeout)
            self.seen = _generation

    def close(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                self.pubsub.close()
