"""What quality inspection adds to the shared UI: its pages in the navigation, the hits panel on the
conversation page, the appeals card for team leads and the day's line on the daily summary."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, wording

from .api import router


def _hits_panel(request: Any, conversation: Any) -> dict[str, Any] | None:
    from . import selectors

    found = selectors.conversation_hits(actor=request.user, conversation_id=conversation.pk)
    return {"qa_hits": found} if found else None


def _appeals_count(user: Any, staff: Any) -> int | None:
    from kefu.org.permissions import has_capability

    from . import selectors

    if not has_capability(user, "quality.review"):
        return None
    return len(selectors.appeals_waiting(actor=user)) or None


def _summary(actor: Any, team: Any, summary_day: Any) -> list[str]:
    """R-QA-2: the inspection of the day before (drawn and reviewed on the summary's day) on the
    team lead's daily summary."""
    import datetime as dt

    from . import selectors

    day = summary_day - dt.timedelta(days=1)
    s = selectors.day_summary(team=team, day=day)
    if not s["found"] and not s["total"]:
        return []
    return [
        str(
            _(
                "Quality inspection of %(day)s: %(found)s hits (%(confirmed)s confirmed, %(dismissed)s dismissed); "
                "%(reviewed)s of %(total)s sampled conversations read."
            )
        )
        % {**s, "day": day.strftime("%m-%d")}
    ]


def register() -> None:
    from .models import Appeal, Hit, HitStatus, Kind, Sample, SampleReason

    plugins.api_router("quality", router)
    plugins.urls("quality/", "kefu.quality.urls", order=96)
    plugins.nav_section(
        plugins.NavSection(
            "quality",
            _("Quality"),
            62,
            (
                plugins.NavItem(_("Daily inspection"), "quality:inspection", "quality.review"),
                plugins.NavItem(_("My inspection results"), "quality:mine"),
            ),
        )
    )
    plugins.panel("desk.conversation", plugins.Panel("quality/_conversation_hits.html", _hits_panel, 50))
    plugins.home_card(
        plugins.HomeCard(
            "quality_appeals",
            _("Quality appeals to decide"),
            lambda: reverse("quality:inspection"),
            _appeals_count,
            40,
            "quality.review",
        )
    )
    plugins.summary_line(_summary)
    wording.register_models(Hit, Sample)
    wording.register_choices(Kind, HitStatus, Appeal, SampleReason)
    wording.register(
        fields={
            "status": _("status"),
            "verdict": _("verdict"),
            "kind": _("kind"),
            "note": _("note"),
            "reason": _("reason"),
            "points": _("points"),
            "staff": _("staff member"),
            "appeal": _("appeal"),
        }
    )


register()
