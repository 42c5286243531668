"""The one timeline/audit mechanism: every state change is recorded here (append-only)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from . import clock, context
from .models import Event


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def jsonable(value: Any) -> Any:
    """Turn Decimals, dates and models into JSON-safe values (stable for before/after diffs)."""
    out = _jsonable(value)
    json.dumps(out)
    return out


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_label": getattr(actor, "label", "") if actor is not None else "system"}
    return {"actor": actor, "actor_label": actor.get_username()}


@dataclass(frozen=True)
class SystemActor:
    """A non-user actor, e.g. an importer run from the command line."""

    label: str
    is_authenticated: bool = False


def event_record(
    *,
    actor: Any,
    verb: str,
    subject: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Event:
    event = Event(
        at=at or clock.now(),
        verb=verb,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        data=jsonable(data or {}),
        ip=context.client_ip(),
        **_actor_fields(actor),
    )
    if subject is not None:
        event.subject_type = ContentType.objects.get_for_model(subject.__class__)
        event.subject_id = subject.pk
        event.subject_label = str(subject)[:200]
    event.save()
    return event


def event_record_many(
    *,
    actor: Any,
    verb: str,
    items: Iterable[tuple[models.Model, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    batch_size: int = 2000,
) -> int:
    """Bulk form for imports: ``items`` are (subject, before, after) triples with saved subjects."""
    when = at or clock.now()
    actor_fields = _actor_fields(actor)
    ip = context.client_ip()
    payload = jsonable(data or {})
    rows: list[Event] = []
    ct_cache: dict[type, ContentType] = {}
    for subject, before, after in items:
        ct = ct_cache.get(subject.__class__)
        if ct is None:
            ct = ct_cache[subject.__class__] = ContentType.objects.get_for_model(subject.__class__)
        rows.append(
            Event(
                at=when,
                verb=verb,
                subject_type=ct,
                subject_id=subject.pk,
                subject_label=str(subject)[:200],
                before=jsonable(before) if before is not None else None,
                after=jsonable(after) if after is not None else None,
                data=payload,
                ip=ip,
                **actor_fields,
            )
        )
    Event.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


def timeline(subject: models.Model, *, limit: int = 200) -> list[Event]:
    return list(Event.objects.for_object(subject).select_related("actor")[:limit])


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as JSON-safe before/after dicts."""
    b = jsonable(dict(before))
    a = jsonable(dict(after))
    keys = [k for k in a if b.get(k) != a.get(k)]
    return {k: b.get(k) for k in keys}, {k: a[k] for k in keys}
