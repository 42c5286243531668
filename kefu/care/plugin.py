"""What customer care adds to the shared UI, URL configuration, home page and words."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording

from .rules import RULES


def _my_visits(user: Any, staff: Any) -> int | None:
    from .models import ReturnVisit

    if staff is None or staff.position not in {"presales", "aftersales", "team_lead"}:
        return None
    return ReturnVisit.objects.filter(agent=staff, done_at__isnull=True).count()


def _contacts_overdue(user: Any, staff: Any) -> int | None:
    from . import selectors

    if staff is None or staff.position not in {"supervisor", "deputy", "team_lead"}:
        return None
    return len(selectors.contacts_overdue(actor=user))


def _customer_panel(request: Any, customer: Any) -> dict[str, Any] | None:
    """R-CARE-2 on the customer's page: the current agent, the contact duty and the form that records
    the first contact."""
    from kefu.org.permissions import has_capability

    from .models import Assignment, ReturnVisit

    # in the reader's scope only: another team's agent and visits stay theirs (issue 16 §6)
    assignment = (
        Assignment.objects.restrict(request.user).filter(customer=customer, active=True).select_related("agent").first()
    )
    visits = list(
        ReturnVisit.objects.restrict(request.user)
        .filter(customer=customer)
        .select_related("agent")
        .order_by("-scheduled_at")[:5]
    )
    from kefu.core import clock

    return {
        "now": clock.now(),
        "customer": customer,
        "assignment": assignment,
        "visits": visits,
        "can_record": assignment is not None
        and assignment.contacted_at is None
        and has_capability(request.user, "care.handle"),
    }


def register() -> None:
    rulebook.register(RULES)
    from .api import router

    plugins.urls("care/", "kefu.care.urls", order=35)
    plugins.api_router("care", router)
    plugins.panel("commerce.customer", plugins.Panel("care/_customer_panel.html", _customer_panel))
    plugins.nav_section(
        plugins.NavSection(
            "care",
            _("Customer care"),
            35,
            (
                plugins.NavItem(_("Complaints"), "care:complaints"),
                plugins.NavItem(_("Return visits"), "care:visits"),
                plugins.NavItem(_("Customer assignment"), "care:assignment", "customers.assign"),
            ),
        )
    )
    plugins.home_card(
        plugins.HomeCard("care_visits", _("My return visits to make"), lambda: reverse("care:visits"), _my_visits, 9)
    )
    plugins.home_card(
        plugins.HomeCard(
            "care_overdue",
            _("New customers not contacted in time"),
            lambda: reverse("care:assignment"),
            _contacts_overdue,
            38,
        )
    )
    _words()
    from .reports import register_reports

    register_reports()


def _words() -> None:
    from .models import Assignment, Complaint, ComplaintCategory, Emotion, ReturnVisit, VisitChannel, VisitTopic
    from .workflow import HANDLING_STEPS

    wording.register_models(Complaint, Assignment, ReturnVisit)
    wording.register_choices(ComplaintCategory, VisitChannel, VisitTopic)
    wording.register(
        labels={
            **{f"emotion:{c}": t for c, t in Emotion.choices},
            **{f"suggested:{c}": t for c, t in Emotion.choices},
            **{f"step:{c}": t for c, t in HANDLING_STEPS},
            **dict(Emotion.choices),
        },
        fields={
            "suggested": _("suggested emotion"),
            "our_fault": _("our fault"),
            "topic": _("topic"),
            "complaint_no": _("complaint no."),
        },
    )
