"""Thin views for after-sales: inbox, case page and its actions, refund queue, claims, reviews, weekly report."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from kefu.commerce.selectors import access_order_by_id, find_order_by_no
from kefu.core import clock, wording
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.core.params import amount_param, day_query, int_param
from kefu.org import selectors as org
from kefu.org.models import Position
from kefu.org.permissions import has_capability
from kefu.policies import money
from kefu.policies.aftersales import playbook
from kefu.web.http import (
    EXPORT_CAP,
    FormOnce,
    form_post,
    form_token,
    local_time,
    redirect_next,
    render_page_or_partial,
    require_capability,
    row_url_base,
    xlsx_download,
)
from kefu.workflow import selectors as workflow
from kefu.workflow.attachments import download_name

from . import selectors, services
from .models import Case, CaseType, Category, ClaimStatus, EvidenceKind, MoneyKind, MoneyStatus, Responsibility
from .report import report_xlsx

REQUEST_KINDS = [
    ("return_no_reason", gettext_lazy("No-reason return (7 days)")),
    ("return_quality", gettext_lazy("Return for quality (30 days)")),
    ("exchange", gettext_lazy("Exchange (90 days)")),
]


def _fact_choices() -> dict[str, list[tuple[str, Any]]]:
    from kefu.imports.address import PROVINCES
    from kefu.policies.aftersales import COURIER_CLASSES

    return {
        "province": [(p, p) for p in PROVINCES],
        "request_kind": list(REQUEST_KINDS),
        "courier_class": [(code, _(label)) for code, (label, _steps) in COURIER_CLASSES.items()],
        "buyer_stance": [
            ("accepts", _("Accepts the offer")),
            ("declines", _("Declines the offer")),
            ("insists", _("Insists on a return or exchange")),
        ],
    }


FACT_FIELDS = [
    ("province", gettext_lazy("Province"), "choice"),
    ("line_value", gettext_lazy("Affected value"), "money"),
    ("line_cost", gettext_lazy("Our cost price"), "money"),
    ("wrong_item_value", gettext_lazy("Value of the wrong item"), "money"),
    ("shipped_matches_order", gettext_lazy("Shipped item matches the order"), "bool"),
    ("received_date", gettext_lazy("Received on"), "date"),
    ("request_date", gettext_lazy("Requested on"), "date"),
    ("request_kind", gettext_lazy("Request"), "choice"),
    ("buyer_pays_freight", gettext_lazy("Buyer will pay the freight"), "bool"),
    ("misuse", gettext_lazy("Misuse found"), "bool"),
    ("remark_ok", gettext_lazy("Order remark present and right"), "bool"),
    ("warehouse_error", gettext_lazy("Warehouse error"), "bool"),
    ("seized", gettext_lazy("Seized by security"), "bool"),
    ("at_fault", gettext_lazy("We are at fault"), "bool"),
    ("buyer_stance", gettext_lazy("Buyer's answer to the exchange or price-difference offer"), "choice"),
    ("courier_class", gettext_lazy("Courier query class"), "choice"),
]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    g = request.GET
    mine = g.get("mine") == "1"
    staff_id = org.my_staff_id(request.user)
    filters = selectors.CaseFilters(
        case_type=g.get("type") or None,
        category=g.get("category") or None,
        shop=int_param(g.get("shop")),
        owner=staff_id if mine else None,
        active_only=g.get("all") != "1",
        overdue=g.get("overdue") == "1",
        escalated=g.get("escalated") == "1",
        q=g.get("q") or None,
    )
    if g.get("export") == "xlsx":
        return _cases_xlsx(request, filters)
    page = selectors.case_rows(actor=request.user, filters=filters, cursor=g.get("cursor"))
    query = g.copy()
    query.pop("cursor", None)
    type_labels = wording.choice_labels(CaseType)
    ctx = {
        "page": page,
        "f": g,
        "types": list(type_labels.items()),
        "type_labels": type_labels,
        "case_number": Case.number_for,
        "categories": Category.choices,
        "shops": org.shop_choices(actor=request.user),
        "query": query.urlencode(),
        "case_base": row_url_base("aftersales:case"),
    }
    return render_page_or_partial(request, "aftersales/inbox.html", "results", ctx)


def _cases_xlsx(request: HttpRequest, filters: selectors.CaseFilters) -> HttpResponse:
    """The filtered inbox as XLSX: the same filters and scope as the page, labels not codes."""
    rows = (
        (
            c.number,
            c.get_case_type_display(),
            c.shop.name,
            c.order.order_no if c.order else "",
            c.buyer_nick,
            c.status.name,
            c.status.category_label,
            c.owner.name if c.owner else "",
            c.get_responsibility_display(),
            local_time(c.opened_at),
            local_time(c.sla_due_at),
            local_time(c.platform_deadline),
            _("Yes") if c.breached else "",
            c.summary,
        )
        for c in selectors.case_export(actor=request.user, filters=filters, cap=EXPORT_CAP)
    )
    headers = [
        _("Case"), _("Type"), _("Shop"), _("Order no."), _("Buyer"), _("Status"),
        pgettext("status", "Category"), _("Owner"),
        _("Responsibility"), _("Opened at"), _("SLA due"), _("Platform deadline"), _("Deadline missed"), _("Summary"),
    ]  # fmt: skip
    return xlsx_download(f"cases-{clock.today():%Y%m%d}.xlsx", _("After-sales cases"), headers, rows)


def _facts_from_post(post: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key, _label, kind in FACT_FIELDS:
        value = post.get(key, "").strip()
        if kind == "bool":
            if value in {"yes", "no"}:
                facts[key] = value == "yes"
        elif value and kind == "money":
            amount = money.parse(value)  # "¥1,250.00" is the amount it says; anything else is refused as typed
            facts[key] = str(amount) if amount is not None else value
        elif value:
            facts[key] = value
    return facts


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    order = None
    if request.GET.get("order") or request.POST.get("order"):
        order = access_order_by_id(request.user, int_param(request.GET.get("order") or request.POST.get("order")))
    if request.method == "POST":
        once = FormOnce(request, fallback=reverse("aftersales:inbox"))
        if once.repeated:  # the same form posted again: what the first post made
            return redirect(once.repeated)
        shop = None
        if order is None:
            shop_id = int_param(request.POST.get("shop"))
            shop = org.access_shop_by_id(request.user, shop_id) if shop_id else None

        def open_case() -> Case:
            if not request.POST.get("summary", "").strip():
                raise ApplicationError("validation_error", _("Write a short summary of the buyer's problem."))
            return services.case_open(
                actor=request.user,
                case_type=request.POST.get("case_type", ""),
                order=order,
                shop=shop,
                buyer_nick=request.POST.get("buyer_nick", ""),
                facts=_facts_from_post(request.POST),
                summary=request.POST.get("summary", ""),
                reason=request.POST.get("reason", ""),
                conversation_ref=_conversation_ref(request, order, shop),
            )

        def opened(case: Case) -> HttpResponse:
            once.done(reverse("aftersales:case", args=[case.pk]))
            return redirect("aftersales:case", case_id=case.pk)

        def refused() -> HttpResponse:
            once.failed()
            return _new_form(request, order)

        return form_post(
            request,
            open_case,
            then=opened,
            done=lambda case: _("Case %(n)s opened.") % {"n": case.number},
            failed=refused,
        )
    return _new_form(request, order)


def _new_form(request: HttpRequest, order: Any) -> HttpResponse:
    return render(
        request,
        "aftersales/new.html",
        {
            "order": order,
            "types": CaseType.choices,
            "shops": org.shop_list(actor=request.user),
            "fact_fields": [(k, label, kind, None, _fact_choices().get(k, [])) for k, label, kind in FACT_FIELDS],
            "posted": request.POST,
            "form_token": form_token(),
            "selected": request.GET.get("type", ""),
            # from a conversation: its shop and buyer filled in, and the link kept (issue 18)
            "initial": {
                "shop": int_param(request.GET.get("shop")),
                "buyer_nick": (request.GET.get("buyer_nick") or "")[:100],
                "conversation": int_param(request.GET.get("conversation")),
            },
        },
    )


def _conversation_ref(request: HttpRequest, order: Any, shop: Any) -> int | None:
    """The conversation the case is opened from, when it is the same shop's and in the actor's scope
    (an id from the form is never trusted alone)."""
    from kefu.core import plugins

    ref = int_param(request.POST.get("conversation"))
    if not ref:
        return None
    shop_id = order.shop_id if order is not None else getattr(shop, "pk", None)
    return ref if plugins.conversation_shop(request.user, ref) == shop_id else None


CLAIM_TYPES = frozenset({CaseType.LOST_PARCEL, CaseType.LOGISTICS_EXCEPTION})  # R-AS-9: a courier claim


@login_required
def case_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get(actor=request.user, case_id=case_id)
    decision = services.case_decision(case)
    choices = _fact_choices()
    money = list(case.money.all())
    names = wording.names_of(u for m in money for u in (m.created_by_id, m.decided_by_id) if u is not None)
    for m in money:
        m.created_by_name = names.get(m.created_by_id, "") if m.created_by_id else ""
        m.decided_by_name = names.get(m.decided_by_id, "") if m.decided_by_id else ""
    awaits = {
        p.code
        for p in decision.proposals
        if p.cost > 0 and services.RESOLUTION_MONEY.get(p.code) in services.REFUND_KINDS
    }
    statuses = workflow.transition_choices(case)
    steps = workflow.checklist(case)
    taker = services.responsible_agent(case)
    return render(
        request,
        "aftersales/case.html",
        {
            "case": case,
            "money": money,
            "awaits_approval": awaits,
            "decision": decision,
            "statuses": statuses,
            "steps": steps,
            "events": timeline(case),
            "fact_fields": [(k, label, kind, case.facts.get(k), choices.get(k, [])) for k, label, kind in FACT_FIELDS],
            "responsibilities": Responsibility.choices,
            "evidence_kinds": EvidenceKind.choices,
            "money_kinds": MoneyKind.choices,
            # the claim is asked for only where the page shows it (a lost or stuck parcel)
            "claim": getattr(case, "claim", None) if case.case_type in CLAIM_TYPES else None,
            "claim_types": CLAIM_TYPES,
            "labels": {
                "case_type": wording.choice_labels(CaseType),
                "responsibility": wording.choice_labels(Responsibility),
                "money_kind": wording.choice_labels(MoneyKind),
                "money_status": wording.choice_labels(MoneyStatus),
                "evidence_kind": wording.choice_labels(EvidenceKind),
                "claim_status": wording.choice_labels(ClaimStatus),
                "position": wording.choice_labels(Position),
            },
            "claim_statuses": ClaimStatus.choices,
            "can_approve": has_capability(request.user, "refund.approve"),
            "idempotency_key": uuid.uuid4().hex,
            "taker": taker,
            "taker_from_remark": taker is not None and taker != case.responsible_staff,
            "agents": org.agents_of_shop(actor=request.user, shop=case.shop),
        },
    )


def _case(request: HttpRequest, case_id: int) -> Case:
    return selectors.case_get(actor=request.user, case_id=case_id)


@login_required
@require_POST
def case_facts(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)

    def save() -> None:
        raw = request.POST.get("platform_deadline", "").strip()
        deadline = None
        if raw:  # read first: a refused deadline saves nothing of the form
            try:
                deadline = clock.make_aware(dt.datetime.fromisoformat(raw))
            except ValueError as exc:
                raise ApplicationError("validation_error", _("Enter a valid deadline.")) from exc
        services.case_update_facts(
            actor=request.user,
            case=case,
            facts=_facts_from_post(request.POST),
            responsibility=request.POST.get("responsibility") or None,
        )
        if deadline is not None and deadline != case.platform_deadline:
            services.case_set_deadline(actor=request.user, case=case, deadline=deadline)

    return form_post(
        request, save, then=redirect("aftersales:case", case_id=case.pk), done=_("Facts saved; proposals updated.")
    )


@login_required
@require_POST
def case_transition(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    status = selectors.case_status_by_id(int_param(request.POST.get("status")))
    return form_post(
        request,
        lambda: services.case_transition(
            actor=request.user, case=case, status=status, note=request.POST.get("note", "")
        ),
        then=redirect("aftersales:case", case_id=case.pk),
    )


@login_required
@require_POST
def case_step(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    code = request.POST.get("step", "")
    return form_post(
        request,
        lambda: services.checklist_toggle(
            actor=request.user, case=case, code=code, done=request.POST.get("done") == "1"
        ),
        then=lambda _case: _step_ticked(request, case, code),
        failed=lambda: redirect("aftersales:case", case_id=case.pk),
    )


def _step_ticked(request: HttpRequest, case: Case, code: str) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    if htmx:
        label = dict(playbook(case.case_type))[code]
        ctx = {"case": case, "code": code, "label": label, "state": case.checklist.get(code)}
        return HttpResponse(render_to_string("aftersales/case_step.html", ctx, request=request, using="jinja2"))
    return redirect("aftersales:case", case_id=case.pk)


@login_required
@require_POST
def case_evidence(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)

    def add() -> None:
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError("validation_error", _("Choose a file."))
        services.evidence_add(
            actor=request.user,
            case=case,
            kind=request.POST.get("kind", "other"),
            name=upload.name or "file",
            data=upload.read(),
            note=request.POST.get("note", ""),
        )

    return form_post(request, add, then=redirect("aftersales:case", case_id=case.pk), done=_("Evidence added."))


@login_required
def evidence_download(request: HttpRequest, evidence_id: int) -> FileResponse:
    """Evidence is served only through this view, inside the scope, as an attachment."""
    evidence = selectors.evidence_get(actor=request.user, evidence_id=evidence_id)
    # The download's name keeps the uploader's stem but takes the extension of the detected type
    # (a "photo.html" that is really a PNG downloads as "photo.png").
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=download_name(evidence.original_name, evidence.content_type, fallback="evidence"),
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@login_required
@require_POST
def case_resolution(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    return form_post(
        request,
        lambda: services.resolution_choose(actor=request.user, case=case, code=request.POST.get("code", "")),
        then=redirect("aftersales:case", case_id=case.pk),
        done=_("Resolution recorded."),
    )


@login_required
@require_POST
def case_money(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    return form_post(
        request,
        lambda: services.money_post(
            actor=request.user,
            case=case,
            kind=request.POST.get("kind", ""),
            amount=amount_param(request.POST.get("amount")),
            note=request.POST.get("note", ""),
            # the form's one-time key: a double click or a resubmitted form posts one line
            idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
        ),
        then=redirect("aftersales:case", case_id=case.pk),
        done=_("Money line added."),
    )


@login_required
@require_POST
def case_responsible(request: HttpRequest, case_id: int) -> HttpResponse:
    """R-AS-8: choose the agent who took the order when the order remark names none."""
    case = _case(request, case_id)
    staff = org.access_staff_by_id(request.user, int_param(request.POST.get("staff")))
    return form_post(
        request,
        lambda: services.case_set_responsible_staff(actor=request.user, case=case, staff=staff),
        then=redirect("aftersales:case", case_id=case.pk),
        done=_("Agent who took the order set."),
    )


@login_required
@require_POST
def case_claim(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    return form_post(
        request,
        lambda: services.claim_open(
            actor=request.user,
            case=case,
            courier=request.POST.get("courier", ""),
            tracking_no=request.POST.get("tracking_no", ""),
        ),
        then=redirect("aftersales:case", case_id=case.pk),
        done=_("Courier claim filed."),
    )


@login_required
def appeal_pack(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    data = services.dispute_pack(actor=request.user, case=case, reason=request.GET.get("reason", ""))
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{case.number}-appeal.zip"'
    return response


@login_required
def refunds(request: HttpRequest) -> HttpResponse:
    require_capability(request, "refund.approve")
    items = selectors.refund_queue(actor=request.user)
    names = wording.names_of(m.created_by_id for m in items if m.created_by_id)
    in_kefu = selectors.order_refunds_in_kefu([m.case.order_id for m in items if m.case.order_id])
    for m in items:
        m.requested_by = names.get(m.created_by_id, "") if m.created_by_id else ""  # type: ignore[attr-defined]
        m.kefu_refunds = in_kefu.get(m.case.order_id or 0, {})  # type: ignore[attr-defined]
    grants = selectors.refund_grants(actor=request.user) if has_capability(request.user, "refund.delegate") else None
    people = selectors.grant_candidates(actor=request.user) if grants is not None else []
    return render(request, "aftersales/refunds.html", {"items": items, "grants": grants, "people": people})


@login_required
@require_POST
def refund_grant(request: HttpRequest) -> HttpResponse:
    """R-AS-7: the supervisor grants (or, with 0, revokes) a person's refund-approval limit."""
    require_capability(request, "refund.delegate")
    staff = org.access_staff_by_id(request.user, request.POST.get("staff"))
    return form_post(
        request,
        lambda: services.refund_grant(
            actor=request.user, staff=staff, limit=amount_param(request.POST.get("limit", ""))
        ),
        then=redirect("aftersales:refunds"),
        done=_("Refund-approval permission of %(name)s recorded.") % {"name": staff.name},
    )


