"""What staffing declares (issue 22): its section of the handbook policy (the forecast's history and
weights, the campaign multipliers, Erlang C's targets, the roster proposal's limits), who proposes
and publishes rosters, the R-WFM rules and the timeline's verbs."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import PlainValidator

from kefu.core.rulebook import (
    Capability,
    ModuleRules,
    Percent,
    Row,
    Section,
    Verbs,
    plain_decimal,
    setting,
    table,
    whole,
    words,
)
from kefu.org.rules import TEAM_LEADS


def _weights(value: Any) -> tuple[Decimal, ...]:
    message = gettext('a list of weights like "8", each from 0 to 100')
    if not isinstance(value, list) or not 1 <= len(value) <= 52:
        raise ValueError(message)
    out = []
    for item in value:
        number = plain_decimal(item)
        if number is None or not 0 <= number <= 100:
            raise ValueError(message)
        out.append(number)
    if not any(out):
        raise ValueError(gettext("at least one weight above 0"))
    return tuple(out)


def _campaign_day(value: Any) -> str:
    import datetime as dt

    if isinstance(value, str) and len(value) in (5, 10):
        try:
            dt.date.fromisoformat(value if len(value) == 10 else f"2024-{value}")  # 2024: 02-29 exists
            return value
        except ValueError:
            pass
    raise ValueError(gettext('a date like "11-11" (every year) or "2027-11-11"'))


def _multiplier(value: Any) -> Decimal:
    number = plain_decimal(value)
    if number is None or not Decimal("0.1") <= number <= 100:
        raise ValueError(gettext('a multiplier like "2", from 0.1 to 100'))
    return number


class Campaign(Row):
    day: Annotated[str, PlainValidator(_campaign_day)] = setting(_("Date (MM-DD or YYYY-MM-DD)"), kind="text")
    multiplier: Annotated[Decimal, PlainValidator(_multiplier)] = setting(_("Multiplier"), kind="text")


class StaffingPolicy(Section):
    title = _("Staffing")
    session_silence_minutes: Annotated[int, whole(1, 24 * 60)] = setting(
        _("A new session starts after silence of (minutes)"), rule="R-WFM-1"
    )
    history_weeks: Annotated[int, whole(1, 52)] = setting(_("Weeks of history"), rule="R-WFM-1")
    week_weights: Annotated[tuple[Decimal, ...], PlainValidator(_weights)] = setting(
        _("Weight of each past week, most recent first"), rule="R-WFM-1", editable=False
    )
    concurrency: Annotated[int, whole(1, 20)] = setting(_("Sessions one agent serves at once"), rule="R-WFM-2")
    service_level_percent: Percent = setting(_("Answered within the time (percent)"), rule="R-WFM-2")
    answer_within_seconds: Annotated[int, whole(1, 3600)] = setting(_("Answer within (seconds)"), rule="R-WFM-2")
    shrinkage_percent: Percent = setting(_("Shrinkage (percent of paid time away from the desk)"), rule="R-WFM-2")
    default_handle_seconds: Annotated[int, whole(1, 86_400)] = setting(
        _("Handle time without history (seconds)"), rule="R-WFM-2"
    )
    max_days_in_row: Annotated[int, whole(1, 31)] = setting(_("At most working days in a row"), rule="R-WFM-3")
    night_shifts: Annotated[tuple[str, ...], words(16)] = setting(rule="R-WFM-3", editable=False)
    solver_seconds: Annotated[int, whole(1, 60)] = setting(_("Solver time limit (seconds)"), rule="R-WFM-3")
    campaigns: tuple[Campaign, ...] = table(_("Campaign multipliers"), rule="R-WFM-1", key="day", min_rows=0)

    def cross_checks(self) -> Iterable[tuple[str, str]]:
        if len(self.week_weights) != self.history_weeks:
            yield "week_weights", gettext("one weight for each week of history")
        if not 0 < self.service_level_percent < 100:
            yield "service_level_percent", gettext("a percentage above 0 and below 100")
        if self.shrinkage_percent >= 100:
            yield "shrinkage_percent", gettext("a percentage below 100")
        seen: set[str] = set()
        for i, row in enumerate(self.campaigns, start=1):
            if row.day in seen:
                yield f"campaigns[{i}].day", gettext("this date is already listed")
            seen.add(row.day)


class Verb(Verbs):
    PROPOSAL_MADE = "roster_proposal.made", _("proposed a roster")
    PROPOSAL_EDITED = "roster_proposal.edited", _("changed the proposed roster")
    PROPOSAL_PUBLISHED = "roster_proposal.published", _("published the proposed roster")
    PROPOSAL_DISCARDED = "roster_proposal.discarded", _("discarded the proposed roster")


RULES = ModuleRules(
    module="staffing",
    order=95,
    policy={"staffing": StaffingPolicy},
    capabilities={
        "staffing.plan": Capability(
            TEAM_LEADS, _("see forecasts and requirements, propose, edit and publish rosters (their teams)")
        ),
    },
    rules={
        "R-WFM-1": _(
            "Forecast of new sessions per team and hour of the week from the last weeks' history, with "
            "campaign multipliers and the backtest error."
        ),
        "R-WFM-2": _(
            "Required agents per hour by Erlang C for chat: slots to answer X % within T seconds, "
            "agents at c sessions each, rostered heads after shrinkage."
        ),
        "R-WFM-3": _(
            "Roster proposal by a constraint solver: coverage first, then surplus and fairness, keeping "
            "approved rest and leave, the rest entitlement, shift types, the run limit and employment dates."
        ),
    },
    verbs=Verb,
)
