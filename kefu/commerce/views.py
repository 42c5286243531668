"""Pages of commerce data: orders (with the R-COM-1 remark), customers and products."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import clock, wording
from kefu.core.actions import has_capability
from kefu.core.errors import PermissionDenied
from kefu.core.events import timeline
from kefu.core.params import int_param
from kefu.org import selectors as org
from kefu.policies.remark import RemarkError
from kefu.web.http import (
    EXPORT_CAP,
    form_post,
    is_local_path,
    local_time,
    render_page_or_partial,
    render_panels,
    row_url_base,
    xlsx_download,
)

from . import selectors as commerce
from .forms import OrderFilterForm, RemarkForm
from .models import Flag, OrderStatus
from .services import order_remark_set, parameters_parse, product_knowledge_set


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, shops=org.shop_choices(actor=request.user))
    filters = form.filters() if form.is_valid() else commerce.OrderFilters()
    if request.GET.get("export") == "xlsx":
        return _orders_xlsx(request, filters)
    page = commerce.order_rows(actor=request.user, filters=filters, cursor=request.GET.get("cursor"), limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "appending": bool(request.GET.get("cursor")),
        "order_base": row_url_base("commerce:order_detail"),
        "status_labels": wording.choice_labels(OrderStatus),
        "flag_labels": wording.choice_labels(Flag),
    }
    if getattr(request, "htmx", False) and request.GET.get("cursor"):
        return render(request, "commerce/orders.html#rows", ctx)
    return render_page_or_partial(request, "commerce/orders.html", "results", ctx)


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = commerce.order_get(actor=request.user, order_id=order_id)
    return render(
        request,
        "commerce/order_detail.html",
        {
            "order": order,
            "events": timeline(order),
            "remark_form": RemarkForm(),
            "panels": render_panels(request, "commerce.order", order),
        },
    )


@login_required
@require_POST
def order_remark(request: HttpRequest, order_id: int) -> HttpResponse:
    order = commerce.order_get(actor=request.user, order_id=order_id)
    form = RemarkForm(request.POST)
    if form.is_valid():
        staff = org.staff_of(request.user)
        try:
            order_remark_set(
                actor=request.user,
                order=order,
                author=staff.name if staff else request.user.get_username(),
                **form.cleaned_data,
            )
            messages.success(request, _("Remark saved."))
        except RemarkError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Please correct the remark fields."))
    back = request.POST.get("next", "")
    if is_local_path(request, back):
        return redirect(back)  # the remark builder of a conversation page returns to it
    return redirect("commerce:order_detail", order_id=order.pk)


@login_required
def customers(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip() or None
    page = commerce.customer_list(actor=request.user, q=q, cursor=request.GET.get("cursor"))
    return render_page_or_partial(request, "commerce/customers.html", "results", {"page": page, "q": q or ""})


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = commerce.customer_get(actor=request.user, customer_id=customer_id)
    return render(
        request,
        "commerce/customer_detail.html",
        {
            "customer": customer,
            "orders": commerce.customer_orders(actor=request.user, customer=customer),
            "events": timeline(customer),
            "panels": render_panels(request, "commerce.customer", customer),
        },
    )


@login_required
def products(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip() or None
    shop = int_param(request.GET.get("shop"))
    page = commerce.product_list(actor=request.user, shop=shop, q=q, cursor=request.GET.get("cursor"))
    return render_page_or_partial(
        request,
        "commerce/products.html",
        "results",
        {
            "page": page,
            "q": q or "",
            "shops": org.shop_list(actor=request.user),
            "shop": shop,
        },
    )


@login_required
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = commerce.product_get(actor=request.user, product_id=product_id)
    can_edit = has_capability(request.user, "catalog.edit")
    text = "\n".join(f"{k}:{v}" for k, v in product.parameters.items())
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied()
        text = request.POST.get("parameters", "")
        return form_post(
            request,
            lambda: product_knowledge_set(
                actor=request.user,
                product=product,
                parameters=parameters_parse(text),
                category=request.POST.get("category", product.category),
            ),
            then=redirect("commerce:product_detail", product.pk),
            done=_("Saved."),
            failed=lambda: _product_page(request, product, can_edit, text),
        )
    return _product_page(request, product, can_edit, text)


def _product_page(request: HttpRequest, product: Any, can_edit: bool, text: str) -> HttpResponse:
    ctx = {"product": product, "events": timeline(product), "can_edit": can_edit, "parameters_text": text}
    return render(request, "commerce/product_detail.html", ctx)


def _orders_xlsx(request: HttpRequest, filters: commerce.OrderFilters) -> HttpResponse:
    """The filtered order list as XLSX (the same filters and scope as the page)."""
    rows = (
        (
            o.order_no,
            o.shop.name,
            o.buyer_nick,
            o.get_status_display(),
            o.province,
            o.paid_amount,
            o.refunded_amount,
            local_time(o.ordered_at),
            local_time(o.shipped_at),
            o.courier,
            o.tracking_no,
            o.get_flag_display(),
            o.memo,
        )
        for o in commerce.order_export(actor=request.user, filters=filters, cap=EXPORT_CAP)
    )
    headers = [
        _("Order no."), _("Shop"), _("Buyer"), _("Status"), _("Province"), _("Paid"), _("Refunded"),
        _("Ordered at"), _("Shipped at"), _("Courier"), _("Tracking no."), _("Flag"), _("Seller remark"),
    ]  # fmt: skip
    return xlsx_download(f"orders-{clock.today():%Y%m%d}.xlsx", _("Orders"), headers, rows)