@login_required
@require_POST
def refunds_approve(request: HttpRequest) -> HttpResponse:
    """Approve several refunds at once; each is its own action (one refused line refuses only itself)."""
    require_capability(request, "refund.approve")
    approved, refused = 0, []
    for raw in request.POST.getlist("line")[:200]:
        line = selectors.money_line_get(actor=request.user, line_id=int_param(raw) or 0)
        try:
            services.refund_approve(actor=request.user, line=line)
            approved += 1
        except ApplicationError as exc:
            refused.append(f"{line.case.number}: {exc.message}")
    if approved:
        messages.success(request, _("%(n)d refunds approved.") % {"n": approved})
    for reason in refused:
        messages.error(request, reason)
    if not approved and not refused:
        messages.error(request, _("Tick the refunds to approve."))
    return redirect("aftersales:refunds")


@login_required
@require_POST
def refund_decide(request: HttpRequest, line_id: int) -> HttpResponse:
    line = selectors.money_line_get(actor=request.user, line_id=line_id)
    decision = request.POST.get("decision")

    def decide() -> Any:
        if decision not in {"approve", "reject"}:  # never approve by default
            raise ApplicationError("validation_error", _("Choose Approve or Reject."))
        if decision == "reject":
            return services.refund_reject(actor=request.user, line=line, note=request.POST.get("note", ""))
        return services.refund_approve(actor=request.user, line=line)

    return form_post(request, decide, then=redirect_next(request, "aftersales:refunds"), done=_("Decision recorded."))


