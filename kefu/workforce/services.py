"""Writes for the workforce: roster, punches and make-ups, requests, red packets, points, imports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import OPERATOR, OWN, action, is_operator, require
from kefu.core.actors import Actor, user_of
from kefu.core.bulk import bulk_insert
from kefu.core.errors import ApplicationError, PermissionDenied
from kefu.core.events import event_record
from kefu.core.imports import ImportSummary, check_upload, import_run
from kefu.core.ledger import create_once, keyed_row
from kefu.core.policy_store import policy_in_force
from kefu.core.scoping import APPROVE, ensure_in_scope
from kefu.imports.dingtalk import ParsedAttendance, parse_attendance
from kefu.imports.tabular import FileFormatError
from kefu.org.models import Staff
from kefu.org.permissions import has_capability
from kefu.org.selectors import staff_of
from kefu.policies import attendance as rules
from kefu.policies.i18n import days as days_phrase
from kefu.workforce.rules import Verb

from .models import (
    DayHalf,
    LeaveRequest,
    PointEntry,
    Punch,
    PunchKind,
    PunchSource,
    RedPacket,
    RedPacketEntry,
    RequestKind,
    RequestStatus,
    RosterEntry,
    TeamInspection,
)

_require = require
_in_scope = ensure_in_scope


# --- roster ---------------------------------------------------------------------------------------


@action(capability="roster.edit")
def roster_set(*, actor: Actor, staff: Staff, date: dt.date, shift_code: str | None, source: str = "manual") -> None:
    """Assign a shift (policy shift code) or a rest day (None) to one staff member on one date."""
    if source == "manual":
        _require(actor, "roster.edit")
        _in_scope(actor, staff)
    code = shift_code or ""
    if code and code not in rules.shift_types(policy_in_force(date).document):
        raise ApplicationError("unknown_shift", _("Unknown shift: %(value)s") % {"value": str(code)[:20]})
    entry = RosterEntry.objects.filter(staff=staff, date=date).first()
    if entry is not None and entry.shift_code == code:
        return
    before = {"shift": entry.shift_code if entry else None}
    RosterEntry.objects.update_or_create(staff=staff, date=date, defaults={"shift_code": code, "source": source})
    event_record(
        actor=actor,
        verb=Verb.ROSTER_SET,
        subject=staff,
        before=before,
        after={"shift": code or "rest"},
        data={"date": date},
    )


@action(capability=OPERATOR)
def roster_end(*, actor: Actor, staff: Staff, after: dt.date) -> None:
    """R-WF-18: a leaving date ends the person's roster after it."""
    leave_date = after
    removed = RosterEntry.objects.filter(staff=staff, date__gt=leave_date)
    days = sorted(str(d) for d in removed.values_list("date", flat=True))
    if days:
        removed.delete()
        event_record(actor=actor, verb=Verb.ROSTER_ENDED, subject=staff, data={"after": leave_date, "days": days})


@action(capability="roster.edit", scope=("staff",))
def roster_clear(*, actor: Actor, staff: Staff, date: dt.date) -> None:
    """Take a date back to "not scheduled" (no shift and no rest day)."""
    entry = RosterEntry.objects.filter(staff=staff, date=date).first()
    if entry is None:
        return
    entry.delete()
    event_record(
        actor=actor,
        verb=Verb.ROSTER_SET,
        subject=staff,
        before={"shift": entry.shift_code or "rest"},
        after={"shift": None},
        data={"date": date},
    )


