"""What the warehouse contact reaches (issue 16 §2, docs/roles.md): the cases of their team's shops
waiting on the warehouse (their evidence, to read and add to), the orders of those cases and their
buyers (to read), and the team's shipping chases (R-AS-11: orders not yet shipped)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from kefu.core.scoping import READ, Scope, work_rule

WAITING = "waiting_warehouse"


def _warehouse(scope: Scope) -> bool:
    return scope.position == "warehouse"


def register() -> None:
    from .models import Case

    def waiting_cases() -> Q:
        return Q(status__category=WAITING)

    def cases(scope: Scope, action: str) -> Q | None:
        return waiting_cases() & Q(shop_id__in=scope.shop_ids) if _warehouse(scope) else None

    def evidence(scope: Scope, action: str) -> Q | None:
        if not _warehouse(scope):
            return None
        return Q(case__status__category=WAITING, case__shop_id__in=scope.shop_ids)

    def _cases_of(scope: Scope, **outer: OuterRef) -> Q:
        return Q(Exists(Case.objects.filter(waiting_cases(), shop_id__in=scope.shop_ids, **outer)))

    def orders(scope: Scope, action: str) -> Q | None:
        return _cases_of(scope, order_id=OuterRef("pk")) if _warehouse(scope) and action == READ else None

    def order_lines(scope: Scope, action: str) -> Q | None:
        return _cases_of(scope, order_id=OuterRef("order_id")) if _warehouse(scope) and action == READ else None

    def customers(scope: Scope, action: str) -> Q | None:
        if not (_warehouse(scope) and action == READ):
            return None
        return _cases_of(scope, customer_id=OuterRef("pk"))

    def chases(scope: Scope, action: str) -> Q | None:
        return Q(order__shop_id__in=scope.shop_ids) if _warehouse(scope) else None

    work_rule("aftersales.Case", cases)
    work_rule("aftersales.Evidence", evidence)
    work_rule("aftersales.ShipmentChase", chases)
    work_rule("commerce.Order", orders)
    work_rule("commerce.OrderLine", order_lines)
    work_rule("commerce.Customer", customers)