@login_required
def claims(request: HttpRequest) -> HttpResponse:
    items = selectors.claims(actor=request.user, open_only=request.GET.get("all") != "1")
    return render(request, "aftersales/claims.html", {"items": items, "statuses": ClaimStatus.choices})


@login_required
@require_POST
def claim_update(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = selectors.claim_get(actor=request.user, claim_id=claim_id)
    return form_post(
        request,
        lambda: services.claim_update(
            actor=request.user,
            claim=claim,
            status=request.POST.get("status", ""),
            recovered=amount_param(request.POST["recovered"]) if request.POST.get("recovered") else None,
            note=request.POST.get("note", ""),
        ),
        then=redirect_next(request, "aftersales:claims"),
        done=_("Claim updated."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def reviews(request: HttpRequest) -> HttpResponse:
    day = day_query(request.GET.get("day")) or clock.today()
    if request.method == "POST":
        shop_id = int_param(request.POST.get("shop"))
        shop = org.access_shop_by_id(request.user, shop_id) if shop_id else None
        order = find_order_by_no(request.user, request.POST.get("order_no", ""), shop_id=shop_id)

        def record() -> Any:
            if shop is None:
                raise ApplicationError("review_shop", _("Choose a shop."))
            return services.review_record(
                actor=request.user,
                shop=shop,
                content=request.POST.get("content", ""),
                rating=int_param(request.POST.get("rating")) or 1,
                buyer_nick=request.POST.get("buyer_nick", ""),
                order=order,
            )

        return form_post(
            request,
            record,
            then=lambda _review: redirect("aftersales:reviews"),
            done=_("Negative review recorded."),
            failed=lambda: _reviews_page(request, day),
        )
    return _reviews_page(request, day)


def _reviews_page(request: HttpRequest, day: dt.date) -> HttpResponse:
    return render(
        request,
        "aftersales/reviews.html",
        {
            "items": selectors.reviews_of_day(actor=request.user, day=day),
            "day": day,
            "shops": org.shop_list(actor=request.user),
        },
    )


@login_required
@require_POST
def review_reply(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get(actor=request.user, review_id=review_id)
    return form_post(
        request,
        lambda: services.review_reply(
            actor=request.user,
            review=review,
            reply=request.POST.get("reply", ""),
            feedback_reason=request.POST.get("feedback_reason", ""),
        ),
        then=redirect("aftersales:reviews"),
        done=_("Reply saved."),
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    monday = day_query(request.GET.get("week")) or today - dt.timedelta(days=today.weekday())  # this week
    monday -= dt.timedelta(days=monday.weekday())
    data = selectors.weekly_report(actor=request.user, monday=monday, shop=int_param(request.GET.get("shop")))
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            report_xlsx(data), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="aftersales-{monday:%Y%m%d}.xlsx"'
        return response
    top = max([row["n"] for row in data["by_type"]] or [1])
    return render(
        request,
        "aftersales/report.html",
        {
            "r": data,
            "top": top,
            "prev": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "shops": org.shop_list(actor=request.user),
            "shop": int_param(request.GET.get("shop")),
            "type_labels": dict(CaseType.choices),
            "resp_labels": dict(Responsibility.choices),
            "money_labels": dict(MoneyKind.choices),
        },
    )


@login_required
@require_POST
def order_chase(request: HttpRequest, order_id: int) -> HttpResponse:
    """R-AS-11: record that the warehouse was chased about this order's shipment."""
    order = access_order_by_id(request.user, order_id)
    services.chase_record(actor=request.user, order=order, note=request.POST.get("note", ""))
    messages.success(request, _("Chase recorded."))
    return redirect("commerce:order_detail", order_id=order.pk)