@action(capability="roster.edit")
def roster_copy_week(*, actor: Actor, staff_ids: list[int], from_monday: dt.date, to_monday: dt.date) -> int:
    """Copy a week's roster (Mon–Sun) of the given staff onto another week; returns entries written."""
    _require(actor, "roster.edit")
    if from_monday.weekday() != 0 or to_monday.weekday() != 0:
        raise ApplicationError("not_monday", _("Choose a Monday: weeks start on Monday."))
    staff = {s.pk: s for s in Staff.objects.restrict(actor).filter(pk__in=staff_ids)}
    source = RosterEntry.objects.filter(
        staff_id__in=list(staff), date__gte=from_monday, date__lt=from_monday + dt.timedelta(days=7)
    )
    written = 0
    for entry in source:
        target = entry.date + (to_monday - from_monday)
        roster_set(actor=actor, staff=staff[entry.staff_id], date=target, shift_code=entry.shift_code or None)
        written += 1
    return written


# --- punches and make-ups -----------------------------------------------------------------------


@action(capability="attendance.import")
def punch_record(
    *,
    actor: Actor,
    staff: Staff,
    at: dt.datetime,
    kind: str = PunchKind.UNKNOWN,
    source: str = PunchSource.API,
    note: str = "",
    certified_by: Staff | None = None,
) -> tuple[Punch, bool]:
    """Store a punch once (the same punch twice is stored once). Returns (punch, created)."""
    try:
        at = clock.make_aware(at).replace(microsecond=0)
    except ValueError as exc:
        raise ApplicationError("punch_time", str(exc)) from exc
    existing = Punch.objects.filter(staff=staff, at=at, kind=kind, source=source).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            punch = Punch.objects.create(
                staff=staff, at=at, kind=kind, source=source, note=note[:200], certified_by=certified_by
            )
    except IntegrityError:
        return Punch.objects.get(staff=staff, at=at, kind=kind, source=source), False
    event_record(actor=actor, verb=Verb.PUNCH_RECORDED, subject=staff, after={"at": at, "kind": kind, "source": source})
    return punch, True


MAKEUP_REACH = dt.timedelta(hours=6)  # a real punch this near a make-up is the same shift's


@action(capability="attendance.certify", scope=("staff",))
def makeup_certify(*, actor: Actor, staff: Staff, at: dt.datetime, kind: str, note: str = "") -> Punch:
    """R-WF-6: a supervisor certifies a make-up punch and is recorded as responsible."""
    if kind not in {PunchKind.ON, PunchKind.OFF}:
        raise ApplicationError("makeup_kind", _("A make-up is either on duty or off duty."))
    # R-WF-24: a make-up fills only a missing punch — a real one of that kind near it is graded instead
    if at.tzinfo is None:
        at = at.replace(tzinfo=clock.local_tz())
    if at > clock.now():
        raise ApplicationError(
            "makeup_future", _("A make-up certifies a punch that was missed, not one still to come.")
        )
    real = (
        Punch.objects.filter(staff=staff, kind=kind, at__gte=at - MAKEUP_REACH, at__lte=at + MAKEUP_REACH)
        .exclude(source=PunchSource.MAKEUP)
        .order_by("at")
        .first()
    )
    if real is not None:
        raise ApplicationError(
            "makeup_not_missing",
            _("There is a real punch at %(time)s: a make-up fills only a missing punch (R-WF-24).")
            % {"time": clock.local_text(real.at)},
        )
    certifier = staff_of(actor)
    punch, _created = punch_record(
        actor=actor, staff=staff, at=at, kind=kind, source=PunchSource.MAKEUP, note=note, certified_by=certifier
    )
    event_record(
        actor=actor,
        verb=Verb.PUNCH_MAKEUP_CERTIFIED,
        subject=staff,
        after={"at": punch.at, "kind": kind, "certified_by": certifier.name if certifier else ""},
    )
    return punch


# --- requests (R-WF-8 … R-WF-11) -------------------------------------------------------------------

MAX_REQUEST_DAYS = 366  # one request covers at most a year; a longer absence is a new request


