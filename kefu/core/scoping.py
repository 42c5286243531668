"""R-ORG-2 in one place: what part of the organisation an actor may see.

Agents and team leads see the shops of their own team; supervisor and deputy see everything.
Models say how they hang off the organisation (``scope_shop_path`` / ``scope_team_path`` or a
``restrict_queryset`` hook); ``RestrictedQuerySet.restrict(user)`` applies it, and
``access_object`` fetches one object or answers 404 — never 403, so nothing leaks existence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.http import Http404

from .actors import Actor

ALL_POSITIONS = frozenset({"supervisor", "deputy"})

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Scope:
    all: bool
    team_ids: frozenset[int]
    shop_ids: frozenset[int]
    staff_id: int | None = None
    position: str | None = None
    name: str = ""  # the staff member's name, as the top bar shows it


NOTHING = Scope(all=False, team_ids=frozenset(), shop_ids=frozenset())
EVERYTHING = Scope(all=True, team_ids=frozenset(), shop_ids=frozenset())


class _Department:
    """The department as a whole, for scheduled jobs that read across every team (reads only: it is
    not a user, so it is never recorded as an event's actor)."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    pk = None
    _kefu_scope = EVERYTHING

    def get_username(self) -> str:
        return "system"


DEPARTMENT: Any = _Department()


def scope_for(user: Any) -> Scope:
    """The actor's scope, computed once per user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NOTHING
    cached = getattr(user, "_kefu_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    staff_model = apps.get_model("org", "Staff")
    # the person and their team's shops in one query (a row per shop; every page asks this first)
    rows = list(
        staff_model.objects.filter(user_id=user.pk, active=True).values_list(
            "id", "position", "team_id", "name", "team__shops"
        )
    )
    scope = scope_from_rows(user, rows)
    user._kefu_scope = scope
    return scope


def scope_from_rows(user: Any, rows: list[tuple[Any, ...]]) -> Scope:
    """The scope from the person's active staff record, one row per shop of their team: ``(staff id,
    position, team id, name, shop id or None)``; no rows when the user has no active record. Shared
    by ``scope_for`` and the sign-in backend that reads the user and these rows in one query."""
    none: frozenset[int] = frozenset()
    if not rows:
        return Scope(all=True, team_ids=none, shop_ids=none) if user.is_superuser else NOTHING
    staff_id, position, team_id, name, _shop = rows[0]
    everything = user.is_superuser or position in ALL_POSITIONS
    shop_ids = none
    if not everything and team_id is not None:
        shop_ids = frozenset(shop for *_staff, shop in rows if shop is not None)
    return Scope(
        all=everything,
        team_ids=frozenset({team_id}) if not everything and team_id is not None else none,
        shop_ids=shop_ids,
        staff_id=staff_id,
        position=None if user.is_superuser else position,
        name=name,
    )


def forget_scope(user: Any) -> None:
    if hasattr(user, "_kefu_scope"):
        del user._kefu_scope


READ, CHANGE, APPROVE = "read", "change", "approve"
ACTIONS = frozenset({READ, CHANGE, APPROVE})

# Positions whose scope is their own work, not their team's customers (issue 16 §2, docs/roles.md):
# a technician reaches the requests assigned to them and what those need, the warehouse contact the
# cases and orders waiting on the warehouse. For them a model is reached only through the work
# rules the apps register for it (``work_rule``), its ``scope_staff_path`` (their own rows), or
# ``work_scope = "team"`` (team data holding no customer's facts: shops, colleagues, the catalogue);
# anything else is nothing — a new model is closed to them until someone says otherwise.
WORK_POSITIONS = frozenset({"technician", "warehouse"})
WorkRule = Callable[[Scope, str], "Q | None"]
_WORK_RULES: dict[str, list[WorkRule]] = {}


def work_rule(model_label: str, rule: WorkRule) -> None:
    """Register what a work-scoped person reaches of ``model_label`` ("app.Model"): ``rule(scope,
    action)`` returns a Q on that model, or None for nothing. The model's rules are OR-ed."""
    _WORK_RULES.setdefault(model_label, []).append(rule)


def _work_restrict(qs: models.QuerySet[M], scope: Scope, action: str) -> models.QuerySet[M] | None:
    """The rows of ``qs`` a work-scoped person reaches, or None when the model is team data."""
    model = qs.model
    rules = _WORK_RULES.get(model._meta.label)
    if rules:
        found = [q for q in (rule(scope, action) for rule in rules) if q is not None]
        if not found:
            return qs.none()
        combined = found[0]
        for q in found[1:]:
            combined |= q
        return qs.filter(combined)
    staff_path = getattr(model, "scope_staff_path", None)
    if staff_path:
        return qs.filter(**{staff_path: scope.staff_id or 0})
    if getattr(model, "work_scope", None) == "team":
        return None
    return qs.none()


class RestrictedQuerySet(models.QuerySet[M]):
    def restrict(self, user: Any, action: str = READ) -> RestrictedQuerySet[M]:
        """The rows ``user`` may ``action`` (read / change / approve). Supervisors and the deputy
        reach everything; below them a model's ``restrict_queryset(qs, scope, action)`` hook
        decides (records that hang off a customer, a person or a technician's region), else its
        ``scope_team_path`` / ``scope_shop_path`` (the same rows for every action)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown scope action {action!r}")
        scope = scope_for(user)
        if scope.all:
            return self
        if scope is NOTHING:
            return self.none()
        model = self.model
        if scope.position in WORK_POSITIONS:
            narrowed = _work_restrict(self, scope, action)
            if narrowed is not None:
                return narrowed  # type: ignore[return-value]
        hook = getattr(model, "restrict_queryset", None)
        if hook is not None:
            return hook(self, scope, action)  # type: ignore[no-any-return]
        team_path = getattr(model, "scope_team_path", None)
        if team_path:
            return self.filter(**{f"{team_path}__in": scope.team_ids})
        shop_path = getattr(model, "scope_shop_path", None)
        if shop_path:
            return self.filter(**{f"{shop_path}__in": scope.shop_ids})
        raise TypeError(f"{model.__name__} does not say how it is scoped")


def access_object(user: Any, queryset: models.QuerySet[M], action: str = READ, **lookup: Any) -> M:
    """Fetch one object inside the actor's scope for ``action``, or raise Http404 (outside scope
    looks like absent)."""
    qs = queryset.restrict(user, action) if isinstance(queryset, RestrictedQuerySet) else queryset.none()
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404("not found") from exc


def ensure_in_scope(actor: Actor, obj: models.Model, action: str = CHANGE) -> None:
    """For services: refuse (as "not found") to act on an object outside the actor's scope."""
    from .errors import ApplicationError

    manager = obj.__class__._default_manager
    qs = manager.all()
    if not isinstance(qs, RestrictedQuerySet) or not qs.restrict(actor, action).filter(pk=obj.pk).exists():
        raise ApplicationError("not_found", "Not found", status=404)
