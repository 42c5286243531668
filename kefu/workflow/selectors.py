"""Reads of the shared workflow core: labels (admin data, not scoped) and workload (scoped)."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db.models import Count
from django.http import Http404

from kefu.core.remembered import ProcessMemory

from . import registry
from .models import StatusLabel
from .registry import Workflow

# The labels of a category, asked by every list that filters by category (its indexed column holds the
# label), and a workflow's labels as a record's page offers them: remembered by the process
# (kefu.core.remembered), forgotten on any save or delete of a label.
LABEL_IDS = ProcessMemory("status labels by category")


def label_ids(flow: Workflow, *categories: str) -> list[int]:
    """The ids of this workflow's labels in ``categories`` (a list filters its records by them)."""
    unknown = set(categories) - set(flow.categories.values)
    if unknown:
        raise ValueError(f"{flow.key} has no categories {sorted(unknown)}")  # a caller checks what users send
    key = (flow.key, frozenset(categories))
    return LABEL_IDS.get(
        key,
        lambda: list(
            StatusLabel.objects.filter(workflow=flow.key, category__in=categories).values_list("pk", flat=True)
        ),
    )


def in_categories(qs: Any, flow: Workflow, *categories: str) -> Any:
    """``qs`` (records of ``flow``) narrowed to the labels of ``categories``, through the indexed
    status column rather than a join; a category the workflow does not have (a made-up filter)
    matches nothing and is never remembered."""
    if not set(categories) <= set(flow.categories.values):
        return qs.none()
    return qs.filter(status_id__in=label_ids(flow, *categories))


def labels(flow: Workflow) -> list[StatusLabel]:
    return list(StatusLabel.objects.filter(workflow=flow.key).order_by("position", "pk"))


def default_labels(flow: Workflow) -> dict[str, StatusLabel]:
    """Each category's default label (the first by position where none is marked), in one query;
    a category left without a label gets the workflow's defaults back."""
    found: dict[str, StatusLabel] = {}
    for label in StatusLabel.objects.filter(workflow=flow.key).order_by("-default_for_category", "position", "pk"):
        found.setdefault(label.category, label)
    if len(found) < len(flow.categories.values):
        from .services import default_label

        return {category: default_label(flow, category) for category in flow.categories.values}
    return found


def label_by_id(flow: Workflow, label_id: Any) -> StatusLabel:
    """A label of this workflow by id, or 404 (another workflow's label is as absent)."""
    label = StatusLabel.objects.filter(workflow=flow.key, pk=label_id if isinstance(label_id, int) else 0).first()
    if label is None:
        raise Http404("no such status")
    return label


def label_named(flow: Workflow, name: str) -> StatusLabel | None:
    """A label by its name, or the default label of a category named instead."""
    qs = StatusLabel.objects.filter(workflow=flow.key)
    return (
        qs.filter(name=name).first()
        or qs.filter(category=name).order_by("-default_for_category", "position", "pk").first()
    )


class Choice(NamedTuple):
    pk: int
    name: str
    category: str


def transition_choices(item: Any) -> list[Choice]:
    """The labels a record may move to now (by category rules; guards are checked on the move), as
    plain values: a workflow's labels are remembered by the process (``LABEL_IDS``'s memory, forgotten
    on any change to a label) — every case page asked for them."""
    flow = registry.of(item)
    every = LABEL_IDS.get(
        (flow.key, "choices"),
        lambda: [
            Choice(*row)
            for row in StatusLabel.objects.filter(workflow=flow.key)
            .order_by("position", "pk")
            .values_list("pk", "name", "category")
        ],
    )
    return [c for c in every if c.pk != item.status_id and flow.can_enter(item.category, c.category)]


def workload(flow: Workflow, staff_ids: list[int]) -> dict[int, int]:
    """Active records per assignee: what the assignment picker shows beside each name."""
    model = flow.model_class()
    rows = (
        model.objects.filter(**{f"{flow.assignee_field}_id__in": staff_ids})
        .exclude(status__category__in=flow.done)
        .values(f"{flow.assignee_field}_id")
        .annotate(n=Count("id"))
    )
    return {row[f"{flow.assignee_field}_id"]: row["n"] for row in rows}


def checklist(item: Any) -> list[tuple[str, Any, Any]]:
    """(code, label, done-state or None) for each step of the record's checklist."""
    return [(code, label, item.checklist.get(code)) for code, label in registry.of(item).checklist(item)]