@action(capability=OWN, scope=("staff",))
def request_create(
    *,
    actor: Actor,
    staff: Staff,
    kind: str,
    start_date: dt.date,
    end_date: dt.date,
    half_day: bool = False,
    reason: str = "",
    emergency: bool = False,
    submit: bool = True,
    half: str = "",
) -> LeaveRequest:
    """Create (and by default submit) a rest or leave request for oneself, or — for a lead — a team
    member. A half day names its half (R-WF-22); a day already held by another request (not
    rejected) is refused with that request named (R-WF-23)."""
    own = staff_of(actor)
    if own is None or (own.pk != staff.pk and not has_capability(actor, "statement.view_team")):
        raise PermissionDenied()
    _in_scope(actor, staff)
    if kind not in RequestKind.values:
        raise ApplicationError("request_kind", _("Unknown kind of request: %(value)s") % {"value": kind[:20]})
    if end_date < start_date or (half_day and end_date != start_date):
        raise ApplicationError("request_dates", _("The end date is before the start date (a half day is one day)."))
    if (end_date - start_date).days >= MAX_REQUEST_DAYS:
        raise ApplicationError("request_dates", _("One request covers at most a year."))
    if half not in {"", *DayHalf.values} or (half and not half_day):
        raise ApplicationError("request_dates", _("Say which half of the shift a half day takes (first or second)."))
    _refuse_overlap(staff, start_date, end_date, half if half_day else "")
    # One action: a request refused on submission leaves nothing behind.
    request = LeaveRequest.objects.create(
        staff=staff,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        half_day=half_day,
        half=half if half_day else "",
        reason=reason[:300],
        emergency=emergency,
    )
    event_record(
        actor=actor,
        verb=Verb.REQUEST_CREATED,
        subject=request,
        after={"kind": kind, "from": start_date, "to": end_date, "emergency": emergency},
    )
    if submit:
        request_submit(actor=actor, request=request)
    return request


def _refuse_overlap(staff: Staff, start: dt.date, end: dt.date, half: str) -> None:
    """R-WF-23: one day, one status. Two half days of the same date may stand only when both name
    their halves and they differ. The staff row is locked so two tabs cannot both pass the check."""
    Staff.objects.select_for_update().filter(pk=staff.pk).first()
    for other in LeaveRequest.objects.filter(staff=staff, start_date__lte=end, end_date__gte=start).exclude(
        status=RequestStatus.REJECTED
    ):
        if half and other.half_day and other.half and other.half != half:
            continue
        raise ApplicationError(
            "request_overlap",
            _(
                "%(from)s … %(to)s already has a request (%(kind)s, %(other_from)s … %(other_to)s, "
                "%(status)s): one day holds one status."
            )
            % {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "kind": other.get_kind_display(),
                "other_from": other.start_date.isoformat(),
                "other_to": other.end_date.isoformat(),
                "status": other.get_status_display(),
            },
        )


@action(capability=OWN, scope=("request",))
def request_submit(*, actor: Actor, request: LeaveRequest) -> LeaveRequest:
    own = staff_of(actor)
    if own is None or (own.pk != request.staff_id and not has_capability(actor, "statement.view_team")):
        raise PermissionDenied()
    if request.status != RequestStatus.DRAFT:
        raise ApplicationError("request_state", _("Only a draft can be submitted."))
    leave = policy_in_force(request.start_date).leave
    notice = leave.rest_notice_days if request.kind == RequestKind.REST else leave.leave_notice_days
    today = clock.today()
    late = today > request.start_date - dt.timedelta(days=notice)
    if late and not request.emergency:
        rule = "R-WF-8" if request.kind == RequestKind.REST else "R-WF-9"
        raise ApplicationError(
            "request_too_late",
            _("Request at least %(span)s ahead (%(rule)s); in an emergency tick “emergency” and explain.")
            % {"span": days_phrase(notice), "rule": rule},
        )
    if not LeaveRequest.objects.filter(pk=request.pk, status=RequestStatus.DRAFT).update(
        status=RequestStatus.SUBMITTED, submitted_at=clock.now(), late_submission=late
    ):
        raise ApplicationError("request_state", _("Only a draft can be submitted."), status=409)
    request.refresh_from_db()
    event_record(
        actor=actor,
        verb=Verb.REQUEST_SUBMITTED,
        subject=request,
        before={"status": "draft"},
        after={"status": "submitted", "late_submission": late},
    )
    return request


