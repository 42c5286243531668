"""Thin views: parse input, call one selector or service, render. One view serves a page and its htmx partial."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.aftersales.services import chase_record, shipping_judgement
from kefu.commerce import selectors as commerce
from kefu.commerce.services import order_remark_set, orders_import
from kefu.commerce.tasks import orders_import_task
from kefu.core import clock, context, throttle
from kefu.core import selectors as core_selectors
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.core.pagination import keyset_page
from kefu.core.params import date_param, int_param
from kefu.core.policy_store import policy_in_force, policy_save, policy_versions
from kefu.core.scoping import scope_for
from kefu.org import selectors as org
from kefu.org.models import Position, Shop
from kefu.org.permissions import has_capability
from kefu.org.services import staff_import, token_create, token_revoke
from kefu.policies import handbook
from kefu.policies.remark import RemarkError
from kefu.workforce.services import attendance_import

from . import policy_fields
from .forms import LoginForm, OrderFilterForm, PolicyForm, RemarkForm, UploadForm
from .http import render_page_or_partial, require_capability

# --- sign-in -------------------------------------------------------------------------------


def throttled_admin_login(login: Any) -> Any:
    """The admin's sign-in under the same throttle as ours (per username and per address)."""

    def view(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method != "POST":
            return login(request, extra_context)  # type: ignore[no-any-return]
        username, ip = request.POST.get("username", "")[:150], context.client_ip(request)
        if throttle.login_locked(username, ip):
            throttle.login_refused(username, ip)
            return HttpResponse(_("Too many failed sign-ins. Please wait 15 minutes and try again."), status=429)
        response = login(request, extra_context)
        if request.user.is_authenticated:
            throttle.login_succeeded(username, ip)
        else:
            throttle.login_failed(username, ip)
        return response  # type: ignore[no-any-return]

    return view


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("web:home")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("web:home")
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = context.client_ip(request)
        if throttle.login_locked(username, ip):
            form.add_error(None, _("Too many failed sign-ins. Please wait 15 minutes and try again."))
            throttle.login_refused(username, ip)
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                throttle.login_failed(username, ip)
                form.add_error(None, _("Wrong username or password."))
                status = 400
            else:
                throttle.login_succeeded(username, ip)
                login(request, user)
                return HttpResponseRedirect(next_url)
    return render(request, "web/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


# --- home ------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    staff = org.staff_of(request.user)
    shops = org.shop_list(actor=request.user)
    recent_imports = list(_import_runs(request)[:5])
    return render(
        request,
        "web/home.html",
        {
            "staff": staff,
            "scope": scope,
            "shops": shops,
            "recent_imports": recent_imports,
            "policy": policy_in_force(),
            "todo": _todo(request, staff),
        },
    )


def _todo(request: HttpRequest, staff: Any) -> list[dict[str, Any]]:
    """What waits for this person today: one count query per item, each linking to its list."""
    from kefu.aftersales import selectors as aftersales
    from kefu.workforce import selectors as workforce

    user = request.user
    items: list[dict[str, Any]] = []
    cases = aftersales.open_case_counts(actor=user, staff=staff)
    if staff is not None:
        items.append(
            {
                "label": _("My open after-sales cases"),
                "url": reverse("aftersales:inbox") + "?mine=1",
                "n": cases["mine"],
            }
        )
        items.append(
            {
                "label": _("My red packets to send"),
                "url": reverse("attendance:mine"),
                "n": workforce.red_packets_unsent_count(staff=staff),
            }
        )
    items.append(
        {
            "label": _("Cases past their deadline"),
            "url": reverse("aftersales:inbox") + "?overdue=1",
            "n": cases["breached"],
        }
    )
    if has_capability(user, "refund.approve"):
        items.append(
            {
                "label": _("Refunds awaiting approval"),
                "url": reverse("aftersales:refunds"),
                "n": aftersales.refunds_awaiting_count(actor=user),
            }
        )
    if has_capability(user, "leave.approve"):
        items.append(
            {
                "label": _("Rest and leave requests to decide"),
                "url": reverse("attendance:approvals"),
                "n": workforce.requests_awaiting_count(actor=user),
            }
        )
    return items


# --- orders ----------------------------------------------------------------------------------


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    shops = org.shop_list(actor=request.user)
    form = OrderFilterForm(request.GET or None, shops=shops)
    filters = form.filters() if form.is_valid() else commerce.OrderFilters()
    page = commerce.order_list(actor=request.user, filters=filters, cursor=request.GET.get("cursor"), limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    ctx = {"form": form, "page": page, "query": query.urlencode(), "appending": bool(request.GET.get("cursor"))}
    if getattr(request, "htmx", False) and request.GET.get("cursor"):
        return render(request, "web/orders.html#rows", ctx)
    return render_page_or_partial(request, "web/orders.html", "results", ctx)


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = commerce.order_get(actor=request.user, order_id=order_id)
    return render(
        request,
        "web/order_detail.html",
        {
            "order": order,
            "events": timeline(order),
            "remark_form": RemarkForm(),
            "shipping": shipping_judgement(order=order),
            "chases": list(order.chases.select_related("staff")),
            "cases": list(order.cases.select_related("status").order_by("-opened_at")),
        },
    )


@login_required
@require_POST
def order_chase(request: HttpRequest, order_id: int) -> HttpResponse:
    """R-AS-11: record that the warehouse was chased about this order's shipment."""
    order = commerce.order_get(actor=request.user, order_id=order_id)
    chase_record(actor=request.user, order=order, note=request.POST.get("note", ""))
    messages.success(request, _("Chase recorded."))
    return redirect("web:order_detail", order_id=order.pk)


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
    return redirect("web:order_detail", order_id=order.pk)


# --- customers and products ---------------------------------------------------------------


@login_required
def customers(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip() or None
    page = commerce.customer_list(actor=request.user, q=q, cursor=request.GET.get("cursor"))
    return render_page_or_partial(request, "web/customers.html", "results", {"page": page, "q": q or ""})


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = commerce.customer_get(actor=request.user, customer_id=customer_id)
    return render(
        request,
        "web/customer_detail.html",
        {
            "customer": customer,
            "orders": commerce.customer_orders(actor=request.user, customer=customer),
            "events": timeline(customer),
        },
    )


@login_required
def products(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip() or None
    shop = int_param(request.GET.get("shop"))
    page = commerce.product_list(actor=request.user, shop=shop, q=q, cursor=request.GET.get("cursor"))
    return render_page_or_partial(
        request,
        "web/products.html",
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
    return render(request, "web/product_detail.html", {"product": product, "events": timeline(product)})


# --- organisation ---------------------------------------------------------------------------


@login_required
def shops(request: HttpRequest) -> HttpResponse:
    return render(request, "web/shops.html", {"shops": org.shop_list(actor=request.user)})


@login_required
def shop_detail(request: HttpRequest, shop_id: int) -> HttpResponse:
    shop = org.shop_get(actor=request.user, shop_id=shop_id)
    return render(request, "web/shop_detail.html", {"shop": shop, "events": timeline(shop)})


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    return render(request, "web/teams.html", {"teams": org.team_list(actor=request.user)})


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = org.team_get(actor=request.user, team_id=team_id)
    return render(
        request,
        "web/team_detail.html",
        {
            "team": team,
            "members": org.team_members(team=team),
            "events": timeline(team),
        },
    )


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip() or None
    team = int_param(request.GET.get("team"))
    position = request.GET.get("position") or None
    page = org.staff_list(actor=request.user, team=team, position=position, q=q, cursor=request.GET.get("cursor"))
    return render_page_or_partial(
        request,
        "web/staff.html",
        "results",
        {
            "page": page,
            "q": q or "",
            "teams": org.team_list(actor=request.user),
            "team": team,
            "positions": Position.choices,
            "position": position or "",
        },
    )


@login_required
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    member = org.staff_get(actor=request.user, staff_id=staff_id)
    events = timeline(member)
    if not org.pay_visible(request.user, member):  # the salary never leaks through the history
        for event in events:
            for part in (event.before, event.after, event.data):
                if isinstance(part, dict):
                    part.pop("base_salary", None)
    return render(request, "web/staff_detail.html", {"member": member, "events": events})


# --- imports ----------------------------------------------------------------------------------


def _import_runs(request: HttpRequest) -> Any:
    return core_selectors.import_runs(actor=request.user, everyone=has_capability(request.user, "org.manage"))


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    require_capability(request, "orders.import")
    shops = org.shop_list(actor=request.user)
    form = UploadForm(
        request.POST or None, request.FILES or None, shops=shops, allow_staff=has_capability(request.user, "org.manage")
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if form.cleaned_data["kind"] == "orders" and upload.size > settings.KEFU_IMPORT_ASYNC_BYTES:
            shop = org.access_shop_by_id(request.user, form.cleaned_data["shop"])
            _queue_orders_import(request, shop, upload)
            messages.success(
                request,
                _(
                    "The file is large: it is being imported in the background. "
                    "Its result will appear in the import history."
                ),
            )
            return redirect("web:imports")
        data = upload.read()
        try:
            if form.cleaned_data["kind"] == "staff":
                summary = staff_import(actor=request.user, data=data, file_name=upload.name)
            elif form.cleaned_data["kind"] == "attendance":
                require_capability(request, "attendance.import")
                summary = attendance_import(actor=request.user, data=data, file_name=upload.name)
            else:
                shop = org.access_shop_by_id(request.user, form.cleaned_data["shop"])
                summary = orders_import(actor=request.user, shop=shop, data=data, file_name=upload.name)
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            if summary.failed:
                messages.warning(
                    request, _("Imported with %(n)d bad rows; see the list below.") % {"n": len(summary.failed)}
                )
            else:
                messages.success(request, _("Import finished."))
            return redirect("web:import_detail", run_id=summary.run_id)
    page = keyset_page(_import_runs(request), key="started_at", cursor=request.GET.get("cursor"), limit=30)
    return render(request, "web/imports.html", {"form": form, "page": page})


def _queue_orders_import(request: HttpRequest, shop: Shop, upload: Any) -> None:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"  # never the client's name
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    orders_import_task(shop.pk, str(target), upload.name[:255], request.user.pk)


@login_required
def import_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _import_runs(request).filter(pk=run_id).first()
    if run is None:
        raise Http404("not found")
    return render(request, "web/import_detail.html", {"run": run})


# --- policy -----------------------------------------------------------------------------------


@login_required
def policy(request: HttpRequest) -> HttpResponse:
    on = date_param(request.GET.get("on"))
    in_force = policy_in_force(on)
    return render(
        request,
        "web/policy.html",
        {
            "policy": in_force,
            "doc": in_force.document,
            "versions": policy_versions(),
            "on": on,
            "can_change": has_capability(request.user, "policy.change"),
            "freight": [
                (row["amount"], "、".join(row["provinces"])) for row in in_force.document["aftersales"]["freight"]
            ],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    require_capability(request, "policy.change")
    current = policy_in_force()
    form = PolicyForm(request.POST or None, initial={"text": handbook.dump_toml(current.document)})
    problems: list[str] = []
    fields = policy_fields.field_rows(current.document)
    if request.method == "POST" and request.POST.get("mode") == "fields":
        # The single-value form: apply the posted values to the version in force, validate, save.
        fields = policy_fields.field_rows(policy_fields.apply_fields(current.document, request.POST))
        effective = date_param(request.POST.get("effective_from"))
        if effective is None:
            problems = [_("Choose the date the new version takes effect.")]
        else:
            try:
                version = policy_save(
                    actor=request.user,
                    effective_from=effective,
                    document=policy_fields.apply_fields(current.document, request.POST),
                    note=request.POST.get("note", "")[:300],
                )
            except ApplicationError as exc:
                problems = list(exc.details or [exc.message])
            else:
                messages.success(request, _("Policy version %(v)d saved.") % {"v": version.version})
                return redirect("web:policy")
    elif request.method == "POST" and form.is_valid():
        try:
            document = handbook.parse_toml(form.cleaned_data["text"])
            version = policy_save(
                actor=request.user,
                document=document,
                effective_from=form.cleaned_data["effective_from"],
                note=form.cleaned_data["note"],
            )
        except ValueError as exc:
            problems = [str(exc)]
        except ApplicationError as exc:
            problems = list(exc.details or [exc.message])
        else:
            messages.success(request, _("Policy version %(v)d saved.") % {"v": version.version})
            return redirect("web:policy")
    return render(
        request,
        "web/policy_new.html",
        {
            "form": form,
            "current": current,
            "problems": problems,
            "fields": fields,
            "effective": request.POST.get("effective_from") or clock.today().isoformat(),
        },
        status=400 if problems else 200,
    )


# --- audit and tokens -------------------------------------------------------------------------


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    require_capability(request, "audit.view")
    verb = request.GET.get("verb", "").strip()[:64]
    qs = core_selectors.audit_events(verb=verb)
    page = keyset_page(qs, key="at", cursor=request.GET.get("cursor"), limit=50)
    return render_page_or_partial(request, "web/audit.html", "results", {"page": page, "verb": verb})


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    secret = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            token = org.access_own_token_by_id(request.user, int_param(request.POST["revoke"]))
            token_revoke(actor=request.user, token=token)
            messages.success(request, _("Token revoked."))
            return redirect("web:tokens")
        try:
            secret = token_create(
                actor=request.user,
                user=request.user,
                name=request.POST.get("name", "")[:100],
                expires_in_days=int_param(request.POST.get("expires_in_days")),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
    own = org.api_tokens_of(request.user)
    return render(request, "web/tokens.html", {"tokens": own, "secret": secret})
