"""Core reads: the import history and the audit trail (callers check the capability)."""

from __future__ import annotations

from typing import Any

from django.db import models

from .actors import Actor
from .models import Event, ImportRun


def import_runs(*, actor: Actor, everyone: bool) -> Any:
    """Import runs: everyone's for an organisation manager, else the actor's own."""
    qs = ImportRun.objects.select_related("actor")
    return qs if everyone else qs.filter(actor_id=getattr(actor, "pk", None) or 0)


def audit_events(*, verb: str = "") -> Any:
    qs = Event.objects.select_related("actor", "subject_type")
    return qs.filter(verb__startswith=verb) if verb else qs


def outbox_troubles(*, limit: int = 200) -> list[Any]:
    """Messages that have not gone out and failed at least once, or were given up (ADR 0008): the
    supervisor sees them and retries. Payloads are not shown (they hold customers' phones and texts)."""
    from .models import OutboxMessage

    return list(
        OutboxMessage.objects.filter(sent_at__isnull=True)
        .filter(models.Q(dead=True) | models.Q(attempts__gt=0, last_error__gt=""))
        .order_by("-id")[:limit]
    )
