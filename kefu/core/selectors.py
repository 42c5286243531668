"""Core reads: the import history and the audit trail (callers check the capability)."""

from __future__ import annotations

from typing import Any

from .models import Event, ImportRun


def import_runs(*, actor: Any, everyone: bool) -> Any:
    """Import runs: everyone's for an organisation manager, else the actor's own."""
    qs = ImportRun.objects.select_related("actor")
    return qs if everyone else qs.filter(actor_id=getattr(actor, "pk", None) or 0)


def audit_events(*, verb: str = "") -> Any:
    qs = Event.objects.select_related("actor", "subject_type")
    return qs.filter(verb__startswith=verb) if verb else qs
