"""The one timeline/audit mechanism: every state change is recorded here (append-only)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from . import clock, context, rulebook
from .actors import Actor, user_of
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


def _actor_fields(actor: Actor) -> dict[str, Any]:
    user = user_of(actor)
    if user is None:
        return {"actor": None, "actor_label": getattr(actor, "label", "") if actor is not None else "system"}
    return {"actor": user, "actor_label": user.get_username()}


@dataclass(frozen=True)
class SystemActor:
    """A non-user actor, e.g. an importer run from the command line."""

    label: str
    is_authenticated: bool = False


def _declared(verb: str) -> str:
    """Every verb a module records is declared in its ``rules.py`` (issue 19); the test settings
    refuse an undeclared one, so the whole suite proves it (production records it as it is)."""
    if getattr(settings, "KEFU_REFUSE_UNDECLARED_VERBS", False) and not rulebook.verb_declared(verb):
        raise ValueError(f"event verb {verb!r} is not declared in any module's rules.py")
    return verb


def _labelled(verb: str, *parts: Mapping[str, Any] | None) -> None:
    """Every field an event shows has a label (issue 19 §6); the test settings refuse one without."""
    if getattr(settings, "KEFU_REFUSE_UNLABELLED_FIELDS", False):
        from . import wording

        missing = wording.unlabelled(*parts)
        if missing:
            log = getattr(settings, "KEFU_UNLABELLED_LOG", "")
            if log:
                with open(log, "a") as out:
                    out.write(f"{verb} {' '.join(missing)}\n")
                return
            raise ValueError(f"event {verb!r} shows fields without a label: {missing}")


def event_record(
    *,
    actor: Actor,
    verb: str,
    subject: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Event:
    _labelled(verb, before, after)
    event = Event(
        at=at or clock.now(),
        verb=_declared(verb),
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
    actor: Actor,
    verb: str,
    items: Iterable[tuple[models.Model, Mapping[str, Any] | None, Mapping[str, Any] | None]],
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Bulk form for imports: ``items`` are (saved subject, before, after) triples."""
    by_model: dict[type[models.Model], list[tuple[int, str, Any, Any]]] = {}
    for subject, before, after in items:
        by_model.setdefault(subject.__class__, []).append((subject.pk, str(subject), before, after))
    return sum(
        event_record_bulk(actor=actor, verb=verb, model=model, entries=entries, data=data, at=at)
        for model, entries in by_model.items()
    )


def event_record_bulk(
    *,
    actor: Actor,
    verb: str,
    model: type[models.Model],
    entries: Iterable[tuple[Any, ...]],
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Append one event per (subject id, label, before, after[, data of its own]) without loading
    the subjects; an entry's own data is added to the shared ``data``."""
    from .bulk import bulk_insert

    _declared(verb)
    entries = list(entries)
    for entry in entries:
        _labelled(verb, entry[2], entry[3])
    when = at or clock.now()
    fields = _actor_fields(actor)
    actor_id = fields["actor"].pk if fields["actor"] is not None else None
    ct_id = ContentType.objects.get_for_model(model).pk
    ip = context.client_ip()
    payload = jsonable(data or {})
    return bulk_insert(
        Event,
        [
            "at",
            "actor_id",
            "actor_label",
            "verb",
            "subject_type_id",
            "subject_id",
            "subject_label",
            "before",
            "after",
            "data",
            "ip",
        ],
        (
            (
                when,
                actor_id,
                fields["actor_label"],
                verb,
                ct_id,
                pk,
                label[:200],
                jsonable(before) if before is not None else None,
                jsonable(after) if after is not None else None,
                {**payload, **jsonable(own[0])} if own else payload,
                ip,
            )
            for pk, label, before, after, *own in entries
        ),
    )


def timeline(subject: models.Model, *, limit: int = 200, hide: Iterable[str] = ()) -> list[Event]:
    """The subject's events, newest first, each ready to read: ``actor_name`` (the person's name,
    not a username), ``sentence`` (what they did) and ``change_rows`` (field label, before, after).
    ``hide`` drops fields this reader may not see (a colleague's salary) from every part."""
    events = list(Event.objects.for_object(subject)[:limit])
    hidden = set(hide)
    if hidden:
        for event in events:
            for part in (event.before, event.after, event.data):
                if isinstance(part, dict):
                    for key in hidden:
                        part.pop(key, None)
    annotate(events)
    return events


def annotate(events: list[Event]) -> None:
    """Give events their readable parts with one name lookup for all of them."""

    from . import wording

    names = wording.names_of(e.actor_id for e in events if e.actor_id is not None)
    for e in events:
        name = names.get(e.actor_id) if e.actor_id is not None else None
        e.actor_name = name or wording.system_actor(e.actor_label)  # type: ignore[attr-defined]
        e.sentence = wording.verb(e.verb)  # type: ignore[attr-defined]
        e.change_rows = wording.changes(e.before, e.after)  # type: ignore[attr-defined]
        data = e.data if isinstance(e.data, dict) else {}
        note = data.get("note") or data.get("reason")  # a free-text note, or why (a routing decision)
        e.note = note or ""  # type: ignore[attr-defined]
