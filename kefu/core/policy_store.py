"""The versioned handbook policy: which version is in force on a date, and saving a new one.

The seed preset is in force for every date until a newer version is saved, so statements for
months before installation work. Versions are immutable; a change is a new version.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from kefu.core.rules import Verb
from kefu.policies import handbook

from . import clock, rulebook
from .actions import action
from .actors import Actor, user_of
from .errors import ApplicationError
from .events import event_record
from .models import PolicyVersion

PRESET_EFFECTIVE_FROM = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Policy:
    name: str
    version: int
    effective_from: dt.date
    document: dict[str, Any]
    _typed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getattr__(self, name: str) -> Any:
        """A section as its module's typed schema: ``policy.desk.idle_flag_minutes`` (issue 19)."""
        if name.startswith("_") or rulebook.section_schema(name) is None:
            raise AttributeError(name)
        typed = self._typed.get(name)
        if typed is None:
            typed = self._typed[name] = rulebook.typed_section(name, self.document.get(name) or {})
        return typed

    def ref(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "version": self.version}

    @property
    def title(self) -> str:
        """What people call it: the document's title (客服部管理制度), never its internal name."""
        return handbook.title_of(self.document, self.name)

    @property
    def is_preset_date(self) -> bool:
        """In force since "always" (the shipped preset): pages say so rather than show 1970-01-01."""
        return self.effective_from == PRESET_EFFECTIVE_FROM


def _preset() -> Policy:
    return Policy(handbook.PRESET_NAME, 1, PRESET_EFFECTIVE_FROM, handbook.load_preset())


# Versions are immutable and new ones rarely saved, so each process keeps what it read for a short while
# (hot paths such as the evaluate API read the policy on every request). Saving a version clears this
# process's copy at once; other processes see it within CACHE_SECONDS.
CACHE_SECONDS = 30.0
_cache: dict[dt.date, tuple[float, Policy]] = {}


def policy_cache_clear() -> None:
    _cache.clear()


def policy_in_force(on: dt.date | None = None) -> Policy:
    """The policy in force on ``on`` (today by default): newest effective_from ≤ on, then highest version."""
    on = on or clock.today()
    hit = _cache.get(on)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    row = PolicyVersion.objects.filter(effective_from__lte=on).order_by("-effective_from", "-version").first()
    policy = (
        _preset()
        if row is None
        else Policy(row.name, row.version, row.effective_from, handbook.with_defaults(row.document))
    )
    if len(_cache) > 512:
        _cache.clear()
    _cache[on] = (time.monotonic(), policy)
    return policy


def policy_versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.select_related("created_by").order_by("-version"))


@action(capability="policy.change")
def policy_save(*, actor: Actor, document: dict[str, Any], effective_from: dt.date, note: str = "") -> PolicyVersion:
    """Validate and save a new policy version. Problems are returned in the error's details."""
    problems = rulebook.policy_problems(document)
    if problems:
        raise ApplicationError("policy_invalid", _("The policy is not valid."), details=problems)
    if effective_from < clock.today() and PolicyVersion.objects.filter(effective_from__gt=effective_from).exists():
        # Allowed (back-dating), but never silently: the event says so.
        note = (note + " [back-dated]").strip()
    current = policy_in_force(effective_from)
    for attempt in range(3):
        try:
            with transaction.atomic():
                latest = PolicyVersion.objects.aggregate(m=Max("version"))["m"] or 1
                version = PolicyVersion.objects.create(
                    name=str(document.get("meta", {}).get("name") or handbook.PRESET_NAME)[:64],
                    version=latest + 1,
                    effective_from=effective_from,
                    document=document,
                    note=note[:300],
                    created_at=clock.now(),
                    created_by=user_of(actor),
                )
                changed = _changed_paths(current.document, document)
                transaction.on_commit(policy_cache_clear)
                policy_cache_clear()
                event_record(
                    actor=actor,
                    verb=Verb.POLICY_VERSION_SAVED,
                    subject=version,
                    before={"version": current.version},
                    after={"version": version.version, "effective_from": effective_from},
                    data={"changed": changed[:200], "note": note},
                )
                return version
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += _changed_paths(old.get(key), new.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    return [] if old == new else [prefix or "(document)"]
