"""What the commerce module adds to the shared UI, URL configuration and API."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording
from kefu.core.actors import Actor

from .rules import RULES


def _search(actor: Actor, q: str) -> list[plugins.SearchHit]:
    from . import selectors

    orders = selectors.order_list(actor=actor, filters=selectors.OrderFilters(q=q), limit=5).items
    customers = selectors.customer_list(actor=actor, q=q, limit=5).items
    return [
        plugins.SearchHit(
            _("Order"),
            o.order_no,
            reverse("commerce:order_detail", args=[o.pk]),
            f"{o.shop.name} · {o.buyer_nick} · {o.get_status_display()}",
        )
        for o in orders
    ] + [
        plugins.SearchHit(_("Customer"), c.nick, reverse("commerce:customer_detail", args=[c.pk]), c.name)
        for c in customers
    ]


def _resume_orders(run_id: int, attempt: int) -> None:
    from .tasks import orders_import_run_task

    orders_import_run_task(run_id, attempt)


def register() -> None:
    rulebook.register(RULES)
    from kefu.core import imports

    from .api import router

    imports.resumer("orders", _resume_orders)

    plugins.urls("", "kefu.commerce.urls", order=20)
    plugins.api_router("commerce", router)
    plugins.nav_section(
        plugins.NavSection(
            "commerce",
            _("Commerce"),
            20,
            (
                plugins.NavItem(_("Orders"), "commerce:orders"),
                plugins.NavItem(_("Customers"), "commerce:customers"),
                plugins.NavItem(_("Products"), "commerce:products"),
            ),
        )
    )
    plugins.search_provider(plugins.SearchProvider("commerce", _("Orders and customers"), _search, order=10))
    _words()


def _words() -> None:
    from .models import Customer, Flag, Order, OrderLine, OrderStatus, Product

    wording.register_models(Order, OrderLine, Customer, Product)
    wording.register_choices(OrderStatus, Flag)
    wording.register(
        labels={
            "orders": _("Orders"),
            "taobao_orders": _("Taobao/Tmall order report"),
            "taobao_order_details": _("Taobao/Tmall order details report"),
            "json_push": _("Pushed through the API"),
            "csv": "CSV",
            "xlsx": "XLSX",
            "lines:added": _("added"),
        },
        fields={"memo": _("Seller remark"), "lines": _("Order line")},
    )
