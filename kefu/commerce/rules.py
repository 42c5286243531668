"""What commerce declares (issue 19): who imports orders and edits products, R-COM-1 and its verbs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.rulebook import (
    Capability,
    ModuleRules,
    Verbs,
)
from kefu.org.models import Position
from kefu.org.rules import TEAM_LEADS


class Verb(Verbs):
    ORDER_IMPORTED = "order.imported", _("imported the order")
    PRODUCT_KNOWLEDGE_CHANGED = "product.knowledge_changed", _("changed the product's parameters")
    CUSTOMER_ASSIGNED = "customer.assigned", _("assigned the customer")
    ORDER_UPDATED = "order.updated", _("updated the order from an import")
    ORDER_LINES_IMPORTED = "order.lines_imported", _("imported the order's lines")
    ORDER_REMARK_SET = "order.remark_set", _("set the seller remark")
    CUSTOMER_CREATED = "customer.created", _("recorded a new customer")
    IMPORT_ORDERS = "import.orders", _("imported an order file")
    IMPORT_ORDERS_FAILED = "import.orders_failed", _("tried to import orders (refused)")


RULE_TEXTS = {
    "R-COM-1": _("Order remark format: shipping, gift, other requirements, author, date and time."),
}


RULES = ModuleRules(
    module="commerce",
    order=15,
    capabilities={
        "orders.import": Capability(TEAM_LEADS, _("import orders and commerce data")),
        "orders.remark": Capability(
            TEAM_LEADS | {Position.PRESALES, Position.AFTERSALES}, _("write an order's seller remark (R-COM-1)")
        ),
        "customers.record": Capability(
            TEAM_LEADS | {Position.PRESALES, Position.AFTERSALES},
            _("record a customer first met outside an order (a complaint, a call)"),
        ),
        "catalog.edit": Capability(TEAM_LEADS, _("edit product parameters and categories")),
    },
    rules=RULE_TEXTS,
    verbs=Verb,
)
