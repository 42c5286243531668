"""Field-service pages: the work-order inbox, intake, a request's page (evaluation, appointment, the
visit, parts, the customer's signature, settlement) and a technician's day on a phone."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.core.params import DayField, MomentField, day_query, int_param
from kefu.core.policy_store import policy_in_force
from kefu.org import selectors as org
from kefu.org.permissions import has_capability, holders
from kefu.policies import money, warranty
from kefu.web.http import (
    EXPORT_CAP,
    FormOnce,
    form_post,
    form_token,
    local_time,
    require_capability,
    xlsx_download,
)
from kefu.workflow import selectors as workflow

from . import selectors, services
from .models import Billing, Channel, Part, PartKind, ProofKind, RequestCategory


class IntakeForm(forms.Form):
    shop = forms.TypedChoiceField(label=gettext_lazy("Shop"), coerce=int)
    channel = forms.ChoiceField(label=gettext_lazy("Received by"), choices=Channel.choices)
    contact_name = forms.CharField(label=gettext_lazy("Contact"), max_length=64)
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32)
    address = forms.CharField(label=gettext_lazy("Service address"), max_length=200, required=False)
    product = forms.CharField(label=gettext_lazy("Product"), max_length=120)
    serial_no = forms.CharField(label=gettext_lazy("Serial no."), max_length=64, required=False)
    part = forms.ChoiceField(label=gettext_lazy("What failed"), choices=PartKind.choices)
    purchase_date = DayField(label=gettext_lazy("Purchase date"))
    purchase_channel = forms.CharField(label=gettext_lazy("Bought through"), max_length=64, required=False)
    fault = forms.CharField(label=gettext_lazy("Fault"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    # R-SVC-9: the proof of purchase (003 提供购买凭证和产品序列号)
    proof_kind = forms.ChoiceField(
        label=gettext_lazy("Proof of purchase"), choices=[("", "—"), *ProofKind.choices], required=False
    )
    proof_ref = forms.CharField(label=gettext_lazy("Proof no."), max_length=64, required=False)

    def __init__(self, *args: Any, shops: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shop"].choices = [(s.pk, s.name) for s in shops]  # type: ignore[attr-defined]


class AppointmentForm(forms.Form):
    technician = forms.TypedChoiceField(label=gettext_lazy("Technician"), coerce=int)
    at = MomentField(label=gettext_lazy("Appointment"))
    reason = forms.CharField(max_length=200, required=False)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    if category not in RequestCategory.values:
        category = ""
    filters = selectors.RequestFilters(
        category=category,
        technician=int_param(request.GET.get("technician")),
        shop=int_param(request.GET.get("shop")),
        q=request.GET.get("q", "").strip()[:64],
        overdue=request.GET.get("overdue") == "1",
    )
    if request.GET.get("format") == "xlsx":
        return _requests_xlsx(request, filters)
    rows = selectors.inbox(actor=request.user, filters=filters)
    tz = clock.local_tz()

    def moment(value: Any) -> str:
        return f"{value.astimezone(tz):%m-%d %H:%M}" if value else "—"

    # the rows' cells made here once (the page renders 50 rows: template filters per cell cost more)
    cells = [
        {
            "pk": r["id"],
            "number": r["number"],
            "shop": r["shop__name"],
            "contact": r["contact_name"],
            "product": r["product"],
            "technician": r["technician__name"] or "—",
            "appointment": moment(r["appointment_at"]),
            "arrived": moment(r["on_site_at"]) if r["on_site_at"] else "",
            "due": moment(r["sla_due_at"]),
            "late": r["breached"] and not r["on_site_at"],
            "breached": r["breached"],
            "status": r["status__name"],
            "replacement_due": r["replacement_due"],
        }
        for r in rows
    ]
    return render(
        request,
        "service/inbox.html",
        {
            "rows": cells,
            "request_base": reverse("service:inbox"),
            "categories": RequestCategory.choices,
            "technicians": selectors.technicians(actor=request.user),
            "shops": org.shop_choices(actor=request.user),
            "f": request.GET,
            "can_intake": has_capability(request.user, "service.intake"),
        },
    )


def _requests_xlsx(request: HttpRequest, filters: selectors.RequestFilters) -> HttpResponse:
    """The filtered work orders as XLSX: the same filters and scope as the page, labels not codes."""
    rows = (
        (
            r.number,
            r.shop.name,
            r.get_kind_display(),
            r.get_channel_display(),
            r.contact_name,
            r.contact_phone,
            r.product,
            r.serial_no,
            r.status.name,
            r.technician.name if r.technician else "",
            local_time(r.opened_at),
            local_time(r.appointment_at),
            local_time(r.on_site_at),
            _("Yes") if r.breached else "",
            r.get_charge_display() if r.charge else "",
            r.amount_due if r.settled_at else "",
        )
        for r in selectors.inbox_export(actor=request.user, filters=filters, cap=EXPORT_CAP)
    )
    headers = [
        _("Request no."), _("Shop"), _("Service item"), _("Received by"), _("Contact"), _("Phone"), _("Product"),
        _("Serial no."), _("Status"), _("Technician"), _("Received"), _("Appointment"), _("Arrived on site"),
        _("Past the on-site deadline"), _("Charge"), _("Amount due"),
    ]  # fmt: skip
    return xlsx_download(f"service-requests-{clock.today():%Y%m%d}.xlsx", _("Service requests"), headers, rows)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    require_capability(request, "service.intake")
    shops = org.shop_list(actor=request.user)
    form = IntakeForm(request.POST or None, shops=shops)
    if request.method == "POST":
        once = FormOnce(request, fallback=reverse("service:inbox"))
        if once.repeated:  # the same form posted again (a double click): what the first post made
            return redirect(once.repeated)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.request_create(
                    actor=request.user,
                    shop=org.access_shop_by_id(request.user, data.pop("shop")),
                    **data,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Service request %(number)s created.") % {"number": item.number})
                once.done(reverse("service:request", args=[item.pk]))
                return redirect("service:request", service_id=item.pk)
        once.failed()
    return render(
        request, "service/new.html", {"form": form, "form_token": form_token()}, status=400 if form.errors else 200
    )


@login_required
def request_page(request: HttpRequest, service_id: int) -> HttpResponse:
    item = selectors.request_get(actor=request.user, request_id=service_id)
    techs = selectors.technicians(actor=request.user)
    load = selectors.technician_load([t.pk for t in techs])
    reasons = selectors.warranty_labels()
    return render(
        request,
        "service/request.html",
        {
            "item": item,
            "explanation": selectors.verdict_explanation(item),
            "replacement": selectors.replacement_of(item),
            "verdict_reasons": [reasons.get(code, code) for code in item.verdict.get("paid_reasons", [])],
            "causes": [(code, _(text)) for code, text in warranty.CAUSES.items()],
            "technicians": [(t, load.get(t.pk, 0)) for t in techs],
            "appointment_form": AppointmentForm(),
            "steps": workflow.checklist(item),
            "parts": selectors.issued_parts(item),
            "stock": selectors.parts_in_stock(),
            "events": timeline(item),
            "navigation": selectors.navigation_url(item.address),
            "can_dispatch": has_capability(request.user, "service.dispatch"),
            "can_visit": has_capability(request.user, "service.visit"),
            "can_settle": has_capability(request.user, "service.settle"),
            "can_intake": has_capability(request.user, "service.intake"),
            "fault_causes": selectors.fault_causes(),
            "site_findings": services.SITE_FINDINGS,
            "referral": warranty.referral(policy_in_force().document, item.address),
            "idempotency_key": uuid.uuid4().hex,
        },
    )


def _act(request: HttpRequest, service_id: int, run: Any) -> HttpResponse:
    """Run one write on the request; a refusal becomes a message on the request's page."""
    item = selectors.request_get(actor=request.user, request_id=service_id)
    back = redirect("service:day") if request.POST.get("back") == "day" else redirect("service:request", item.pk)
    return form_post(request, lambda: run(item), then=back)


