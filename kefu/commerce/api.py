from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from kefu.api.pagination import CursorPage
from kefu.core.errors import ApplicationError
from kefu.core.params import Day, Limit
from kefu.org.permissions import has_capability
from kefu.org.selectors import access_shop_by_id

from . import selectors
from .services import orders_import, orders_push

router = Router(tags=["commerce"])


class ProductOut(Schema):
    id: int
    shop_id: int
    sku: str
    title: str
    category: str
    price: Decimal
    cost_price: Decimal
    parameters: dict[str, object]


class CustomerOut(Schema):
    id: int
    platform: str
    nick: str
    phone: str
    member_level: str
    assigned_agent_id: int | None

    # the phone and the assigned agent only for the agent's own team (issue 16 §6)
    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return str(obj.phone) if getattr(obj, "private_visible", False) else ""

    @staticmethod
    def resolve_assigned_agent_id(obj: Any) -> int | None:
        return obj.assigned_agent_id if getattr(obj, "private_visible", False) else None


class OrderLineOut(Schema):
    line_key: str
    sku: str
    title: str
    attributes: str
    quantity: int
    price: Decimal
    paid_amount: Decimal
    refund_status: str
    refunded_amount: Decimal


class OrderOut(Schema):
    id: int
    shop_id: int
    order_no: str
    buyer_nick: str
    province: str
    city: str
    status: str
    platform_status: str
    goods_amount: Decimal
    postage: Decimal
    total_amount: Decimal
    paid_amount: Decimal
    refunded_amount: Decimal
    ordered_at: dt.datetime
    paid_at: dt.datetime | None
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None
    courier: str
    tracking_no: str
    flag: int
    memo: str
    memo_valid: bool


class OrderDetailOut(OrderOut):
    receiver_name: str
    receiver_phone: str
    address: str
    buyer_message: str
    close_reason: str
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: object) -> list[object]:
        return list(obj.lines.all())  # type: ignore[attr-defined]


class ImportSummaryOut(Schema):
    created: int
    updated: int
    unchanged: int
    failed: list[dict[str, object]]


@router.get("/products", response=CursorPage[ProductOut])
def list_products(
    request: HttpRequest, shop: int | None = None, q: str | None = None, cursor: str | None = None, limit: Limit = 50
) -> object:
    return selectors.product_list(actor=request.user, shop=shop, q=q, cursor=cursor, limit=limit)


@router.get("/products/{product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: int) -> object:
    return selectors.product_get(actor=request.user, product_id=product_id)


@router.get("/customers", response=CursorPage[CustomerOut])
def list_customers(request: HttpRequest, q: str | None = None, cursor: str | None = None, limit: Limit = 50) -> object:
    return selectors.customer_list(actor=request.user, q=q, cursor=cursor, limit=limit)


@router.get("/customers/{customer_id}", response=CustomerOut)
def get_customer(request: HttpRequest, customer_id: int) -> object:
    return selectors.customer_get(actor=request.user, customer_id=customer_id)


@router.get("/orders", response=CursorPage[OrderOut])
def list_orders(
    request: HttpRequest,
    shop: int | None = None,
    status: str | None = None,
    province: str | None = None,
    flag: int | None = None,
    date_from: Day | None = None,
    date_to: Day | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> object:
    filters = selectors.OrderFilters(
        shop=shop, status=status, province=province, flag=flag, date_from=date_from, date_to=date_to, q=q
    )
    return selectors.order_list(actor=request.user, filters=filters, cursor=cursor, limit=limit)


@router.post("/orders/import", response=ImportSummaryOut)
def import_orders(request: HttpRequest, shop: Form[int], file: File[UploadedFile]) -> object:
    """Import a Taobao/Tmall order export (CSV or XLSX) into a shop in your scope."""
    if not has_capability(request.user, "orders.import"):
        raise ApplicationError("permission_denied", _("Importing orders is not allowed for your role."), status=403)
    target = access_shop_by_id(request.user, shop)
    data = file.read()
    return orders_import(actor=request.user, shop=target, data=data, file_name=file.name or "orders.csv").as_dict()


class OrderPushIn(Schema):
    shop: int
    orders: list[dict[str, Any]]


@router.post("/orders/push", response=ImportSummaryOut)
def push_orders(request: HttpRequest, payload: OrderPushIn) -> object:
    """Push orders as JSON (SPEC §2): idempotent by (shop, order no.), changes recorded, bad records by number."""
    if not has_capability(request.user, "orders.import"):
        raise ApplicationError("permission_denied", _("Importing orders is not allowed for your role."), status=403)
    target = access_shop_by_id(request.user, payload.shop)
    return orders_push(actor=request.user, shop=target, orders=payload.orders).as_dict()


@router.get("/orders/{order_id}", response=OrderDetailOut)
def get_order(request: HttpRequest, order_id: int) -> object:
    return selectors.order_get(actor=request.user, order_id=order_id)
