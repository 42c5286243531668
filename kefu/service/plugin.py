"""What field service adds to the shared UI, URL configuration, API, home page and search."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording
from kefu.core.actors import Actor

from .rules import RULES


def _my_visits_today(user: Any, staff: Any) -> int | None:
    from kefu.core import clock

    from . import selectors

    if staff is None or staff.position != "technician":
        return None
    return len(selectors.day_visits(actor=user, technician=staff, day=clock.today()))


def _overdue(user: Any, staff: Any) -> int | None:
    from .models import ServiceRequest

    if staff is None or staff.position not in {"team_lead", "supervisor", "deputy"}:
        return None
    return ServiceRequest.objects.restrict(user).filter(breached=True, on_site_at__isnull=True).count()


def _search(actor: Actor, q: str) -> list[plugins.SearchHit]:
    from .models import ServiceRequest

    rows = ServiceRequest.objects.restrict(actor).filter(number=q.upper()) | ServiceRequest.objects.restrict(
        actor
    ).filter(serial_no=q)
    return [
        plugins.SearchHit(_("Service request"), r.number, reverse("service:request", args=[r.pk]), r.product)
        for r in rows[:5]
    ]


def register() -> None:
    rulebook.register(RULES)
    from . import work_scope
    from .api import router

    work_scope.register()
    plugins.urls("service/", "kefu.service.urls", order=30)
    plugins.api_router("service", router)
    plugins.nav_section(
        plugins.NavSection(
            "service",
            _("Field service"),
            30,
            (
                plugins.NavItem(_("Service requests"), "service:inbox"),
                plugins.NavItem(_("Today's visits"), "service:day"),
                plugins.NavItem(_("Service agreements"), "service:agreements"),
                plugins.NavItem(_("Spare parts"), "service:parts"),
            ),
        )
    )
    plugins.home_card(
        plugins.HomeCard("service_today", _("My visits today"), lambda: reverse("service:day"), _my_visits_today, 4)
    )
    plugins.home_card(
        plugins.HomeCard(
            "service_overdue",
            _("Requests past the on-site deadline"),
            lambda: reverse("service:inbox") + "?overdue=1",
            _overdue,
            37,
        )
    )
    plugins.search_provider(plugins.SearchProvider("service", _("Service requests"), _search, order=20))
    _words()
    from .reports import register_reports

    register_reports()


def _words() -> None:
    from kefu.policies.warranty import PAID_REASONS

    from .models import (
        Agreement,
        AgreementBill,
        Billing,
        Channel,
        Charge,
        PartKind,
        PlanItem,
        PlanState,
        RequestCategory,
        ServiceKind,
        ServiceRequest,
        StockEntry,
        StockKind,
    )
    from .workflow import VISIT_CHECKLIST

    wording.register_models(ServiceRequest, StockEntry, Agreement, AgreementBill, PlanItem)
    wording.register_choices(Channel, Charge, PartKind, RequestCategory, StockKind, ServiceKind, Billing, PlanState)
    labels: dict[str, Any] = {}
    for code, reason in PAID_REASONS.items():
        labels[f"paid_reasons:{code}"] = labels[f"causes:{code}"] = _(reason)
    for code, step in VISIT_CHECKLIST:
        labels[f"step:{code}"] = step
    labels.update({f"charge:{c}": t for c, t in Charge.choices})
    wording.register(
        labels=labels,
        fields={
            "consent": _("customer agreed to parts"),
            "spare_part": _("spare part"),
            "on_site_due": _("on site by"),
            "cause": _("fault cause"),
            "message": _("message"),
            "paid_reasons": _("the verdict's reasons to pay"),
            "rules": _("rules"),
            "on_time": _("on time"),
            "step": _("step"),
            "quantity": _("quantity"),
            "balance": _("balance after"),
            "notes": _("notes"),
            "bills": _("bills"),
            "plan": _("plan visits"),
            "fee": _("fee"),
            "appointment": _("appointment time"),
            "reason": _("the customer's reason"),
            "receipt": _("receipt no."),
            "taken": _("taken to the service centre"),
            "loaner": _("loaner or temporary solution"),
            "to": _("referred to"),
            "outcome": _("outcome"),
            "days_in_repair": _("days in repair"),
            "charge": _("charge"),
            "agreement": _("agreement"),
            "rule": _("rule"),
        },
    )