@login_required
@require_POST
def request_evaluate(request: HttpRequest, service_id: int) -> HttpResponse:
    raw = (request.POST.get("agreement_months") or "").strip()
    months = int_param(raw)
    if raw and months is None:
        selectors.request_get(actor=request.user, request_id=service_id)
        messages.error(request, _("The agreement's months must be from 1 to 1200."))
        return redirect("service:request", service_id=service_id)
    causes = request.POST.getlist("causes")
    return _act(
        request,
        service_id,
        lambda item: services.request_evaluate(actor=request.user, item=item, causes=causes, agreement_months=months),
    )


@login_required
@require_POST
def request_appoint(request: HttpRequest, service_id: int) -> HttpResponse:
    selectors.request_get(actor=request.user, request_id=service_id)  # 404 outside scope, before the form
    technicians = {t.pk: t for t in selectors.technicians(actor=request.user)}
    form = AppointmentForm(request.POST)
    form.fields["technician"].choices = [(t.pk, t.name) for t in technicians.values()]  # type: ignore[attr-defined]
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("service:request", service_id=service_id)
    tech = technicians[form.cleaned_data["technician"]]
    return _act(
        request,
        service_id,
        lambda item: services.appointment_set(
            actor=request.user,
            item=item,
            technician=tech,
            at=form.cleaned_data["at"],
            reason=form.cleaned_data["reason"],
        ),
    )


