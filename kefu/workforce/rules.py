"""What workforce declares (issue 19): the attendance, leave and points sections of the handbook
policy, who may act on rosters, punches, leave and points, the R-WF rules and the timeline's verbs."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Amount,
    Capability,
    Clock,
    Dates,
    Flag,
    ModuleRules,
    Money,
    Row,
    Section,
    Signed,
    Verbs,
    Whole,
    setting,
    table,
    text,
    unique,
    whole,
)
from kefu.org.rules import LEADS, TEAM_LEADS


class ShiftType(Row):
    code: Annotated[str, text(20)] = setting(_("Code"), kind="text")
    name: Annotated[str, text(20)] = setting(_("Name"), kind="text")
    start: Clock = setting(_("Start"), kind="time")
    end: Clock = setting(_("End"), kind="time")


class LateTier(Row):
    tier: Whole = setting(default=0, editable=False)
    min_minutes: Annotated[int, whole(1)] = setting(_("From (minutes)"), kind="int")
    max_minutes: Whole = setting(_("To (minutes, 0 = open)"), kind="int")
    red_packet: Money = setting(_("Red packet (CNY)"), kind="money")
    packets: Whole = setting(_("Packets"), kind="int")
    absence_days: Amount = setting(_("Absence days"), kind="decimal")


class AbsenceTier(Row):
    min_days: Amount = setting(_("From (days)"), kind="decimal")
    daily_wages: Amount = setting(_("Daily wages deducted"), kind="decimal")
    whole_month: Flag = setting(_("Whole month's salary"), kind="bool")
    criticism_notice: Flag = setting(_("Notice of criticism"), kind="bool")
    dismissal: Flag = setting(_("Dismissal"), kind="bool")


class AttendancePolicy(Section):
    title = _("Attendance")
    minute_precision: Flag = setting(default=True, editable=False)
    free_makeups_per_month: Whole = setting(_("Free make-ups per month"), rule="R-WF-6")
    offduty_makeup_red_packet: Money = setting(_("Off-duty make-up red packet (CNY)"), rule="R-WF-6")
    offduty_makeup_packets: Whole = setting(_("Off-duty make-up packets"), rule="R-WF-6")
    missing_punch_absence_days: Amount = setting(_("Missing punch (absence days)"), rule="R-WF-6")
    no_show_absence_days: Amount = setting(_("No-show (absence days)"), rule="R-WF-7")
    red_packet_overdue_multiplier: Annotated[int, whole(1)] = setting(_("Overdue red packet multiplier"), rule="R-WF-5")
    full_attendance_bonus: Money = setting(_("Full attendance bonus (CNY)"), rule="R-WF-13")
    statutory_holidays: Dates = setting(
        _("Statutory holidays (dates, one per line or separated by commas)"), rule="R-WF-20"
    )
    holiday_pay_daily_wages: Amount = setting(_("A statutory holiday worked pays on top (daily wages)"), rule="R-WF-20")
    publication_weekday: Annotated[int, whole(0, 6)] = setting(_("Publication weekday (0 = Monday)"), rule="R-WF-14")
    publication_time: Clock = setting(_("Publication time (HH:MM)"), rule="R-WF-14")
    punch_window_before_minutes: Whole = setting(_("Punch window before the shift (minutes)"), rule="SPEC-3.2")
    punch_window_after_minutes: Whole = setting(_("Punch window after the shift (minutes)"), rule="SPEC-3.2")
    shift_types: tuple[ShiftType, ...] = table(_("Shift types"), rule="R-WF-1", key="code")
    late_tiers: tuple[LateTier, ...] = table(_("Late / early-leave tiers"), rule="R-WF-4", numbered="tier")
    absence_tiers: tuple[AbsenceTier, ...] = table(_("Absence deduction"), rule="R-WF-12")

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        yield from unique(self.shift_types, "code", "shift_types")
        for i, shift in enumerate(self.shift_types, start=1):
            if shift.start == shift.end:
                yield f"shift_types[{i}].end", gettext("start and end are the same")
        expected = 1
        for i, tier in enumerate(self.late_tiers, start=1):
            where = f"late_tiers[{i}]"
            last = i == len(self.late_tiers)
            if tier.min_minutes != expected:
                yield (
                    f"{where}.min_minutes",
                    gettext("tiers must follow on without gaps (expected %(expected)s)") % {"expected": expected},
                )
            if tier.max_minutes == 0 and not last:
                yield f"{where}.max_minutes", gettext("only the last tier may be open-ended (0)")
            if tier.max_minutes != 0 and tier.max_minutes < tier.min_minutes:
                yield f"{where}.max_minutes", gettext("smaller than min_minutes")
            if last and tier.max_minutes != 0:
                yield f"{where}.max_minutes", gettext("the last tier must be open-ended (0)")
            expected = (tier.max_minutes or tier.min_minutes) + 1
        previous = Decimal("-1")
        for i, absence in enumerate(self.absence_tiers, start=1):
            if absence.min_days <= 0:
                yield f"absence_tiers[{i}].min_days", gettext("must be a number > 0")
            elif absence.min_days <= previous:
                yield f"absence_tiers[{i}].min_days", gettext("tiers must increase")
            else:
                previous = absence.min_days


class LeavePolicy(Section):
    title = _("Rest and leave")
    rest_days_per_month: Whole = setting(_("Rest days per month"), rule="R-WF-8")
    rest_notice_days: Whole = setting(_("Rest request notice (days)"), rule="R-WF-8")
    unused_rest_day_pay_daily_wages: Amount = setting(_("Unused rest day pay (daily wages)"), rule="R-WF-8")
    leave_notice_days: Whole = setting(_("Leave request notice (days)"), rule="R-WF-9")
    leave_deduction_daily_wages: Amount = setting(_("Leave deduction per day (daily wages)"), rule="R-WF-9")
    leave_days_forfeit_next_month_rest: Whole = setting(_("Leave days that forfeit next month's rest"), rule="R-WF-10")
    personal_leave_cap_days_per_year: Whole = setting(_("Personal leave cap per year (days)"), rule="R-WF-11")


class PointItem(Row):
    code: Annotated[str, text(40)] = setting(_("Code"), kind="text")
    name: Annotated[str, text(200)] = setting(_("Name"), kind="text")
    points: Signed = setting(_("Points"), kind="int")
    category: str = setting(default="", editable=False)


class PointsPolicy(Section):
    title = _("Points")
    yuan_per_point: Money = setting(_("CNY per point"), rule="R-WF-16")
    items: tuple[PointItem, ...] = table(_("Point items"), rule="R-WF-15", key="code", min_rows=0)

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        return unique(self.items, "code", "items")


class Verb(Verbs):
    ROSTER_SET = "roster.set", _("set the roster")
    PUNCH_RECORDED = "punch.recorded", _("recorded a punch")
    PUNCH_MAKEUP_CERTIFIED = "punch.makeup_certified", _("certified a make-up punch")
    REQUEST_CREATED = "request.created", _("created a request")
    REQUEST_SUBMITTED = "request.submitted", _("submitted the request")
    REQUEST_APPROVED = "request.approved", _("approved the request")
    REQUEST_REJECTED = "request.rejected", _("rejected the request")
    REQUEST_CANCELLED = "request.cancelled", _("cancelled the request")
    REQUEST_LINKED = "request.linked", _("linked the request to DingTalk's record (counted once)")
    RED_PACKET_DUE = "red_packet.due", _("red packet became due")
    RED_PACKET_DOUBLED = "red_packet.doubled", _("red packet doubled (overdue)")
    RED_PACKET_SENT = "red_packet.sent", _("marked the red packet sent")
    POINTS_RECORDED = "points.recorded", _("recorded points")
    POINTS_REVERSED = "points.reversed", _("reversed a points entry")
    ATTENDANCE_IMPORTED = "attendance.imported", _("imported attendance")
    ATTENDANCE_PUBLISHED = "attendance.published", _("published the weekly attendance")
    IMPORT_ATTENDANCE = "import.attendance", _("imported an attendance file")
    ROSTER_ENDED = "roster.ended", _("ended the roster at the leaving date")
    INSPECTION_CLEAR = "inspection.clear", _("recorded an inspection that found nothing")


RULE_TEXTS = {
    "R-WF-1": _("Shift types (day 08:30–17:30, night 17:00–01:00); a shift belongs to the day it starts."),
    "R-WF-2": _("Serving a customer past the shift end is an extension, never a penalty."),
    "R-WF-3": _("Punches are compared to the minute (seconds dropped)."),
    "R-WF-4": _("Late and early-leave tiers: red packets, then half or whole days of absence."),
    "R-WF-5": _("Red packets are due at the weekly publication and double when overdue."),
    "R-WF-6": _("A missing punch needs a make-up certified by the supervisor; the first three a month are free."),
    "R-WF-7": _("A scheduled day with no punch and no approved leave is a full day of absence."),
    "R-WF-8": _("Two rest days a month, requested ahead; unused ones are paid."),
    "R-WF-9": _("Leave is requested a day ahead and approved by the supervisor; it deducts wages."),
    "R-WF-10": _("More than 3 leave days in a month: no rest days the next month."),
    "R-WF-11": _("Personal leave is capped at 30 days a year; beyond is absence."),
    "R-WF-12": _("Monthly absence deducts wages by tier, up to the whole month and dismissal."),
    "R-WF-13": _("Full attendance bonus: no late, early leave, leave or absence in the month."),
    "R-WF-14": _("Every Monday last week's attendance is published."),
    "R-WF-15": _("Points items from the handbook, each plus or minus points."),
    "R-WF-16": _("One point is worth 2 CNY; points are a ledger, reversed never edited."),
    "R-WF-17": _("Daily inspections by the supervisor are recorded as points."),
    "R-WF-18": _("A partial month pays the days employed: prorated base pay and rest days, no full-attendance bonus."),
    "R-WF-19": _("Net pay is never below zero: deductions stop at the month's base pay."),
    "R-WF-20": _("A statutory holiday rested is the holiday itself; one worked pays extra daily wages."),
    "R-WF-21": _("Business trips and outings are worked days, never absence, leave or rest."),
    "R-WF-22": _("Half-day leave names its half; the worked half is graded."),
    "R-WF-23": _("One day, one status: overlapping rest or leave is refused; the same leave counts once."),
    "R-WF-24": _("A make-up punch fills only a missing punch and names who certified it."),
    "SPEC-3.2": _("A punch belongs to the shift whose window it falls in."),
    "SPEC-3.6": _("The monthly statement: base salary and every deduction and addition with its basis."),
}


RULES = ModuleRules(
    module="workforce",
    order=20,
    policy={"attendance": AttendancePolicy, "leave": LeavePolicy, "points": PointsPolicy},
    capabilities={
        "leave.approve": Capability(LEADS, _("approve rest and leave (R-WF-8/9)")),
        "attendance.certify": Capability(LEADS, _("certify make-up punches (R-WF-6)")),
        "attendance.import": Capability(TEAM_LEADS, _("import DingTalk attendance")),
        "roster.edit": Capability(TEAM_LEADS, _("edit the roster of one's team")),
        "points.record": Capability(LEADS, _("record inspections and awards (R-WF-17)")),
        "statement.view_team": Capability(TEAM_LEADS, _("see the statements of others (a team lead: the team's)")),
        "pay.view": Capability(LEADS, _("see others' base salary and monthly statements")),
    },
    rules=RULE_TEXTS,
    verbs=Verb,
)