def _decide(actor: Actor, request: LeaveRequest, status: str, comment: str) -> LeaveRequest:
    updated = LeaveRequest.objects.filter(pk=request.pk, status=RequestStatus.SUBMITTED).update(
        status=status, decided_by=user_of(actor), decided_at=clock.now(), comment=comment[:300]
    )
    if not updated:
        raise ApplicationError("request_state", _("The request is not awaiting a decision."), status=409)
    request.refresh_from_db()
    event_record(
        actor=actor,
        verb=f"request.{status}",
        subject=request,
        before={"status": "submitted"},
        after={"status": status, "comment": comment},
    )
    return request


@action(capability="leave.approve", scope=("request",), scope_action=APPROVE)
def request_approve(*, actor: Actor, request: LeaveRequest, comment: str = "") -> LeaveRequest:
    return _decide(actor, request, RequestStatus.APPROVED, comment)


@action(capability="leave.approve", scope=("request",), scope_action=APPROVE)
def request_reject(*, actor: Actor, request: LeaveRequest, comment: str = "") -> LeaveRequest:
    if not comment.strip():
        raise ApplicationError("comment_required", _("A rejection needs a reason."))
    return _decide(actor, request, RequestStatus.REJECTED, comment)


# --- red packets (R-WF-5) ------------------------------------------------------------------------


@action(capability=OPERATOR)
def red_packets_from_incidents(
    *, actor: Actor = None, staff: Staff, incidents: list[rules.Incident], due: dt.date | None = None
) -> int:
    """Create the obligations for incidents that carry a red packet (idempotent). ``due``: the
    publication that shows them (R-WF-5 clarified: never a day in the past); by default the first
    publication after the incident or after today, whichever is later."""
    policy = policy_in_force().document
    created = 0
    for incident in incidents:
        if incident.red_packet <= 0:
            continue
        packet, was_created = RedPacket.objects.get_or_create(
            staff=staff,
            incident_date=incident.date,
            kind=incident.kind,
            defaults={
                "minutes": incident.minutes,
                "amount": incident.red_packet,
                "packets": incident.packets,
                "due_date": due or rules.next_publication(policy, max(incident.date, clock.today())),
                "rule": incident.rule,
                "basis": incident.basis[:300],
                "basis_args": incident.basis_args,
            },
        )
        if was_created:
            RedPacketEntry.objects.create(packet=packet, kind="due", amount=packet.amount, at=clock.now())
            event_record(
                actor=actor,
                verb=Verb.RED_PACKET_DUE,
                subject=packet,
                after={"amount": packet.amount, "due": packet.due_date, "rule": packet.rule},
            )
            created += 1
    return created


@action(capability=OWN, scope=("packet",))
def red_packet_mark_sent(*, actor: Actor, packet: RedPacket) -> None:
    """Marked sent by the staff member or their team lead (or the supervisor). The amount sent is
    computed inside the INSERT (due + doubled, read under the packet's row lock), never read first."""
    own = staff_of(actor)
    allowed = own is not None and (own.pk == packet.staff_id or has_capability(actor, "statement.view_team"))
    if not allowed:
        raise PermissionDenied()
    RedPacket.objects.select_for_update().filter(pk=packet.pk).first()
    table = RedPacketEntry._meta.db_table
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (packet_id, kind, amount, at, by_id) "  # noqa: S608 (table name is ours)
                f"SELECT %s, 'sent', COALESCE(SUM(amount), 0), %s, %s FROM {table} "
                "WHERE packet_id = %s AND kind IN ('due', 'doubled')",
                [packet.pk, clock.now(), getattr(user_of(actor), "pk", None), packet.pk],
            )
    except IntegrityError as exc:
        raise ApplicationError("red_packet_sent", _("This red packet is already marked as sent."), status=409) from exc
    owed = RedPacketEntry.objects.get(packet=packet, kind="sent").amount
    event_record(actor=actor, verb=Verb.RED_PACKET_SENT, subject=packet, after={"amount": owed})