@login_required
@require_POST
def request_arrive(request: HttpRequest, service_id: int) -> HttpResponse:
    return _act(request, service_id, lambda item: services.visit_arrive(actor=request.user, item=item))


@login_required
@require_POST
def request_diagnose(request: HttpRequest, service_id: int) -> HttpResponse:
    return _act(
        request,
        service_id,
        lambda item: services.visit_diagnose(
            actor=request.user,
            item=item,
            diagnosis=request.POST.get("diagnosis", ""),
            parts_consent=request.POST.get("consent") == "1",
            fault_cause=request.POST.get("fault_cause", ""),
            findings=request.POST.getlist("findings")[:10],
        ),
    )


@login_required
@require_POST
def request_step(request: HttpRequest, service_id: int) -> HttpResponse:
    """Tick a step of the visit checklist; with htmx only the step is answered (no reload, no jump)."""
    code, done = request.POST.get("step", ""), request.POST.get("done") == "1"
    if not getattr(request, "htmx", None):
        return _act(
            request, service_id, lambda item: services.visit_step(actor=request.user, item=item, code=code, done=done)
        )
    item = selectors.request_get(actor=request.user, request_id=service_id)
    return form_post(
        request,
        lambda: services.visit_step(actor=request.user, item=item, code=code, done=done),
        then=lambda ticked: _step_ticked(request, ticked, code),
        failed=lambda: redirect("service:request", item.pk),
    )


def _step_ticked(request: HttpRequest, item: Any, code: str) -> HttpResponse:
    label = next((lab for c, lab, _state in workflow.checklist(item) if c == code), code)
    return render(
        request,
        "service/request.html#step",
        {"item": item, "code": code, "label": label, "state": item.checklist.get(code), "can_visit": True},
    )


def _part(request: HttpRequest) -> Part:
    part = selectors.part_by_id(int_param(request.POST.get("part")))
    if part is None:
        raise ApplicationError("stock", _("Choose a part."))
    return part


def _count(request: HttpRequest) -> int:
    n = int_param(request.POST.get("quantity"))
    return n if n is not None else 0


@login_required
@require_POST
def request_parts(request: HttpRequest, service_id: int) -> HttpResponse:
    def run(item: Any) -> None:
        part = _part(request)
        if request.POST.get("action") == "return":
            services.parts_return(actor=request.user, item=item, part=part, quantity=_count(request))
        else:
            key = (request.POST.get("idempotency_key") or "")[:64] or None
            services.parts_issue(actor=request.user, item=item, part=part, quantity=_count(request), key=key)

    return _act(request, service_id, run)


@login_required
@require_POST
def request_sign(request: HttpRequest, service_id: int) -> HttpResponse:
    return _act(
        request,
        service_id,
        lambda item: services.report_sign(
            actor=request.user,
            item=item,
            signed_by=request.POST.get("signed_by", ""),
            signature=request.POST.get("signature", ""),
        ),
    )


def _amount(text: str | None) -> Decimal:
    """An amount typed into the form (blank is 0), read as every money form reads it."""
    value = money.parse(text) if (text or "").strip() else Decimal(0)
    if value is None:
        raise ApplicationError("amount", _("Enter an amount such as 80.00."))
    return value + 0  # -0 is 0


@login_required
@require_POST
def request_settle(request: HttpRequest, service_id: int) -> HttpResponse:
    def run(item: Any) -> None:
        services.request_settle(
            actor=request.user,
            item=item,
            labour=_amount(request.POST.get("labour")),
            discount_percent=_amount(request.POST.get("discount_percent")),
        )

    return _act(request, service_id, run)


