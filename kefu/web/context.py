"""Navigation by module; later modules add their entries here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.org.permissions import has_capability

# (section, [(label, url name, capability or None)])
NAVIGATION: list[tuple[Any, list[tuple[Any, str, str | None]]]] = [
    (_("Overview"), [(_("Home"), "web:home", None)]),
    (
        _("Commerce"),
        [
            (_("Orders"), "web:orders", None),
            (_("Customers"), "web:customers", None),
            (_("Products"), "web:products", None),
            (_("Imports"), "web:imports", "orders.import"),
        ],
    ),
    (
        _("After-sales"),
        [
            (_("Cases"), "aftersales:inbox", None),
            (_("Refund approvals"), "aftersales:refunds", "refund.approve"),
            (_("Courier claims"), "aftersales:claims", None),
            (_("Negative reviews"), "aftersales:reviews", None),
            (_("Weekly report"), "aftersales:report", None),
        ],
    ),
    (
        _("Workforce"),
        [
            (_("My attendance"), "attendance:mine", None),
            (_("Team attendance"), "attendance:team", "statement.view_team"),
            (_("Monthly statement"), "attendance:statement_export", "pay.view"),
            (_("Approvals"), "attendance:approvals", "leave.approve"),
            (_("Red packets"), "attendance:red_packets", None),
            (_("Points and inspections"), "attendance:points", None),
            (_("Weekly publication"), "attendance:publication", None),
        ],
    ),
    (
        _("Organisation"),
        [
            (_("Shops"), "web:shops", None),
            (_("Teams"), "web:teams", None),
            (_("Staff"), "web:staff", None),
        ],
    ),
    (
        _("Settings"),
        [
            (_("Handbook policy"), "web:policy", None),
            (_("Audit log"), "web:audit", "audit.view"),
            (_("API tokens"), "web:tokens", None),
        ],
    ),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    current = request.resolver_match.view_name if request.resolver_match else ""
    sections = []
    for title, items in NAVIGATION:
        entries = [
            {"label": label, "url": reverse(name), "active": current == name}
            for label, name, cap in items
            if cap is None or has_capability(user, cap)
        ]
        if entries:
            sections.append({"title": title, "items": entries})
    return {"nav": sections}
