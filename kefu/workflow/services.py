"""Writes of the shared workflow core: transitions, assignment, checklists, attachments, deadline
sweeps and the supervisor's edits of status labels. Each is one action (capability, scope, one
transaction with its timeline event)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import OPERATOR, WORKFLOW, action, inside_another_action, is_operator, require
from kefu.core.actors import Actor, user_of
from kefu.core.bulk import update_rows
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record, event_record_bulk
from kefu.workflow.rules import Verb

from . import attachments, registry, selectors
from .models import StatusLabel
from .registry import Workflow

# --- status labels ------------------------------------------------------------------------------


def labels_ensure(flow: Workflow) -> None:
    """Every category needs at least one label: recreate the defaults of any category left without."""
    present = set(StatusLabel.objects.filter(workflow=flow.key).values_list("category", flat=True))
    for position, (name, category, default) in enumerate(flow.default_labels):
        if category not in present:
            StatusLabel.objects.get_or_create(
                workflow=flow.key,
                name=name,
                defaults={"category": category, "position": position, "default_for_category": default},
            )


def default_label(flow: Workflow, category: str) -> StatusLabel:
    """The category's default label (the first by position where none is marked): every new record
    asks, so it comes from the workflow's remembered labels (``selectors.label_rows``) as a fresh
    instance each time."""
    from .selectors import LabelRow, label_rows

    def first() -> StatusLabel | None:
        rows = [row for row in label_rows(flow) if row.category == category]
        if not rows:
            return None
        row = next((r for r in rows if r.default_for_category), rows[0])  # rows are in position order
        return StatusLabel.from_db("default", ["id", *LabelRow._fields[1:]], list(row))

    label = first()
    if label is None:
        labels_ensure(flow)
        label = first()
    if label is None:
        raise ApplicationError("no_status", _("No status label for this category."))
    return label


def _check_label(flow: Workflow, name: str, category: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise ApplicationError("label_name", _("A status label needs a name of at most 40 characters."))
    if category not in flow.categories.values:
        raise ApplicationError("label_category", _("Choose one of the categories."))
    return name


@action(capability="workflow.configure")
def label_create(*, actor: Actor, workflow: str, name: str, category: str) -> StatusLabel:
    flow = registry.get(workflow)
    name = _check_label(flow, name, category)
    if StatusLabel.objects.filter(workflow=flow.key, name=name).exists():
        raise ApplicationError("label_exists", _("A status label with this name exists already."), status=409)
    position = StatusLabel.objects.filter(workflow=flow.key).count()
    label = StatusLabel.objects.create(workflow=flow.key, name=name, category=category, position=position)
    event_record(actor=actor, verb=Verb.STATUS_LABEL_CREATED, subject=label, after={"name": name, "category": category})
    return label


@action(capability="workflow.configure")
def label_update(
    *, actor: Actor, label: StatusLabel, name: str, category: str, position: int, default_for_category: bool
) -> StatusLabel:
    """Rename, recategorise or reorder a label. Records in it follow (their category is the label's);
    a category may never be left without a label."""
    flow = registry.get(label.workflow)
    name = _check_label(flow, name, category)
    if StatusLabel.objects.filter(workflow=flow.key, name=name).exclude(pk=label.pk).exists():
        raise ApplicationError("label_exists", _("A status label with this name exists already."), status=409)
    if (
        category != label.category
        and not StatusLabel.objects.filter(workflow=flow.key, category=label.category).exclude(pk=label.pk).exists()
    ):
        raise ApplicationError("label_last", _("This is the last label of its category; add another one first."))
    before = {"name": label.name, "category": label.category, "position": label.position}
    if default_for_category:
        StatusLabel.objects.filter(workflow=flow.key, category=category).update(default_for_category=False)
    label.name, label.category = name, category
    label.position, label.default_for_category = max(0, min(int(position), 999)), default_for_category
    label.save()
    event_record(
        actor=actor,
        verb=Verb.STATUS_LABEL_CHANGED,
        subject=label,
        before=before,
        after={"name": name, "category": category, "position": label.position},
    )
    return label


@action(capability="workflow.configure")
def label_delete(*, actor: Actor, label: StatusLabel) -> None:
    flow = registry.get(label.workflow)
    if flow.model_class().objects.filter(status=label).exists():
        raise ApplicationError("label_in_use", _("Records carry this label; move them to another label first."))
    if not StatusLabel.objects.filter(workflow=flow.key, category=label.category).exclude(pk=label.pk).exists():
        raise ApplicationError("label_last", _("This is the last label of its category; add another one first."))
    event_record(actor=actor, verb=Verb.STATUS_LABEL_DELETED, subject=label, before={"name": label.name})
    label.delete()


# --- the records ---------------------------------------------------------------------------------


def can_transition(item: Any, label: StatusLabel) -> bool:
    """Whether ``item`` may move to ``label`` by its category rules (guards aside)."""
    flow = registry.of(item)
    return label.workflow == flow.key and label.pk != item.status_id and flow.can_enter(item.category, label.category)


def open_fields(flow: Workflow, now: dt.datetime) -> dict[str, Any]:
    """The fields a new record of ``flow`` starts with: its initial label, times and SLA."""
    hours = flow.sla_hours(None) if flow.sla_hours else None
    return {
        "status": default_label(flow, flow.initial),
        "opened_at": now,
        "updated_at": now,
        "sla_due_at": now + dt.timedelta(hours=hours) if hours else None,
    }


def _may_work(actor: Actor, flow: Workflow) -> None:
    """Called directly (not as a step of a module's action), the workflow's own capability decides."""
    if not inside_another_action() and not is_operator(actor):
        require(actor, flow.capability or "org.manage")


@action(capability=WORKFLOW, scope=("item",))
def transition(*, actor: Actor, item: Any, label: StatusLabel, note: str = "") -> Any:
    """Move a record to another label: the categories decide what is allowed, the module's guards
    may refuse, and a concurrent change is a 409 (conditional UPDATE on the label seen)."""
    flow = registry.of(item)
    _may_work(actor, flow)
    current = item.status
    if label.workflow != flow.key or not flow.can_enter(current.category, label.category):
        raise ApplicationError(
            "transition",
            _("Cannot move from “%(from)s” to “%(to)s”.") % {"from": current.name, "to": label.name},
        )
    guard = flow.guards.get(label.category)
    if guard is not None:
        guard(item)  # the module's own rule, with its own error code
    now = clock.now()
    model = type(item)
    updated = model.objects.filter(pk=item.pk, status_id=current.pk).update(
        status=label, updated_at=now, closed_at=now if label.category == flow.closed else None
    )
    if not updated:
        raise ApplicationError("changed", _("The record changed meanwhile; reload the page."), status=409)
    reopened = label.category not in flow.done and current.category in flow.done
    event_record(
        actor=actor,
        verb=f"{flow.prefix}.reopened" if reopened else f"{flow.prefix}.status_changed",
        subject=item,
        before={"status": current.name},
        after={"status": label.name, "category": label.category},
        data={"note": note[:300]},
    )
    item.refresh_from_db()
    return item


def _shown(value: Any) -> Any:
    """What the timeline keeps of a field's value: a person's or team's name, else the value."""
    return getattr(value, "name", value) if isinstance(value, models.Model) else value


@action(capability=WORKFLOW, scope=("item", "assignee"))
def assign(
    *,
    actor: Actor,
    item: Any,
    assignee: Any,
    also: Mapping[str, Any] | None = None,
    verb: str = "",
    data: Mapping[str, Any] | None = None,
    shown: Mapping[str, Any] | None = None,
) -> Any:
    """Give a record to a person, or to nobody (``None``), with the fields that go with it (a
    conversation's team) in the same UPDATE and one event; ``verb`` names the event when the
    module has a word of its own for it (a conversation is *transferred*), ``shown`` adds to what
    its history shows (the text the customer was sent)."""
    flow = registry.of(item)
    _may_work(actor, flow)
    values = {flow.assignee_field: assignee, **(also or {})}
    before = {name: _shown(getattr(item, name)) for name in values}
    type(item).objects.filter(pk=item.pk).update(**values, updated_at=clock.now())
    for name, value in values.items():
        setattr(item, name, value)
    event_record(
        actor=actor,
        verb=verb or f"{flow.prefix}.assigned",
        subject=item,
        before=before,
        after={**{name: _shown(value) for name, value in values.items()}, **(shown or {})},
        data=data,
    )
    return item


@action(capability=WORKFLOW, scope=("item", "assignee"))
def claim(*, actor: Actor, item: Any, assignee: Any) -> bool:
    """Give a record to ``assignee`` only if nobody has it yet (an agent's first reply to an unowned
    conversation): a conditional UPDATE, so of two claims at the same moment one wins and the other
    changes nothing. Returns whether this one won."""
    flow = registry.of(item)
    _may_work(actor, flow)
    field = flow.assignee_field
    won = (
        type(item)
        .objects.filter(pk=item.pk, **{f"{field}__isnull": True})
        .update(**{field: assignee, "updated_at": clock.now()})
    )
    if won:
        setattr(item, field, assignee)
        event_record(actor=actor, verb=f"{flow.prefix}.assigned", subject=item, after={field: _shown(assignee)})
    return bool(won)


Assignment = tuple[Any, Any, Mapping[str, Any], Mapping[str, Any]]  # item, assignee, fields with it, event data


@action(capability=WORKFLOW)
def assign_many(*, actor: Actor, flow: Workflow, assignments: Sequence[Assignment], verb: str = "") -> int:
    """Many records to their people at once (the desk routes a batch of arrivals): ``(item,
    assignee, fields that go with it, data for its event)`` each, every one with the same fields, in
    one UPDATE and one insert of events. The caller holds the records (row locks or a fresh
    insert) and decided each in its scope."""
    _may_work(actor, flow)
    if not assignments:
        return 0
    model = flow.model_class()
    names = [flow.assignee_field, *assignments[0][2]]
    fields = {f.name: f for f in model._meta.concrete_fields}
    columns = [fields[name].attname for name in names] + ["updated_at"]
    now = clock.now()
    rows, events = [], []
    for item, assignee, also, data in assignments:
        values = {flow.assignee_field: assignee, **also}
        before = {name: _shown(getattr(item, name)) for name in names}
        for name in names:
            setattr(item, name, values[name])
        values_in_order = (getattr(values[n], "pk", None) if fields[n].is_relation else values[n] for n in names)
        rows.append((item.pk, *values_in_order, now))
        events.append((item.pk, str(item), before, {n: _shown(values[n]) for n in names}, dict(data)))
    update_rows(model, columns, rows)
    event_record_bulk(actor=actor, verb=verb or f"{flow.prefix}.assigned", model=model, entries=events)
    return len(rows)


@action(capability=WORKFLOW)
def statuses_follow(*, actor: Actor, flow: Workflow, moves: Sequence[tuple[Any, str]]) -> list[Any]:
    """Records whose status follows their data, not a click (a conversation waits when the buyer
    writes and is answered when an agent replies): each ``(item, category)`` moves to the default
    label of that category when the workflow's categories allow it, all in one UPDATE. Leaving a
    finished category is a reopening and lands on the timeline; the other moves are the data's own
    events (the messages). The caller holds the rows (a row lock). Returns the items that moved."""
    _may_work(actor, flow)
    labels = selectors.default_labels(flow)
    now = clock.now()
    moved: list[Any] = []
    rows: list[tuple[Any, ...]] = []
    reopened: list[tuple[Any, ...]] = []
    for item, category in moves:
        current = item.status
        if category == current.category or not flow.can_enter(current.category, category):
            continue
        item.status = labels[category]
        item.closed_at = now if category == flow.closed else None
        item.updated_at = now
        moved.append(item)
        rows.append((item.pk, item.status.pk, item.closed_at, now))
        if current.category in flow.done and category not in flow.done:
            after = {"status": item.status.name, "category": category}
            reopened.append((item.pk, str(item), {"status": current.name}, after, {}))
    model = flow.model_class()
    update_rows(model, ["status_id", "closed_at", "updated_at"], rows)
    event_record_bulk(actor=actor, verb=f"{flow.prefix}.reopened", model=model, entries=reopened)
    return moved


@action(capability=WORKFLOW, scope=("item",))
def checklist_toggle(*, actor: Actor, item: Any, code: str, done: bool) -> Any:
    flow = registry.of(item)
    _may_work(actor, flow)
    if code not in dict(flow.checklist(item)):
        raise ApplicationError("checklist_step", _("This step is not on the checklist."))
    # Read the ticks under a row lock: two people ticking two steps at once keep both (a read,
    # edit, write of the JSON without the lock loses one).
    fresh = type(item).objects.select_for_update().filter(pk=item.pk).values_list("checklist", flat=True).first()
    state = dict(fresh or {})
    if done:
        user = user_of(actor)
        state[code] = {"by": user.get_username() if user else "system", "at": clock.now().isoformat()}
    else:
        state.pop(code, None)
    type(item).objects.filter(pk=item.pk).update(checklist=state, updated_at=clock.now())
    item.checklist = state
    event_record(
        actor=actor,
        verb=f"{flow.prefix}.step_done" if done else f"{flow.prefix}.step_undone",
        subject=item,
        after={"step": code},
    )
    return item


@action(capability=WORKFLOW, scope=("item",))
def attach(*, actor: Actor, item: Any, kind: str, name: str, data: bytes, note: str = "") -> Any:
    """Store one file on a record: type checked by content, size limited, a generated name. The row
    and its event come first; the file is written last in the same action, so a file never exists
    without its row."""
    flow = registry.of(item)
    _may_work(actor, flow)
    model = flow.attachment_class()
    content_type, ext = attachments.check(data, name)
    if kind not in dict(flow.attachment_kinds):
        raise ApplicationError("attachment_kind", _("Choose what kind of file this is."))
    digest = hashlib.sha256(data).hexdigest()
    row = model(
        kind=kind,
        original_name=Path(name).name[:200],
        content_type=content_type,
        size=len(data),
        sha256=digest,
        note=note[:300],
        uploaded_by=user_of(actor),
        uploaded_at=clock.now(),
        **{flow.attachment_fk: item},
    )
    storage = row.file.storage
    row.file.name = storage.generate_filename(row.file.field.generate_filename(row, f"{item.pk}-{digest[:16]}{ext}"))
    row.save()
    event_record(
        actor=actor,
        verb=f"{flow.prefix}.evidence_added",
        subject=item,
        after={"kind": kind, "name": row.original_name, "size": len(data), "sha256": digest},
    )
    saved = storage.save(row.file.name, ContentFile(data))
    if saved != row.file.name:  # the storage chose another name: keep the row in step
        model.objects.filter(pk=row.pk).update(file=saved)
        row.file.name = saved
    return row


# --- deadlines -----------------------------------------------------------------------------------


def deadlines_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """For every registered workflow: escalate active records whose deadline falls within the
    warning window, flag those past it. Each flag is set once (conditional UPDATE) with its event."""
    now = now or clock.now()
    escalated = breached = 0
    for flow in registry.all_workflows():
        model = flow.model_class()
        active = model.objects.exclude(status__category__in=flow.done)
        soon = now + dt.timedelta(hours=flow.escalate_before_hours())
        for fieldname in flow.deadline_fields:
            met_by = flow.deadline_met_by.get(fieldname)
            open_ = active.filter(**{f"{met_by}__isnull": True}) if met_by else active
            for item in open_.filter(escalated_at__isnull=True, **{f"{fieldname}__lte": soon}):
                escalated += _flag(
                    actor=None, item=item, field="escalated_at", value=now, verb=f"{flow.prefix}.escalated"
                )
            # past the deadline and not met, or met only after it
            late = Q(**{f"{met_by}__isnull": True}) | Q(**{f"{met_by}__gt": F(fieldname)}) if met_by else Q()
            for item in active.filter(late, breached=False, **{f"{fieldname}__lt": now}):
                breached += _flag(
                    actor=None, item=item, field="breached", value=True, verb=f"{flow.prefix}.deadline_breached"
                )
    return {"escalated": escalated, "breached": breached}


@action(capability=OPERATOR)
def _flag(*, actor: Actor, item: Any, field: str, value: Any, verb: str) -> int:
    unset = {f"{field}__isnull": True} if field == "escalated_at" else {field: False}
    if not type(item).objects.filter(pk=item.pk, **unset).update(**{field: value}):
        return 0
    deadlines = {name: getattr(item, name) for name in registry.of(item).deadline_fields}
    event_record(actor=actor, verb=verb, subject=item, after=deadlines)
    return 1
