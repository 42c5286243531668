from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.params import DayField, MomentField

from .models import DayHalf, PunchKind, RequestKind

MIN_YEAR, MAX_YEAR = 2000, 2100  # the months anyone pages through; beyond them is a malformed parameter


def parse_month(value: str | None) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month); the current month when absent; a clear 400 when malformed (a
    mistyped link must not silently show another month)."""
    if value is None or not value.strip():
        today = clock.today()
        return today.year, today.month
    try:
        if len(value.strip()) != 7:
            raise ValueError("not YYYY-MM")
        year, month = (int(x) for x in value.strip().split("-"))
        dt.date(year, month, 1)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError("out of range")
        return year, month
    except ValueError:
        raise ApplicationError(
            "validation_error", _("“%(value)s” is not a month; write it as 2026-11.") % {"value": value[:20]}
        ) from None


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=RequestKind.choices)
    start_date = DayField(label=_("From"))
    end_date = DayField(label=_("To"))
    half_day = forms.BooleanField(label=_("Half day"), required=False)
    # R-WF-22: a half day names its half of the shift
    half = forms.ChoiceField(label=_("Which half"), choices=[("", _("(whole day)")), *DayHalf.choices], required=False)
    emergency = forms.BooleanField(label=_("Emergency (reported by phone)"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("half"):
            data["half_day"] = True  # naming a half makes it a half day
        elif data.get("half_day"):
            self.add_error("half", _("Choose the first or the second half of the shift (R-WF-22)."))
        return data


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    comment = forms.CharField(label=_("Comment"), max_length=300, required=False)


class MakeupForm(forms.Form):
    staff = forms.TypedChoiceField(label=_("Staff member"), coerce=int)
    at = MomentField(label=_("Time made up"))
    kind = forms.ChoiceField(label=_("Kind"), choices=[(PunchKind.ON, _("On duty")), (PunchKind.OFF, _("Off duty"))])
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["staff"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(s.pk, f"{s.name} ({s.employee_no})") for s in staff]


class PointsForm(forms.Form):
    staff = forms.TypedChoiceField(label=_("Staff member"), coerce=int)
    item = forms.ChoiceField(label=_("Item"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, staff: list[Any], items: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff_field, item_field = self.fields["staff"], self.fields["item"]
        assert isinstance(staff_field, forms.ChoiceField) and isinstance(item_field, forms.ChoiceField)
        # The picker starts empty: a finding is recorded against someone chosen, never a default.
        staff_field.choices = [("", _("— choose a person —")), *((s.pk, f"{s.name} ({s.employee_no})") for s in staff)]
        item_field.choices = [
            ("", _("— choose an item —")),
            *((i.code, f"{i.name} ({i.points:+d} {_('pts')})") for i in items),
        ]


class CopyWeekForm(forms.Form):
    from_monday = DayField(label=_("Copy the week of"))
    to_monday = DayField(label=_("onto the week of"))