@login_required
def day(request: HttpRequest) -> HttpResponse:
    """A technician's day: their visits in order, each with its navigation link (on a phone)."""
    me = org.staff_of(request.user)
    when = day_query(request.GET.get("date")) or clock.today()
    techs = selectors.technicians(actor=request.user)
    tech_id = int_param(request.GET.get("technician"))
    attends = me is not None and me.position in holders("service.attend")
    tech = me if attends else next((t for t in techs if t.pk == tech_id), None)
    visits = selectors.day_visits(actor=request.user, technician=tech, day=when) if tech else []
    return render(
        request,
        "service/day.html",
        {
            "tech": tech,
            "technicians": [] if attends else techs,
            "day": when,
            "visits": [(v, selectors.navigation_url(v.address)) for v in visits],
        },
    )


@login_required
@require_POST
def request_visit(request: HttpRequest, service_id: int) -> HttpResponse:
    """The return visit after the settlement (satisfaction and what the customer said)."""
    return _act(
        request,
        service_id,
        lambda item: services.request_return_visit(
            actor=request.user,
            item=item,
            satisfaction=int_param(request.POST.get("satisfaction")) or 0,
            notes=request.POST.get("notes", ""),
        ),
    )


@login_required
def request_report(request: HttpRequest, service_id: int) -> HttpResponse:
    """The signed customer service report as a PDF (after the customer has signed)."""
    from .report import report_pdf

    item = selectors.request_get(actor=request.user, request_id=service_id)
    if not item.signed_at:
        raise Http404("not signed yet")
    data = report_pdf(item, selectors.issued_parts(item), selectors.verdict_explanation(item))
    response = HttpResponse(data, content_type="application/pdf")
    # a download (a phone's browser otherwise replaces the app's page with the PDF)
    response["Content-Disposition"] = f'attachment; filename="{item.number}.pdf"'
    return response


