"""What a web process remembers for a few seconds (ADR 0023): rows every request reads and people
rarely change — chat channels and shops for the message pipeline, the status labels of a
workflow's categories for the lists.

A change made in this process forgets its memory at once (the owner connects ``forget`` to the
models' signals); made in another process, it is seen here within the memory's seconds
(``KEFU_MEMORY_SECONDS``; 0 remembers nothing, as the test settings do).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")


class ProcessMemory:
    """A small keyed memory with one lifetime; ``forget`` empties it (a signal receiver)."""

    def __init__(self, name: str, *, at_most: int = 10_000) -> None:
        self.name = name
        self.at_most = at_most
        self._values: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        seconds = float(settings.KEFU_MEMORY_SECONDS)
        if seconds <= 0:
            return load()
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[no-any-return]
        value = load()
        if len(self._values) >= self.at_most:
            self._values.clear()
        self._values[key] = (now + seconds, value)
        return value

    def forget(self, *_args: Any, **_kwargs: Any) -> None:
        self._values.clear()