def red_packet_owed(packet: RedPacket) -> Decimal:
    kinds = {e.kind: e.amount for e in packet.entries.all()}
    return packet.amount + kinds.get("doubled", Decimal("0"))


OVERDUE_AFTER_DAYS = 7


def red_packets_double_overdue(*, today: dt.date) -> int:
    """R-WF-5 (clarified): a packet the publication showed and still unsent a week later is doubled (once)."""
    multiplier = int(policy_in_force(today).attendance.red_packet_overdue_multiplier)
    overdue = RedPacket.objects.filter(due_date__lte=today - dt.timedelta(days=OVERDUE_AFTER_DAYS)).exclude(
        entries__kind__in=["sent", "doubled"]
    )
    return sum(_red_packet_double(actor=None, packet=packet, multiplier=multiplier) for packet in overdue)


@action(capability=OPERATOR)
def _red_packet_double(*, actor: Actor, packet: RedPacket, multiplier: int) -> int:
    extra = packet.amount * (multiplier - 1)
    RedPacket.objects.select_for_update().filter(pk=packet.pk).first()
    if packet.entries.filter(kind="sent").exists():
        return 0
    try:
        with transaction.atomic():
            RedPacketEntry.objects.create(packet=packet, kind="doubled", amount=extra, at=clock.now())
    except IntegrityError:
        return 0
    event_record(
        actor=actor,
        verb=Verb.RED_PACKET_DOUBLED,
        subject=packet,
        after={"owed": packet.amount + extra, "multiplier": multiplier},
    )
    return 1


# --- points (R-WF-15 … R-WF-17) -----------------------------------------------------------------


