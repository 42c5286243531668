"""The web layer's own pages: home, search, imports, the handbook policy and the audit log."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, wording


def register() -> None:
    plugins.urls("", "kefu.web.urls", order=99)
    plugins.nav_section(
        plugins.NavSection(
            "overview",
            _("Overview"),
            10,
            (plugins.NavItem(_("Home"), "web:home"), plugins.NavItem(_("Search"), "web:search")),
        )
    )
    plugins.nav_section(
        plugins.NavSection(
            "commerce", _("Commerce"), 20, (plugins.NavItem(_("Imports"), "web:imports", "orders.import"),)
        )
    )
    plugins.nav_section(
        plugins.NavSection(
            "settings",
            _("Settings"),
            90,
            (
                plugins.NavItem(_("Handbook policy"), "web:policy"),
                plugins.NavItem(_("Audit log"), "web:audit", "audit.view"),
                plugins.NavItem(_("Messages not sent"), "web:outbox", "outbox.manage"),
            ),
        )
    )
    wording.register(verbs={"outbox.retried": _("sent a message that had not gone out again")})
    wording.register(
        rules={
            "R-ORG-1": _("Pre-sales owns a customer until the order ships; after-sales from shipment on."),
            "R-ORG-2": _("Agents and team leads see their team's shops; supervisors see everything."),
            "R-COM-1": _("Order remark format: shipping, gift, other requirements, author, date and time."),
            "R-WF-1": _("Shift types (day 08:30–17:30, night 17:00–01:00); a shift belongs to the day it starts."),
            "R-WF-2": _("Serving a customer past the shift end is an extension, never a penalty."),
            "R-WF-3": _("Punches are compared to the minute (seconds dropped)."),
            "R-WF-4": _("Late and early-leave tiers: red packets, then half or whole days of absence."),
            "R-WF-5": _("Red packets are due at the weekly publication and double when overdue."),
            "R-WF-6": _(
                "A missing punch needs a make-up certified by the supervisor; the first three a month are free."
            ),
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
            "R-AS-1": _("Freight standard by province: what we charge and what we bear."),
            "R-AS-2": _("Responsibility decides who pays return freight."),
            "R-AS-3": _("Wrong item shipped: compare with the order, then exchange or refund."),
            "R-AS-4": _("Defect: apologise and offer a coupon or a small partial refund."),
            "R-AS-5": _("Quality problem: rule out misuse, then return or exchange at our cost."),
            "R-AS-6": _("Agent error: negotiate compensation, else free return or exchange."),
            "R-AS-7": _("Retention first; partial refunds above the cap need the supervisor."),
            "R-AS-8": _(
                "Missing items: reship; the agent who took the order pays the freight if the remark was wrong."
            ),
            "R-AS-9": _("Lost parcel: reship or refund first, then claim from the courier."),
            "R-AS-10": _("Logistics exceptions: follow up with the courier and the buyer."),
            "R-AS-11": _("Late shipment: every order has a promised ship time; the warehouse is chased."),
            "R-AS-12": _("Disputes: predict the outcome and prepare the appeal with evidence."),
            "R-AS-13": _("Negative reviews: an explanation reply for each, product feedback collected."),
            "R-AS-14": _("Return windows: 7 days no reason, 30 days quality, 90 days exchange."),
            "R-AS-15": _("Weekly after-sales report to the supervisor every Monday."),
            "SPEC-3.6": _("The monthly statement: base salary and every deduction and addition with its basis."),
        }
    )
