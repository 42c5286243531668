"""Reads for commerce data, always scoped to the actor (R-ORG-2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.pagination import Page, keyset_iter, keyset_page
from kefu.core.scoping import access_object, scope_for

from .models import Customer, Order, OrderLine, OrderStatus, Product


@dataclass(frozen=True)
class OrderFilters:
    shop: int | None = None
    status: str | None = None
    province: str | None = None
    flag: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str | None = None
    memo_invalid: bool = False


def order_list(*, actor: Actor, filters: OrderFilters, cursor: str | None = None, limit: int = 50) -> Page[Order]:
    return keyset_page(order_queryset(actor=actor, filters=filters), key="ordered_at", cursor=cursor, limit=limit)


# what a row of the order list shows (ADR 0023): plain values, no model instances
ORDER_ROW = (
    "id",
    "order_no",
    "shop__name",
    "buyer_nick",
    "province",
    "status",
    "paid_amount",
    "ordered_at",
    "flag",
    "memo_valid",
)


def order_rows(
    *, actor: Actor, filters: OrderFilters, cursor: str | None = None, limit: int = 50
) -> Page[dict[str, Any]]:
    """The order list's page as plain rows (``ORDER_ROW``), newest first; scope and filters as
    ``order_list``."""
    qs = order_queryset(actor=actor, filters=filters).values(*ORDER_ROW)
    return keyset_page(qs, key="ordered_at", cursor=cursor, limit=limit)


def order_export(*, actor: Actor, filters: OrderFilters, cap: int) -> Iterator[Order]:
    """Every order of the filtered list (newest first), in keyset batches, at most ``cap``."""
    return keyset_iter(order_queryset(actor=actor, filters=filters), key="ordered_at", cap=cap)


def order_queryset(*, actor: Actor, filters: OrderFilters) -> Any:
    qs = Order.objects.restrict(actor).select_related("shop")
    if filters.shop:
        qs = qs.filter(shop_id=filters.shop)
    if filters.status and filters.status in OrderStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.province:
        qs = qs.filter(province=filters.province)
    if filters.flag is not None:
        qs = qs.filter(flag=filters.flag)
    if filters.date_from:
        qs = qs.filter(ordered_at__gte=clock.day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(ordered_at__lt=clock.day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.memo_invalid:
        qs = qs.filter(memo_valid=False)
    if filters.q:
        q = filters.q.strip()
        # Exact matches on indexed columns keep search fast at a million orders.
        qs = qs.filter(Q(order_no=q) | Q(buyer_nick=q) | Q(tracking_no=q))
    return qs


def order_get(*, actor: Actor, order_id: int) -> Order:
    qs = Order.objects.select_related("shop", "customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("line_key"))
    )
    return access_object(actor, qs, pk=order_id)


def product_list(
    *, actor: Actor, shop: int | None = None, q: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page[Product]:
    qs = Product.objects.restrict(actor).select_related("shop")
    if shop:
        qs = qs.filter(shop_id=shop)
    if q:
        qs = qs.filter(Q(sku=q.strip()) | Q(title__icontains=q.strip()))
    return keyset_page(qs, key="id", descending=False, cursor=cursor, limit=limit)


def product_get(*, actor: Actor, product_id: int) -> Product:
    return access_object(actor, Product.objects.select_related("shop"), pk=product_id)


def _mark_private(actor: Actor, customers: Iterable[Customer]) -> None:
    """A buyer is one customer across shops, in scope for every team with an order of theirs — an
    order pushed into one's own shop under another team's customer's nick would show that team's
    facts (issue 16 §6). The phone and the agent the customer is assigned to are therefore shown
    only to the agent's own team (and the supervisors), or while nobody is assigned
    (``private_visible``; pages and the API read it)."""
    scope = scope_for(actor)
    for customer in customers:
        agent = customer.assigned_agent
        customer.private_visible = bool(scope.all or agent is None or agent.team_id in scope.team_ids)  # type: ignore[attr-defined]


def customer_list(*, actor: Actor, q: str | None = None, cursor: str | None = None, limit: int = 50) -> Page[Customer]:
    qs = Customer.objects.restrict(actor).select_related("assigned_agent")
    if q:
        scope = scope_for(actor)
        by_phone = Q(phone=q.strip())
        if not scope.all:  # found by phone only where the phone is shown
            by_phone &= Q(assigned_agent__isnull=True) | Q(assigned_agent__team_id__in=scope.team_ids)
        qs = qs.filter(Q(nick=q.strip()) | by_phone)
    page = keyset_page(qs, key="id", cursor=cursor, limit=limit)
    _mark_private(actor, page.items)
    return page


def customer_get(*, actor: Actor, customer_id: int) -> Customer:
    customer = access_object(actor, Customer.objects.select_related("assigned_agent"), pk=customer_id)
    _mark_private(actor, [customer])
    return customer


def customer_orders(*, actor: Actor, customer: Customer, limit: int = 50) -> list[Order]:
    return list(
        Order.objects.restrict(actor).filter(customer=customer).select_related("shop").order_by("-ordered_at")[:limit]
    )


def access_order_by_id(actor: Actor, order_id: Any) -> Order:
    return access_object(actor, Order.objects.select_related("shop"), pk=order_id)


def find_order_by_no(actor: Actor, order_no: str, *, shop_id: int | None = None) -> Order | None:
    """An order named by its number in a form (optional there): None when absent or outside the scope."""
    qs = Order.objects.restrict(actor).filter(order_no=order_no.strip())
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    return qs.first() if order_no.strip() else None


def orders_of_buyer(*, actor: Actor, shop: int, buyer: str, limit: int = 10) -> list[Order]:
    """A buyer's latest orders in one shop (the desk shows them beside the conversation)."""
    return list(
        Order.objects.restrict(actor)
        .filter(shop_id=shop, buyer_nick=buyer)
        .prefetch_related("lines")
        .order_by("-ordered_at", "-id")[:limit]
    )
