"""What after-sales adds to the shared UI, URL configuration, API, home page, search and the order page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording
from kefu.core.actors import Actor
from kefu.org.permissions import grant_source

from .rules import RULES


def _counts(user: Any, staff: Any) -> dict[str, int]:
    from . import selectors

    # one set of count queries per page view, shared by the cards below
    cache = getattr(user, "_kefu_case_counts", None)
    if cache is None:
        cache = selectors.open_case_counts(actor=user, staff=staff)
        user._kefu_case_counts = cache
    return cache  # type: ignore[no-any-return]


def _mine(user: Any, staff: Any) -> int | None:
    return _counts(user, staff).get("mine") if staff is not None else None


def _team_open(user: Any, staff: Any) -> int | None:
    if staff is None or staff.position not in {"team_lead", "supervisor", "deputy"}:
        return None
    return _counts(user, staff)["open"]


def _escalated(user: Any, staff: Any) -> int | None:
    if staff is None or staff.position not in {"team_lead", "supervisor", "deputy"}:
        return None
    return _counts(user, staff)["escalated"]


def _breached(user: Any, staff: Any) -> int | None:
    return _counts(user, staff)["breached"]


def _case_rows(which: str) -> Any:
    def rows(user: Any, staff: Any) -> list[plugins.HomeRow]:
        from kefu.core import clock

        from . import selectors

        out = []
        for case in selectors.home_cases(actor=user, staff=staff, which=which):
            deadlines = [d for d in (case.platform_deadline, case.sla_due_at) if d is not None]
            due = clock.local_text(min(deadlines))[5:] if deadlines else ""  # the nearer deadline
            detail = " · ".join(
                x
                for x in (
                    case.get_case_type_display(),
                    case.buyer_nick,
                    case.status.name,
                    case.owner.name if case.owner else str(_("unassigned")),
                    str(_("due %(time)s") % {"time": due}) if due else "",
                )
                if x
            )
            out.append(plugins.HomeRow(case.number, reverse("aftersales:case", args=[case.pk]), detail, case.breached))
        return out

    return rows


def _refund_rows(user: Any, staff: Any) -> list[plugins.HomeRow]:
    from . import selectors

    return [
        plugins.HomeRow(
            f"{line.case.number} · ¥{line.amount}",
            reverse("aftersales:refunds") + f"#refund-{line.pk}",
            " · ".join(x for x in (line.get_kind_display(), line.case.buyer_nick, line.case.shop.name) if x),
            line.needs_supervisor,
        )
        for line in selectors.refund_queue(actor=user)[:5]
    ]


def _holds_refund_grant(user: Any) -> bool:
    """R-AS-7: a person the supervisor granted the refund-approval permission (up to an amount). Asked
    by the navigation, the home cards and the pages of one request: answered once per user object
    (a request's), not once per question."""
    from .models import RefundApprover

    cached = getattr(user, "_kefu_refund_grant", None)
    if cached is None:
        cached = RefundApprover.objects.filter(staff__user=user, active=True).exists()
        user._kefu_refund_grant = cached
    return bool(cached)


def _refunds(user: Any, staff: Any) -> int | None:
    from . import selectors

    return selectors.refunds_awaiting_count(actor=user)


def _search(actor: Actor, q: str) -> list[plugins.SearchHit]:
    from . import selectors

    page = selectors.case_inbox(actor=actor, filters=selectors.CaseFilters(q=q), limit=5)
    return [
        plugins.SearchHit(
            _("After-sales case"),
            c.number,
            reverse("aftersales:case", args=[c.pk]),
            f"{c.get_case_type_display()} · {c.buyer_nick} · {c.status.name}",
        )
        for c in page.items
    ]


def _order_panel(request: Any, order: Any) -> dict[str, Any]:
    from .services import shipping_judgement

    return {
        "order": order,
        "shipping": shipping_judgement(order=order),
        "chases": list(order.chases.select_related("staff")),
        "cases": list(order.cases.select_related("status").order_by("-opened_at")),
    }


def _url(name: str, query: str = "") -> str:
    return reverse(name) + query


def register() -> None:
    rulebook.register(RULES)
    from kefu.core.reports import ReportPage, register_page

    register_page(
        ReportPage(
            "aftersales:report",
            _("Weekly after-sales report"),
            _("Cases by type and responsibility, money, top products and reasons, open cases past their deadline."),
            rule="R-AS-15",
            order=20,
        )
    )
    from . import work_scope
    from .api import router

    work_scope.register()
    grant_source("refund.approve", _holds_refund_grant)
    from .health import register_health

    register_health()
    plugins.urls("aftersales/", "kefu.aftersales.urls", order=30)
    plugins.api_router("aftersales", router)
    plugins.nav_section(
        plugins.NavSection(
            "aftersales",
            _("After-sales"),
            30,
            (
                plugins.NavItem(_("Cases"), "aftersales:inbox"),
                plugins.NavItem(_("Refund approvals"), "aftersales:refunds", "refund.approve"),
                plugins.NavItem(_("Courier claims"), "aftersales:claims"),
                plugins.NavItem(_("Negative reviews"), "aftersales:reviews"),
                plugins.NavItem(_("Weekly report"), "aftersales:report"),
            ),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "cases_mine",
            _("My open after-sales cases"),
            lambda: _url("aftersales:inbox", "?mine=1"),
            _mine,
            10,
            rows=_case_rows("mine"),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "cases_open",
            _("Open cases in my scope"),
            lambda: _url("aftersales:inbox"),
            _team_open,
            30,
            rows=_case_rows("open"),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "cases_escalated",
            _("Cases to follow up (deadline near)"),
            lambda: _url("aftersales:inbox", "?escalated=1"),
            _escalated,
            35,
            rows=_case_rows("escalated"),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "cases_breached",
            _("Cases past their deadline"),
            lambda: _url("aftersales:inbox", "?overdue=1"),
            _breached,
            50,
            rows=_case_rows("breached"),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "refunds",
            _("Refunds awaiting approval"),
            lambda: _url("aftersales:refunds"),
            _refunds,
            55,
            capability="refund.approve",
            rows=_refund_rows,
        )
    )
    plugins.search_provider(plugins.SearchProvider("aftersales", _("After-sales cases"), _search, order=20))
    plugins.panel("commerce.order", plugins.Panel("aftersales/_order_panel.html", _order_panel))
    _words()


def _words() -> None:
    from django.utils.translation import gettext_lazy

    from kefu.policies.aftersales import PLAYBOOKS, RESOLUTIONS

    from .models import (
        Case,
        CaseType,
        Category,
        ClaimStatus,
        CourierClaim,
        EvidenceKind,
        MoneyKind,
        MoneyLine,
        MoneyStatus,
        NegativeReview,
        Responsibility,
    )

    wording.register_models(Case, MoneyLine, CourierClaim, NegativeReview)
    # checklist steps read as their text in the timeline ("ticked a checklist step: 与仓库核实")
    wording.register(labels={code: gettext_lazy(text) for steps in PLAYBOOKS.values() for code, text in steps})
    wording.register_choices(CaseType, Category, Responsibility, EvidenceKind, MoneyKind, MoneyStatus, ClaimStatus)
    # a chosen resolution reads as its sentence ("keep_discount" → 建议买家折价留下错发商品);
    # money kinds (refund, coupon, compensation) keep their own labels
    wording.register(labels={code: gettext_lazy(text) for code, text in RESOLUTIONS.items()})
    # the case's facts as people read them (timelines showed "诉求: return_no_reason", "accept_return")
    from kefu.policies.aftersales import COURIER_CLASSES

    wording.register(
        labels={
            "accept_return": gettext_lazy("Accept the return"),
            "accept_exchange": gettext_lazy("Accept the exchange"),
            "return_no_reason": gettext_lazy("7-day no-reason return"),
            "return_quality": gettext_lazy("Return for quality"),
            "exchange": gettext_lazy("Exchange"),
            "buyer_stance:accepts": gettext_lazy("Accepts the offer"),
            "buyer_stance:declines": gettext_lazy("Declines the offer"),
            "buyer_stance:insists": gettext_lazy("Insists on a return or exchange"),
            **{f"courier_class:{c}": gettext_lazy(label) for c, (label, _s) in COURIER_CLASSES.items()},
            **{code: gettext_lazy(text) for steps in COURIER_CLASSES.values() for code, text in steps[1]},
            # the platform's refund states and its intervention codes, as the platform's own pages word them
            "platform_status:WAIT_SELLER_AGREE": gettext_lazy("Waiting for the shop to agree"),
            "platform_status:WAIT_BUYER_RETURN_GOODS": gettext_lazy("Agreed; waiting for the buyer's return"),
            "platform_status:WAIT_SELLER_CONFIRM_GOODS": gettext_lazy("Returned; waiting for the shop to confirm"),
            "platform_status:SELLER_REFUSE_BUYER": gettext_lazy("Refused by the shop"),
            "platform_status:CLOSED": gettext_lazy("Refund closed"),
            "platform_status:SUCCESS": gettext_lazy("Refunded"),
            "trace:delayed": gettext_lazy("The courier's trace has been silent too long"),
            "trace:no_tracking": gettext_lazy("No courier trace after shipping"),
            "cs_status:1": gettext_lazy("No intervention needed"),
            "cs_status:2": gettext_lazy("Intervention requested"),
            "cs_status:3": gettext_lazy("The platform has intervened"),
            "cs_status:4": gettext_lazy("First review done"),
            "cs_status:5": gettext_lazy("Second review failed"),
            "cs_status:6": gettext_lazy("The platform's handling done"),
        },
        fields={
            "buyer_stance": gettext_lazy("Buyer's answer to the exchange or price-difference offer"),
            "courier_class": gettext_lazy("Courier query class"),
            "request_date": gettext_lazy("Requested on"),
            "cs_status": gettext_lazy("platform intervention"),
            "refund_id": gettext_lazy("platform refund no."),
            "platform_status": gettext_lazy("platform refund status"),
            "refund_at": gettext_lazy("refund asked on"),
            "trace": gettext_lazy("courier trace"),
        },
    )
    wording.register(
        labels={"us": _("Us (the shop)"), "buyer": _("The buyer")},
        fields={
            "feedback": _("Feedback to the platform"),
            "case": _("Case"),
            "limit": _("Approval limit (CNY)"),
            "type": _("Type"),
            "order": _("Order"),
            "facts": _("Facts"),
            "amount": _("Amount"),
            "resolution": _("Chosen resolution"),
            "line_value": _("Affected value"),
            "line_cost": _("Our cost price"),
            "wrong_item_value": _("Value of the wrong item"),
            "shipped_matches_order": _("Shipped item matches the order"),
            "received_date": _("Received on"),
            "request_date": _("Requested on"),
            "request_kind": _("Request"),
            "buyer_pays_freight": _("Buyer will pay the freight"),
            "misuse": _("Misuse found"),
            "remark_ok": _("Order remark present and right"),
            "warehouse_error": _("Warehouse error"),
            "seized": _("Seized by security"),
            "at_fault": _("We are at fault"),
            "agent": _("Agent"),
            "line": _("Money line"),
            "cost": _("Cost to us"),
            "needs_approval": _("Needs approval"),
            "needs_supervisor": _("Needs the supervisor"),
            "rule": _("Rule"),
            "recovered": _("Recovered"),
            "tracking_no": _("Tracking no."),
        },
    )
