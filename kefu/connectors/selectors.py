"""Connector reads, scoped: the supervisor sees every connector, a team lead those of their shops."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, Q, Window
from django.db.models.functions import RowNumber

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.scoping import access_object

from .base import adapters
from .models import Connector, SyncRun
from .services import ALERT_AFTER, LEASE


@dataclass
class Health:
    connector: Connector
    state: str  # ok | failing | alert | never | off | expiring
    lag: dt.timedelta | None  # how far behind the oldest stream's cursor is
    last_runs: list[SyncRun]
    streams: list[tuple[str, Any, str]]  # (name, label, cursor)


def connectors(*, actor: Actor) -> list[Connector]:
    return list(Connector.objects.restrict(actor).select_related("shop").order_by("name"))


def connector_get(*, actor: Actor, connector_id: int) -> Connector:
    return access_object(actor, Connector.objects.select_related("shop"), pk=connector_id)


def _state(c: Connector, now: dt.datetime) -> str:
    if not c.enabled:
        return "off"
    if c.failing_since is not None:
        return "alert" if c.failing_since <= now - ALERT_AFTER else "failing"
    if c.last_success_at is None:
        return "never"
    if c.session_expires_at is not None and c.session_expires_at <= now + dt.timedelta(days=3):
        return "expiring"
    return "ok"


def health(*, actor: Actor, runs: int = 3) -> list[Health]:
    """Each connector in scope with its state, lag and last ``runs`` runs (two queries, however many
    runs the log holds: the last runs are picked by a window function)."""
    platforms = adapters()
    now = clock.now()
    newest = SyncRun.objects.annotate(
        newest=Window(RowNumber(), partition_by=[F("connector_id")], order_by=[F("started_at").desc(), F("id").desc()])
    ).filter(newest__lte=runs)
    recent: Any = Prefetch("runs", queryset=newest.order_by("-started_at", "-id"), to_attr="recent")
    out = []
    for c in Connector.objects.restrict(actor).select_related("shop").prefetch_related(recent).order_by("name"):
        adapter = platforms.get(c.platform)
        streams = [(s.name, s.label, c.cursors.get(s.name, "")) for s in (adapter.streams if adapter else ())]
        cursors = [dt.datetime.fromisoformat(cur) for _n, _l, cur in streams if cur]
        lag = now - min(cursors) if cursors and len(cursors) == len(streams) else None
        out.append(Health(c, _state(c, now), lag, c.recent[:runs], streams))  # type: ignore[attr-defined]
    return out


def runs(*, actor: Actor, connector: Connector, limit: int = 100) -> list[SyncRun]:
    return list(SyncRun.objects.restrict(actor).filter(connector=connector).select_related("actor")[:limit])


def due_connectors(now: dt.datetime | None = None) -> list[int]:
    """The enabled connectors whose next run is due and that no live run holds (the scheduler's read)."""
    now = now or clock.now()
    return list(
        Connector.objects.filter(enabled=True, next_run_at__lte=now)
        .filter(Q(running_since__isnull=True) | Q(running_since__lt=now - LEASE))
        .values_list("pk", flat=True)
    )


def failing_for_an_hour(queryset: Any) -> list[Connector]:
    return list(queryset.filter(failing_since__lte=clock.now() - ALERT_AFTER).order_by("failing_since"))


def failing(*, actor: Actor) -> list[Connector]:
    return failing_for_an_hour(Connector.objects.restrict(actor).filter(enabled=True).select_related("shop"))
