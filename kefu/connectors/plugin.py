"""What the connectors add to the shared UI: the health page in the navigation, a home card and the
alert on the team lead's daily summary for a connector failing for an hour."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording

from .rules import RULES


def _failing(user: Any) -> list[Any]:
    """The connectors in the user's scope failing for an hour, asked once per user object (a request's):
    the home card's count and its rows are one read."""
    from . import selectors

    found = getattr(user, "_kefu_failing_connectors", None)
    if found is None:
        found = selectors.failing(actor=user)
        user._kefu_failing_connectors = found
    return found  # type: ignore[no-any-return]


def _failing_count(user: Any, staff: Any) -> int | None:
    from kefu.org.permissions import has_capability

    if not has_capability(user, "connectors.view"):
        return None
    return len(_failing(user)) or None


def _failing_rows(user: Any, staff: Any) -> list[plugins.HomeRow]:
    return [
        plugins.HomeRow(c.name, reverse("connectors:connector", args=[c.pk]), c.last_error[:120], True)
        for c in _failing(user)[:5]
    ]


def summary_alerts(actor: Any, team: Any) -> list[str]:
    """The connectors of the team's shops (and the department's DingTalk) failing for an hour."""
    from django.db.models import Q

    from .models import Connector
    from .selectors import failing_for_an_hour

    queryset = Connector.objects.filter(enabled=True).filter(Q(shop__teams=team) | Q(shop__isnull=True)).distinct()
    return [
        str(_("Connector %(name)s has failed since %(since)s: %(error)s"))
        % {
            "name": c.name,
            "since": timezone.localtime(c.failing_since).strftime("%m-%d %H:%M") if c.failing_since else "",
            "error": c.last_error[:120],
        }
        for c in failing_for_an_hour(queryset)
    ]


def register() -> None:
    rulebook.register(RULES)
    plugins.urls("connectors/", "kefu.connectors.urls", order=90)
    plugins.nav_section(
        plugins.NavSection(
            "connectors",
            _("Connectors"),
            90,
            (plugins.NavItem(_("Connectors"), "connectors:health", "connectors.view"),),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "connectors_failing",
            _("Connectors failing for an hour"),
            lambda: reverse("connectors:health"),
            _failing_count,
            5,
            "connectors.view",
            _failing_rows,
        )
    )
    plugins.summary_alert(summary_alerts)
    from .models import Connector, Outcome, SyncRun, Trigger

    wording.register_models(Connector, SyncRun)
    wording.register_choices(Outcome, Trigger)
    wording.register(
        labels={
            "app_secret:changed": _("changed"),
            "session:changed": _("changed"),
            "orders": _("Orders"),
            "refunds": _("Refunds"),
            "punches": _("Punches"),
            "leave": _("Leave"),
            "trips": _("Business trips"),
            "records": _("Punch records"),
            "ratings": _("Ratings"),
            "traces": _("Logistics traces"),
            "users": _("People"),
        },
        fields={
            "app_secret": _("app secret"),
            "session": _("session key"),
            "error": _("error"),
            "platform": _("platform"),
        },
    )