@action(capability="points.record", scope=("staff",))
def points_record(
    *,
    actor: Actor,
    staff: Staff,
    item_code: str,
    note: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> PointEntry:
    """Record an inspection finding or award. With the form's idempotency key, the same key records
    one entry however often it arrives (the unique key decides)."""
    existing = keyed_row(PointEntry, idempotency_key)
    if existing is not None:
        return existing
    when = at or clock.now()
    items = {i.code: i for i in policy_in_force(clock.today()).points.items}
    item = items.get(item_code)
    if item is None:
        raise ApplicationError("unknown_point_item", _("Unknown points item: %(value)s") % {"value": item_code[:40]})
    entry, created = create_once(
        PointEntry,
        key=idempotency_key,
        staff=staff,
        item_code=item_code,
        item_name=item.name[:100],
        points=item.points,
        note=note[:300],
        at=when,
        recorded_by=user_of(actor),
    )
    if not created:
        return entry  # type: ignore[no-any-return]
    event_record(
        actor=actor,
        verb=Verb.POINTS_RECORDED,
        subject=staff,
        after={"item": item_code, "points": entry.points, "note": note},
    )
    return entry


@action(capability="points.record", scope=("team",))
def inspection_clear(*, actor: Actor, team: Any, note: str = "") -> TeamInspection:
    """R-WF-17 (clarified): the supervisor inspected a team and found nothing."""
    inspection = TeamInspection.objects.create(team=team, at=clock.now(), recorded_by=user_of(actor), note=note[:300])
    event_record(actor=actor, verb=Verb.INSPECTION_CLEAR, subject=team, after={"note": note[:300]})
    return inspection


@action(capability="points.record", scope=("entry",))
def points_reverse(*, actor: Actor, entry: PointEntry, note: str) -> PointEntry:
    if entry.reverses_id is not None:
        raise ApplicationError("points_reversal", _("A reversal cannot be reversed."))
    try:
        with transaction.atomic():
            reversal = PointEntry.objects.create(
                staff=entry.staff,
                item_code=entry.item_code,
                item_name=entry.item_name,
                points=-entry.points,
                note=f"冲销: {note}"[:300],
                at=clock.now(),
                recorded_by=user_of(actor),
                reverses=entry,
            )
    except IntegrityError as exc:
        raise ApplicationError("points_reversal", _("This entry is already reversed."), status=409) from exc
    event_record(
        actor=actor,
        verb=Verb.POINTS_REVERSED,
        subject=entry.staff,
        after={"entry": entry.pk, "item": entry.item_code, "points": reversal.points, "note": note},
    )
    return reversal


# --- DingTalk import -------------------------------------------------------------------------------


@action(capability="attendance.import", atomic=False)
def attendance_import(*, actor: Actor, data: bytes, file_name: str) -> ImportSummary:
    """Import a DingTalk 每日统计 or 原始记录 export: roster, punches, make-ups, leave.

    A signed-in actor needs ``attendance.import`` and imports only the people in their scope (others
    are reported by row); leave arrives approved only when the actor may approve leave, otherwise
    it waits in the approvals inbox. The command line (a system actor) is the server's operator.
    """
    if not is_operator(actor):
        _require(actor, "attendance.import")
    check_upload(data, file_name)
    try:
        parsed = parse_attendance(data)
    except FileFormatError as exc:
        raise ApplicationError("import_format", str(exc)) from exc
    return _import_attendance(actor, parsed, file_name, data)


@action(capability="attendance.import", atomic=False)
def attendance_push(*, actor: Actor, parsed: ParsedAttendance, source: str) -> ImportSummary:
    """DingTalk's punches and leave read by its API (the connector): the same import as the files,
    records numbered from 1 in the order given."""
    if not is_operator(actor):
        _require(actor, "attendance.import")
    data = repr((parsed.fmt, len(parsed.days), len(parsed.punches), source)).encode()
    return _import_attendance(actor, parsed, source, data)


def _import_attendance(actor: Actor, parsed: ParsedAttendance, file_name: str, data: bytes) -> ImportSummary:
    operator = is_operator(actor)
    may_approve = operator or has_capability(actor, "leave.approve")
    with import_run(kind="attendance", file_name=file_name, data=data, actor=actor, params={}) as summary:
        summary.fmt, summary.cells_of = parsed.fmt, parsed.cells_of
        for err in parsed.errors:
            summary.fail(err.row, err.reason, err.cells)
        with transaction.atomic(durable=True):
            _import_parsed(actor, parsed, summary, scoped=not operator, may_approve=may_approve)
    return summary


class _People:
    """Match DingTalk people to staff: by UserId, then 工号, then name; refuse people outside the
    importing actor's scope (reported on their row)."""

    def __init__(self, actor: Actor, scoped: bool) -> None:
        staff = list(Staff.objects.all())
        self.allowed = set(Staff.objects.restrict(actor).values_list("pk", flat=True)) if scoped else None
        self.by_user = {s.dingtalk_user_id: s for s in staff if s.dingtalk_user_id}
        self.by_no = {s.employee_no: s for s in staff}
        by_name: dict[str, list[Staff]] = {}
        for s in staff:
            by_name.setdefault(s.name, []).append(s)
        self.by_name = by_name

    def named(self, name: str) -> Staff | None:
        """The one staff member of that name (a 补卡's approver), or None when unknown or ambiguous."""
        matches = self.by_name.get(name, []) if name else []
        return matches[0] if len(matches) == 1 else None

    def find(self, user_id: str, employee_no: str, name: str) -> Staff:
        staff = self._match(user_id, employee_no, name)
        if self.allowed is not None and staff.pk not in self.allowed:
            raise ValueError(_("%(name)s is not in your team.") % {"name": name})
        return staff

    def _match(self, user_id: str, employee_no: str, name: str) -> Staff:
        if user_id and user_id in self.by_user:
            return self.by_user[user_id]
        if employee_no and employee_no in self.by_no:
            return self.by_no[employee_no]
        matches = self.by_name.get(name, [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValueError(_("Several staff are named %(name)s; add the DingTalk UserId.") % {"name": name})
        raise ValueError(_("No staff member %(name)s (UserId %(id)s).") % {"name": name, "id": user_id or "—"})


def _link_kefu_requests(actor: Actor, dingtalk: list[LeaveRequest]) -> None:
    """R-WF-23: the same leave from DingTalk and from Kefu counts once — DingTalk's record stands (the
    statement takes it) and the Kefu request for that day is linked to it, on its timeline."""
    for record in dingtalk:
        for request in LeaveRequest.objects.filter(
            staff_id=record.staff_id, source="kefu", start_date__lte=record.end_date, end_date__gte=record.start_date
        ).exclude(status=RequestStatus.REJECTED):
            # the approver's comment stays; the link is on the timeline
            note = _("Counted once: DingTalk's record of %(day)s stands") % {"day": record.start_date.isoformat()}
            event_record(
                actor=actor,
                verb=Verb.REQUEST_LINKED,
                subject=request,
                after={"note": note},
                data={"dingtalk": record.external_ref, "day": record.start_date},
            )


def _makeup_note(result: str, approver: str, certifier: Staff | None) -> str:
    if certifier is not None:
        return f"钉钉{result}（审批人 {certifier.name}）"[:200]
    if approver:
        return f"钉钉{result}（审批人 {approver}，不在员工名单）"[:200]
    return f"钉钉{result}（导出未写审批人）"[:200]


def _import_parsed(
    actor: Actor, parsed: ParsedAttendance, summary: ImportSummary, *, scoped: bool, may_approve: bool
) -> None:
    people = _People(actor, scoped)
    tz = clock.local_tz()
    rows: list[tuple[int, Staff, Any]] = []
    items: list[Any] = [*parsed.days, *parsed.punches]
    for item in items:
        try:
            rows.append((item.row, people.find(item.user_id, item.employee_no, item.name), item))
        except ValueError as exc:
            summary.fail(item.row, str(exc))
    if not rows:
        return
    staff_ids = {s.pk for _, s, _ in rows}
    dates = [item.date for _, _, item in rows]
    low, high = min(dates) - dt.timedelta(days=1), max(dates) + dt.timedelta(days=2)
    existing_punches = set(
        Punch.objects.filter(
            staff_id__in=staff_ids,
            at__gte=clock.day_start(low),
            at__lt=clock.day_start(high),
        ).values_list("staff_id", "at", "kind", "source")
    )
    roster = {
        (r.staff_id, r.date): r
        for r in RosterEntry.objects.filter(staff_id__in=staff_ids, date__gte=low, date__lte=high)
    }
    leave_refs = set(
        LeaveRequest.objects.filter(staff_id__in=staff_ids, source="dingtalk").values_list("external_ref", flat=True)
    )
    shift_by_name = {s.name: s.code for s in policy_in_force(min(dates)).attendance.shift_types}
    new_punches: list[Punch] = []
    new_roster: list[RosterEntry] = []
    changed_roster: list[RosterEntry] = []
    new_requests: list[LeaveRequest] = []
    for row, staff, item in rows:
        changed = False
        if hasattr(item, "shift"):
            punches = [(at, kind, result) for at, kind, result in item.punches]
            if item.shift is not None:
                code = shift_by_name.get(item.shift, "") if item.shift else ""
                if item.shift and not code:
                    summary.fail(row, _("The shift %(shift)s is not in the policy.") % {"shift": item.shift})
                    continue
                entry = roster.get((staff.pk, item.date))
                if entry is None:
                    entry = RosterEntry(staff=staff, date=item.date, shift_code=code, source="dingtalk")
                    roster[(staff.pk, item.date)] = entry
                    new_roster.append(entry)
                    changed = True
                elif entry.shift_code != code:
                    entry.shift_code, entry.source = code, "dingtalk"
                    changed_roster.append(entry)
                    changed = True
            if item.leave_kind or item.trip:
                word = item.leave_kind or "出差"
                ref = f"{staff.pk}:{item.date.isoformat()}:{word}"
                if ref not in leave_refs:
                    leave_refs.add(ref)
                    kind = {
                        "事假": "personal",
                        "请假": "personal",
                        "病假": "sick",
                        "年假": "annual",
                        "调休": "rest",
                        "出差": "trip",
                    }.get(word, "other")
                    half = item.leave_days < 1 and not item.trip
                    new_requests.append(
                        LeaveRequest(
                            staff=staff,
                            kind=kind,
                            start_date=item.date,
                            end_date=item.date,
                            half_day=half,  # R-WF-22: DingTalk's 0.5天 / 4小时
                            half=item.leave_half if half else "",
                            from_time=item.trip_span[0] if item.trip and item.trip_span else None,
                            to_time=item.trip_span[1] if item.trip and item.trip_span else None,
                            reason=item.approval[:300] or f"钉钉:{word}",
                            status=RequestStatus.APPROVED if may_approve else RequestStatus.SUBMITTED,
                            submitted_at=clock.now(),
                            decided_at=clock.now() if may_approve else None,
                            decided_by=user_of(actor) if may_approve else None,
                            comment=_("Approved in DingTalk") if may_approve else "",
                            source="dingtalk",
                            external_ref=ref,
                        )
                    )
                    changed = True
        else:
            punches = [(item.at, item.kind, item.result)]
        scheduled = getattr(item, "shift_times", None)
        for at, kind, result in punches:
            aware = at.replace(tzinfo=tz)
            makeup = any(w in result for w in ("补卡审批通过", "举证打卡审批通过"))
            source = PunchSource.MAKEUP if makeup else PunchSource.APP
            key = (staff.pk, aware, kind, source)
            if key in existing_punches:
                continue
            existing_punches.add(key)
            certifier = people.named(item.approver) if makeup else None  # R-WF-24: never a default person
            new_punches.append(
                Punch(
                    staff=staff,
                    at=aware,
                    kind=kind,
                    source=source,
                    certified_by=certifier,
                    note=_makeup_note(result, item.approver, certifier) if makeup else "",
                    # DingTalk's 补卡 carries the scheduled time, not when the person came (R-WF-24)
                    scheduled_only=makeup
                    and scheduled is not None
                    and at.time() == scheduled[0 if kind == "on" else 1],
                )
            )
            changed = True
        if changed:
            summary.created += 1
        else:
            summary.unchanged += 1
    bulk_insert(
        Punch,
        ["staff_id", "at", "kind", "source", "certified_by_id", "note", "scheduled_only"],
        ((p.staff_id, p.at, p.kind, p.source, p.certified_by_id, p.note, p.scheduled_only) for p in new_punches),
    )
    bulk_insert(
        RosterEntry,
        ["staff_id", "date", "shift_code", "source"],
        ((r.staff_id, r.date, r.shift_code, r.source) for r in new_roster),
    )
    if changed_roster:
        RosterEntry.objects.bulk_update(changed_roster, ["shift_code", "source"], batch_size=500)
    LeaveRequest.objects.bulk_create(new_requests, batch_size=1000)
    _link_kefu_requests(actor, new_requests)
    if new_punches or new_roster or changed_roster or new_requests:
        event_record(
            actor=actor,
            verb=Verb.ATTENDANCE_IMPORTED,
            data={
                "punches": len(new_punches),
                "roster": len(new_roster) + len(changed_roster),
                "approved_leave": len(new_requests),
            },
        )
