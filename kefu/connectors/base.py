"""The connector framework (issue 21 §1, ADR 0026): what a platform adapter declares, and the shape
every stream's records take on their way to the import services.

An adapter (``taobao``, ``pinduoduo``, ``dingtalk``) says which streams it has. A stream pages
through one kind of record in a window of modification times (``pages``) and hands each page to
the import service that files use (``land``). The runner (``services.connector_sync``) owns the
windows, the cursor, the retries, the lease and the run log; an adapter owns only the protocol.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from django.utils.translation import gettext as _

from .transport import Backoff, Refused


@dataclass
class Landed:
    """What the import service made of one page of records."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (the record's reference, why)

    def add(self, other: Landed) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failures += other.failures


@dataclass
class Context:
    """What a stream is given for one run: the connector, its unsealed secrets, a kept HTTP
    connection, the retry policy, and the actor records land as."""

    connector: Any
    secrets: dict[str, Any]
    http: httpx.Client
    backoff: Backoff
    actor: Any
    # the adapter's session with the platform for this run (DingTalk's access token …)
    state: dict[str, Any] = field(default_factory=dict)


class Stream(Protocol):
    name: str
    label: Any
    window: dt.timedelta  # the longest window one call may ask (TOP: a day)
    overlap: dt.timedelta  # how far back each run starts before its cursor (late writes on the platform)
    first_days: int  # how far back the first run looks

    def pages(self, ctx: Context, start: dt.datetime, end: dt.datetime) -> Iterator[list[dict[str, Any]]]: ...

    def land(self, ctx: Context, records: list[dict[str, Any]]) -> Landed: ...


@dataclass(frozen=True)
class Adapter:
    platform: str
    streams: tuple[Stream, ...]
    default_gateway: str
    needs_shop: bool
    # called once per run before the streams, e.g. to fetch an access token
    open: Callable[[Context], None] = lambda ctx: None


ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter) -> None:
    ADAPTERS[adapter.platform] = adapter


def adapters() -> dict[str, Adapter]:
    """Every platform's adapter (each module registers its own when first imported)."""
    from . import dingtalk, pinduoduo, taobao  # noqa: F401

    return ADAPTERS


MAX_PAGES = 2000  # pages read in one window (200,000 records of 100): a larger count is a malformed one


def newest_first(
    page: Callable[[int], dict[str, Any]],
    items: Callable[[dict[str, Any]], list[dict[str, Any]]],
    total: Callable[[dict[str, Any]], int],
    page_size: int,
) -> Iterator[list[dict[str, Any]]]:
    """Every page of a platform's increment list, last page first, as TOP and Pinduoduo advise: the
    list is newest first, and a record changed while we page leaves the window and moves the rest up
    one place. Read backwards, a moved record is read twice (the import counts it unchanged) instead
    of being skipped. Page 1 is asked first for the count (``total``) and read again last. A count of
    more than ``MAX_PAGES`` pages refuses the answer; three empty pages in a row mean the count said
    more than there is, and the pages before are read from page 1 up to the first empty one."""
    first = page(1)
    last = max(1, -(-total(first) // page_size))
    if last > MAX_PAGES:
        raise Refused(
            _("The platform lists %(n)s pages in one window; at most %(max)s are read.") % {"n": last, "max": MAX_PAGES}
        )
    if last == 1:
        found = items(first)
        if found:
            yield found
        return
    empty = 0
    for page_no in range(last, 0, -1):
        found = items(page(page_no))
        if found:
            empty = 0
            yield found
            continue
        empty += 1
        if empty == 3:
            for earlier in range(1, page_no):
                found = items(page(earlier))
                if not found:
                    return
                yield found
            return


def windows(start: dt.datetime, end: dt.datetime, size: dt.timedelta) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """``[start, end)`` cut into consecutive windows of at most ``size``."""
    at = start
    while at < end:
        upto = min(end, at + size)
        yield at, upto
        at = upto


_DONE = object()


def prefetched(pages: Iterator[list[dict[str, Any]]], depth: int = 2) -> Iterator[list[dict[str, Any]]]:
    """The same pages, fetched by a thread of their own up to ``depth`` ahead: the next page travels
    while this one is landed. Only for streams whose paging touches no database (the thread has no
    connection of the request's). An error of the fetching thread is raised here, at its place in
    the sequence; leaving early stops the thread at its next page."""
    import queue
    import threading

    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        box.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised where the page would have been
            box.put(exc)

    thread = threading.Thread(target=fetch, name="kefu-connector-fetch", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(0.05)
