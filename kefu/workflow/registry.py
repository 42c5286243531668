"""What a module declares to run its records on the shared workflow core (ADR 0010).

A module builds one ``Workflow`` and registers it in its AppConfig.ready(). The core then gives it:
status labels over the module's fixed categories (edited by the supervisor on /workflow/), guarded
transitions, SLA timers with escalation, checklists, assignment with workload, and safe attachments.
Pure data and callables; no database access here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.functional import Promise


@dataclass(frozen=True)
class Workflow:
    key: str  # stable, stored on every status label: "aftersales.case"
    label: str | Promise  # what people call the records: "售后案件"
    model: str  # "app_label.Model", a subclass of workflow.models.WorkItem
    categories: type[models.TextChoices]  # fixed; code reads only these
    transitions: dict[str, frozenset[str]]  # category → categories it may move to
    default_labels: tuple[tuple[str, str, bool], ...]  # (name, category, default for its category)
    initial: str  # the category a new record starts in
    done: frozenset[str]  # categories that count as finished: no SLA, no workload
    closed: str | None = None  # the category that stamps closed_at
    event_prefix: str = ""  # timeline verbs: "<prefix>.status_changed"; defaults to the model name
    assignee_field: str = "owner"
    deadline_fields: tuple[str, ...] = ("sla_due_at",)  # any of them passing escalates / breaches
    # deadline field → the field that, once set, means it was met (a technician on site meets the
    # on-site commitment: the sweep never flags a record whose deadline was met in time)
    deadline_met_by: dict[str, str] = field(default_factory=dict)
    sla_hours: Callable[[Any], int | None] | None = None  # hours from opening for a new record
    escalate_before_hours: Callable[[], int] = lambda: 0
    checklist: Callable[[Any], Iterable[tuple[str, Any]]] = lambda item: ()
    # category → check(item) run before entering that category; it refuses with an ApplicationError
    guards: dict[str, Callable[[Any], None]] = field(default_factory=dict)
    attachment_model: str | None = None  # "app_label.Model", a subclass of workflow.models.Attachment
    attachment_fk: str = "item"  # the attachment's foreign key to the record
    attachment_kinds: tuple[tuple[str, Any], ...] = ()
    # who may move, assign and attach to its records when the core is called directly (a module's
    # own actions check theirs): a capability the module declares in its rules.py
    capability: str = ""

    @property
    def prefix(self) -> str:
        return self.event_prefix or self.model.split(".")[-1].lower()

    def model_class(self) -> type[Any]:
        return apps.get_model(self.model)

    def attachment_class(self) -> type[Any]:
        if not self.attachment_model:
            raise LookupError(f"{self.key} declares no attachments")
        return apps.get_model(self.attachment_model)

    def can_enter(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def active_categories(self) -> list[str]:
        return [c for c in self.categories.values if c not in self.done]

    def category_label(self, category: str) -> str:
        try:
            return str(self.categories(category).label)
        except ValueError:
            return category


_REGISTRY: dict[str, Workflow] = {}


def register(flow: Workflow) -> Workflow:
    """Called from an AppConfig.ready(); registering the same key twice keeps the first."""
    missing = {category for _name, category, _default in flow.default_labels} ^ set(flow.categories.values)
    if missing:
        raise ValueError(f"{flow.key}: default labels must cover every category exactly ({missing})")
    _REGISTRY.setdefault(flow.key, flow)
    return _REGISTRY[flow.key]


def get(key: str) -> Workflow:
    return _REGISTRY[key]


def all_workflows() -> list[Workflow]:
    return list(_REGISTRY.values())


def of(item: Any) -> Workflow:
    """The workflow of a record (its class names it)."""
    return _REGISTRY[type(item).workflow_key]
