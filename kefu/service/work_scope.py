"""What a technician reaches (issue 16 §2, docs/roles.md): the requests assigned to them and, to
read, the customer and order facts those requests need — nothing else of the team's customers."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from kefu.core.scoping import READ, Scope, work_rule


def _own_requests(scope: Scope) -> Q | None:
    return Q(technician_id=scope.staff_id) if scope.position == "technician" and scope.staff_id else None


def register() -> None:
    from .models import ServiceRequest

    def requests(scope: Scope, action: str) -> Q | None:
        return _own_requests(scope)

    def customers(scope: Scope, action: str) -> Q | None:
        own = _own_requests(scope)
        if own is None or action != READ:
            return None
        return Q(Exists(ServiceRequest.objects.filter(own, customer_id=OuterRef("pk"))))

    def orders(scope: Scope, action: str) -> Q | None:
        own = _own_requests(scope)
        if own is None or action != READ:
            return None
        return Q(Exists(ServiceRequest.objects.filter(own, order_id=OuterRef("pk"))))

    def order_lines(scope: Scope, action: str) -> Q | None:
        own = _own_requests(scope)
        if own is None or action != READ:
            return None
        return Q(Exists(ServiceRequest.objects.filter(own, order_id=OuterRef("order_id"))))

    work_rule("service.ServiceRequest", requests)
    work_rule("commerce.Customer", customers)
    work_rule("commerce.Order", orders)
    work_rule("commerce.OrderLine", order_lines)