@login_required
def request_receipt(request: HttpRequest, service_id: int) -> HttpResponse:
    """R-SVC-9: the receipt of a paid repair, as a download."""
    from .report import receipt_pdf

    item = selectors.request_get(actor=request.user, request_id=service_id)
    if not item.receipt_no:
        raise Http404("no receipt")
    response = HttpResponse(receipt_pdf(item), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{item.receipt_no}.pdf"'
    return response


@login_required
@require_POST
def request_bring_in(request: HttpRequest, service_id: int) -> HttpResponse:
    do = request.POST.get("do", "in")
    if do == "back":
        return _act(request, service_id, lambda item: services.bring_back(actor=request.user, item=item))
    if do == "loaner_back":
        return _act(request, service_id, lambda item: services.loaner_return(actor=request.user, item=item))
    return _act(
        request,
        service_id,
        lambda item: services.bring_in(
            actor=request.user, item=item, taken=request.POST.get("taken", ""), loaner=request.POST.get("loaner", "")
        ),
    )


@login_required
@require_POST
def request_refer(request: HttpRequest, service_id: int) -> HttpResponse:
    if request.POST.get("do") == "follow_up":
        return _act(
            request,
            service_id,
            lambda item: services.referral_follow_up(
                actor=request.user, item=item, outcome=request.POST.get("outcome", "")
            ),
        )
    return _act(request, service_id, lambda item: services.request_refer(actor=request.user, item=item))


class AgreementForm(forms.Form):
    shop = forms.TypedChoiceField(label=gettext_lazy("Shop"), coerce=int)
    customer_name = forms.CharField(label=gettext_lazy("Customer"), max_length=100)
    contact_name = forms.CharField(label=gettext_lazy("Contact"), max_length=64)
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32)
    address = forms.CharField(label=gettext_lazy("Service address"), max_length=200, required=False)
    products = forms.CharField(
        label=gettext_lazy("Covered products (one per line: product, serial no.)"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    starts_on = DayField(label=gettext_lazy("Starts"))
    ends_on = DayField(label=gettext_lazy("Ends"))
    fee = forms.DecimalField(
        label=gettext_lazy("Fee (¥)"), min_value=Decimal(0), max_value=money.PRICE_MAX, decimal_places=2
    )
    billing = forms.ChoiceField(label=gettext_lazy("Billing"), choices=Billing.choices)
    parts_discount = forms.DecimalField(
        label=gettext_lazy("Discount on parts (%)"), min_value=0, max_value=100, decimal_places=2, initial=0
    )
    labour_discount = forms.DecimalField(
        label=gettext_lazy("Discount on labour (%)"), min_value=0, max_value=100, decimal_places=2, initial=0
    )
    warranty_months = forms.IntegerField(
        label=gettext_lazy("Warranty (months)"), min_value=1, max_value=1200, required=False
    )

    def __init__(self, *args: Any, shops: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shop"].choices = [(s.pk, s.name) for s in shops]  # type: ignore[attr-defined]

    def clean_products(self) -> list[dict[str, str]]:
        rows = []
        for text in self.cleaned_data["products"].splitlines():
            product, _sep, serial = text.replace("，", ",").partition(",")
            if product.strip():
                rows.append({"product": product.strip(), "serial_no": serial.strip()})
        if not rows:
            raise forms.ValidationError(_("Name at least one covered product."))
        return rows


@login_required
@require_http_methods(["GET", "POST"])
def agreements(request: HttpRequest) -> HttpResponse:
    shops = org.shop_list(actor=request.user)
    can_create = has_capability(request.user, "agreements.manage")
    form = AgreementForm(request.POST or None, shops=shops)
    if request.method == "POST":
        require_capability(request, "agreements.manage")
        if form.is_valid():
            data = form.cleaned_data
            try:
                agreement = services.agreement_create(
                    actor=request.user, shop=org.access_shop_by_id(request.user, data.pop("shop")), **data
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Agreement %(number)s signed.") % {"number": agreement.number})
                return redirect("service:agreement", agreement_id=agreement.pk)
    return render(
        request,
        "service/agreements.html",
        {"rows": selectors.agreements(actor=request.user), "form": form, "can_create": can_create},
        status=400 if form.errors else 200,
    )


@login_required
def agreement_page(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = selectors.agreement_get(actor=request.user, agreement_id=agreement_id)
    return render(
        request,
        "service/agreement.html",
        {
            "a": agreement,
            "bills": list(agreement.bills.all()),
            "plan": list(agreement.plan.select_related("request").all()),
            # only the work orders the reader may open (a technician: their own visits)
            "requests": selectors.agreement_requests(actor=request.user, agreement=agreement),
            "visible": selectors.visible_request_ids(
                actor=request.user, ids=[p.request_id for p in agreement.plan.all() if p.request_id]
            ),
            "events": timeline(agreement),
            "can_dispatch": has_capability(request.user, "service.dispatch"),
            "can_settle": has_capability(request.user, "agreements.manage"),
        },
    )


@login_required
@require_POST
def plan_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = selectors.plan_item_get(actor=request.user, item_id=item_id)
    back = redirect("service:agreement", agreement_id=item.agreement_id)
    if request.POST.get("do") == "release":
        return form_post(
            request,
            lambda: services.plan_release(actor=request.user, item=item),
            then=back,
            done=lambda work: _("Work order %(number)s released.") % {"number": work.number},
        )
    return form_post(
        request,
        lambda: services.plan_decide(actor=request.user, item=item, state=request.POST.get("state", "")),
        then=back,
    )


@login_required
@require_POST
def bill_paid(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = selectors.bill_get(actor=request.user, bill_id=bill_id)
    return form_post(
        request,
        lambda: services.bill_pay(actor=request.user, bill=bill),
        then=redirect("service:agreement", agreement_id=bill.agreement_id),
    )


@login_required
@require_http_methods(["GET", "POST"])
def parts(request: HttpRequest) -> HttpResponse:
    """The spare-parts catalogue with stock; the supervisor adds parts and receives stock."""
    if request.method == "POST":
        require_capability(request, "stock.receive")

        def save() -> Any:
            if request.POST.get("do") == "create":
                return services.part_create(
                    actor=request.user,
                    code=request.POST.get("code", ""),
                    name=request.POST.get("name", ""),
                    price=_amount(request.POST.get("price")),
                )
            return services.stock_receive(
                actor=request.user,
                part=_part(request),
                quantity=_count(request),
                note=request.POST.get("note", ""),
                key=(request.POST.get("idempotency_key") or "")[:64] or None,
            )

        return form_post(request, save, then=redirect("service:parts"))
    return render(
        request,
        "service/parts.html",
        {
            "parts": selectors.parts_in_stock(),
            "can_receive": has_capability(request.user, "stock.receive"),
            "idempotency_key": uuid.uuid4().hex,
        },
    )
