"""Live updates for the desk (ADR 0012, ADR 0018): Server-Sent Events.

A write publishes the conversations it touched, after commit, each with its shop (``"17:3"``; ``"*"``
wakes everyone). Each open page holds one ``EventSource`` stream; the stream wakes when something it
could see is published and then reads the database for what changed since its last event id, so a
lost wake-up costs at most one safety poll and nothing is ever missed.

Two ways to serve a stream:

- **ASGI** (``kefu serve``: gunicorn with uvicorn workers, ``config.asgi``): the stream is an async
  generator that holds no thread. One :class:`Hub` per process keeps every open stream and, with
  Redis, one pub/sub subscription for them all; a wake-up reaches only the streams whose shops (or
  conversation) it names. Database reads run on a small pool of their own (``KEFU_STREAM_DB_THREADS``),
  and a stream reads at most once per ``MIN_READ_SECONDS``, so a burst of messages costs each page
  one query, not one per message.
- **WSGI** (``runserver``, the test server): the stream holds its thread and waits on a
  :class:`Waiter` (an in-process condition, or a Redis subscription of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Coroutine, Hashable, Iterable
from typing import Any

from django.conf import settings

CHANNEL = "kefu:desk"
_local = threading.Condition()
_generation = 0


def _routes(conversation_ids: list[int]) -> list[str]:
    """``"<conversation>:<shop>"`` for each conversation, ``"*"`` for a wake-up meant for everyone."""
    from .models import Conversation

    real = [i for i in conversation_ids if i]
    routes = [f"{pk}:{shop}" for pk, shop in Conversation.objects.filter(pk__in=real).values_list("pk", "shop_id")]
    if len(real) < len(conversation_ids) or not routes:
        routes.append("*")
    return routes


def publish(conversation_ids: Iterable[int]) -> None:
    global _generation
    payload = ",".join(_routes(list(conversation_ids)))
    with _local:
        _generation += 1
        _local.notify_all()
    url = getattr(settings, "REDIS_URL", "")
    if url:
        with contextlib.suppress(Exception):  # if Redis blinked, this process's own streams still hear it
            _redis(url).publish(CHANNEL, payload)
            return
    for key, hub in list(_hubs.items()):
        if hub.loop.is_closed():  # its event loop ended (a server shut down): nobody listens there
            _hubs.pop(key, None)
            continue
        with contextlib.suppress(RuntimeError):  # closed between the check and the call
            hub.loop.call_soon_threadsafe(hub.dispatch, payload)


_clients: dict[str, Any] = {}


def _redis(url: str) -> Any:
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=1)
    return client


class Waiter:
    """Blocks a (WSGI) stream until something is published (here or, with Redis, anywhere) or ``timeout``."""

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


# --- ASGI -----------------------------------------------------------------------------------------

MIN_READ_SECONDS = 1.0  # a stream reads at most this often, however many messages arrive
SAFETY_POLL_SECONDS = 30.0  # with wake-ups flowing, a stream still reads this often
BLIND_POLL_SECONDS = 2.0  # Redis configured but unreachable
EMBEDDED_POLL_SECONDS = 0.5  # no Redis (the embedded default): other processes' messages are polled
SHARE_SECONDS = 0.5  # a finished shared read answers later askers this long (unless a wake-up came)


class Subscription:
    __slots__ = ("conversation", "event", "every", "shops")

    def __init__(self, *, conversation: int | None, shops: frozenset[int] | None) -> None:
        self.conversation = conversation
        self.shops = shops  # None: every shop
        self.every = shops is None and conversation is None
        self.event = asyncio.Event()


class Hub:
    """Every open stream of this process and the one subscription that wakes them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.by_conversation: dict[int, set[Subscription]] = defaultdict(set)
        self.by_shop: dict[int, set[Subscription]] = defaultdict(set)
        self.everyone: set[Subscription] = set()  # department-wide streams
        self.open: set[Subscription] = set()  # every stream (a "*" wake-up)
        self.listening = False  # True while the Redis subscription is up
        self._task: asyncio.Task[None] | None = None
        self.reads: dict[Hashable, tuple[asyncio.Future[Any], float]] = {}

    def __len__(self) -> int:
        return len(self.open)

    def subscribe(self, *, conversation: int | None = None, shops: frozenset[int] | None = None) -> Subscription:
        sub = Subscription(conversation=conversation, shops=shops)
        self.open.add(sub)
        if conversation is not None:
            self.by_conversation[conversation].add(sub)
        elif shops is None:
            self.everyone.add(sub)
        else:
            for shop in shops:
                self.by_shop[shop].add(sub)
        self._ensure_listener()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.open.discard(sub)
        if sub.conversation is not None:
            _discard(self.by_conversation, sub.conversation, sub)
        elif sub.shops is None:
            self.everyone.discard(sub)
        else:
            for shop in sub.shops:
                _discard(self.by_shop, shop, sub)

    async def shared(self, key: Hashable, read: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """One read for every stream asking the same question (same scope, same resume point) since
        the last wake-up: after a message, the streams of a team cost one query, not one each. Every
        wake-up forgets the answers (they may predate the message), so no stream reuses a stale one.
        The read runs as a task of its own: a stream that goes away while it waits (its page closed)
        cancels only its own wait, never the answer the others are waiting for."""
        now = self.loop.time()
        entry = self.reads.get(key)
        if entry is None or (entry[0].done() and now - entry[1] > SHARE_SECONDS):
            task = self.loop.create_task(read())
            entry = self.reads[key] = (task, now)
            task.add_done_callback(functools.partial(self._answered, key))
            if len(self.reads) > 1000:  # old questions (resume points long passed)
                self.reads = {k: v for k, v in self.reads.items() if not v[0].done() or now - v[1] <= SHARE_SECONDS}
        return await asyncio.shield(entry[0])

    def _answered(self, key: Hashable, task: asyncio.Future[Any]) -> None:
        entry = self.reads.get(key)
        if entry is None or entry[0] is not task:
            return
        if task.cancelled() or task.exception() is not None:
            del self.reads[key]  # a failed read is not remembered
        else:
            self.reads[key] = (task, self.loop.time())  # reusable from when it was answered

    def dispatch(self, payload: str) -> None:
        self.reads.clear()
        woken: set[Subscription] = set()
        for route in payload.split(","):
            if route == "*":
                woken = set(self.open)
                break
            conversation, _, shop = route.partition(":")
            with contextlib.suppress(ValueError):
                woken.update(self.by_conversation.get(int(conversation), ()))
                woken.update(self.by_shop.get(int(shop), ()))
        woken.update(self.everyone)  # the department-wide see every message
        for sub in woken:
            sub.event.set()

    def poll_seconds(self) -> float:
        if not getattr(settings, "REDIS_URL", ""):
            return EMBEDDED_POLL_SECONDS
        if self.listening:
            return SAFETY_POLL_SECONDS * random.uniform(0.8, 1.2)
        return BLIND_POLL_SECONDS

    def _ensure_listener(self) -> None:
        url = getattr(settings, "REDIS_URL", "")
        if url and (self._task is None or self._task.done()):
            self._task = self.loop.create_task(self._listen(url))

    async def _listen(self, url: str) -> None:
        """One subscription per process; on a failure, back off (1 s … 30 s) and subscribe again,
        the streams meanwhile polling every ``BLIND_POLL_SECONDS``."""
        import redis.asyncio as aioredis

        delay = 1.0
        while True:
            client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.listening = True
                delay = 1.0
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        data = message["data"]
                        self.dispatch(data.decode() if isinstance(data, bytes) else str(data))
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening = False
            finally:
                self.listening = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await client.aclose()
            for sub in list(self.open):
                sub.event.set()  # whatever happened while deaf is read now
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)


def _discard(index: dict[int, set[Subscription]], key: int, sub: Subscription) -> None:
    subs = index.get(key)
    if subs is not None:
        subs.discard(sub)
        if not subs:
            del index[key]


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This event loop's hub (one per worker process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for old in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[old]
        found = _hubs[loop] = Hub(loop)
    return found
