"""Reads of the shared workflow core: labels (admin data, not scoped) and workload (scoped)."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db.models import Count
from django.http import Http404

from kefu.core.remembered import ProcessMemory

from . import registry
from .models import StatusLabel
from .registry import Workflow

# A workflow's labels, read by every list that filters by category (its indexed column holds the
# label), by a record's page for its status buttons and by every new record for its first label:
# remembered by the process (kefu.core.remembered), one list per workflow, forgotten on any save or
# delete of a label.
LABEL_IDS = ProcessMemory("status labels by workflow")


class LabelRow(NamedTuple):
    pk: int
    workflow: str
    name: str
    category: str
    position: int
    default_for_category: bool


def label_rows(flow: Workflow) -> list[LabelRow]:
    """The workflow's labels in their order (position, then id), as plain values."""
    return LABEL_IDS.get(
        flow.key,
        lambda: [
            LabelRow(*row)
            for row in StatusLabel.objects.filter(workflow=flow.key)
            .order_by("position", "pk")
            .values_list("pk", *LabelRow._fields[1:])
        ],
    )


def label_ids(flow: Workflow, *categories: str) -> list[int]:
    """The ids of this workflow's labels in ``categories`` (a list filters its records by them)."""
    unknown = set(categories) - set(flow.categories.values)
    if unknown:
        raise ValueError(f"{flow.key} has no categories {sorted(unknown)}")  # a caller checks what users send
    return [row.pk for row in label_rows(flow) if row.category in categories]


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


def transition_choices(item: Any) -> list[LabelRow]:
    """The labels a record may move to now (by category rules; guards are checked on the move), from
    the workflow's remembered labels."""
    flow = registry.of(item)
    return [row for row in label_rows(flow) if row.pk != item.status_id and flow.can_enter(item.category, row.category)]


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
