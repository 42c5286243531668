"""Display names for the codes the attendance rules return (they stay English identifiers in data)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from kefu.core import wording

register = template.Library()

LABELS = {
    "base_salary": _("Base salary"),
    "leave_deduction": _("Leave deduction"),
    "absence_deduction": _("Absence deduction"),
    "unused_rest_pay": _("Unused rest-day pay"),
    "full_attendance_bonus": _("Full attendance bonus"),
    "points": _("Points"),
    "late": _("Late"),
    "early": _("Early leave"),
    "makeup": _("Make-up"),
    "missing": _("Missing punch"),
    "absent": _("Absence"),
    "worked": _("Worked"),
    "partial": _("Partly punched"),
    "rest": _("Rest"),
    "pending": _("Not over yet"),
    "leave": _("Leave"),
    "off": _("Off"),
    "day": _("Day shift"),
    "night": _("Night shift"),
    "criticism_notice": _("Notice of criticism"),
    "dismissal": _("Flagged for dismissal"),
    "rest_forfeited": _("Rest days forfeited (R-WF-10)"),
    "trip": _("Business trip or outing"),
    "holiday": _("Statutory holiday"),
    "not_employed": _("Not employed"),
    "half_leave": _("Half day of leave"),
    "holiday_pay": _("Statutory holiday pay"),
    "not_deducted": _("Not deducted (floor)"),
    "net_floor": _("Net pay floor"),
    "makeup_pending": _("Make-up waiting for its time"),
    "part_month": _("Part of the month employed"),
    "no_roster": _("No roster this month"),
    "estimate": _("Estimate: the month is not over"),
    "demerit": _("Demerit recorded"),
}


wording.register(labels=LABELS)


@register.filter
def label(code: object) -> object:
    return wording.label(code)
