"""Customer-care pages: complaints (intake with the suggested emotion, handling steps, resolution),
the supervisor's customer assignment (propose, then confirm), return visits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.core.params import int_param, parse_moment
from kefu.org import selectors as org
from kefu.org.permissions import has_capability
from kefu.web.http import FormOnce, form_post, form_token, require_capability
from kefu.workflow import selectors as workflow

from . import selectors, services
from .models import ComplaintCategory, Emotion, VisitChannel


@login_required
@require_http_methods(["GET", "POST"])
def complaints(request: HttpRequest) -> HttpResponse:
    form: dict[str, Any] = {}
    if request.method == "POST":
        require_capability(request, "care.handle")
        once = FormOnce(request, fallback=reverse("care:complaints"))
        if once.repeated:  # the same form posted again: what the first post made
            return redirect(once.repeated)
        form = request.POST.dict()

        def created(item: Any) -> HttpResponse:
            once.done(reverse("care:complaint", args=[item.pk]))
            return redirect("care:complaint", complaint_id=item.pk)

        def refused() -> HttpResponse:
            once.failed()
            return _complaints_page(request, form)

        return form_post(
            request,
            lambda: services.complaint_create(
                actor=request.user,
                shop=_complaint_shop(request, form.get("shop")),
                contact_name=form.get("contact_name", ""),
                contact_phone=form.get("contact_phone", ""),
                channel=form.get("channel", "phone"),
                text=form.get("text", ""),
                emotion=form.get("emotion", ""),
                buyer_nick=form.get("buyer_nick", ""),
            ),
            then=created,
            failed=refused,
        )
    return _complaints_page(request, form)


def _complaints_page(request: HttpRequest, form: dict[str, Any]) -> HttpResponse:
    category = request.GET.get("category", "")
    return render(
        request,
        "care/complaints.html",
        {
            "rows": selectors.complaints(
                actor=request.user, category=category if category in ComplaintCategory.values else ""
            ),
            "categories": ComplaintCategory.choices,
            "emotions": Emotion.choices,
            "shops": org.shop_list(actor=request.user),
            "form": form,
            "f": request.GET,
            "reasons": selectors.reason_labels(),
            "can_handle": has_capability(request.user, "care.handle"),
            "form_token": form_token(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def complaint_page(request: HttpRequest, complaint_id: int) -> HttpResponse:
    item = selectors.complaint_get(actor=request.user, complaint_id=complaint_id)
    return render(
        request,
        "care/complaint.html",
        {
            "item": item,
            "steps": workflow.checklist(item),
            "reasons": selectors.reason_labels(),
            "events": timeline(item),
            "agents": selectors.agents_in_scope(request.user),
            "channels": VisitChannel.choices,
            "emotions": Emotion.choices,
            "can_handle": has_capability(request.user, "care.handle"),
            "can_assign": has_capability(request.user, "complaints.assign"),
        },
    )


@login_required
@require_POST
def complaint_assign(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """SPEC §7: the team lead or the supervisor gives the complaint to the person who handles it."""
    selectors.complaint_get(actor=request.user, complaint_id=complaint_id)  # 404 outside scope first
    require_capability(request, "complaints.assign")
    owner = org.access_staff_by_id(request.user, request.POST.get("owner"))
    return _on_complaint(
        request, complaint_id, lambda item: services.complaint_assign(actor=request.user, item=item, owner=owner)
    )


@login_required
@require_POST
def customer_first_contact(request: HttpRequest, customer_id: int) -> HttpResponse:
    """R-CARE-2: the first contact with a newly assigned customer, recorded on the customer's page."""
    from kefu.commerce import selectors as commerce

    customer = commerce.customer_get(actor=request.user, customer_id=customer_id)
    return form_post(
        request,
        lambda: services.customer_first_contact(
            actor=request.user, customer=customer, note=request.POST.get("note", "")
        ),
        then=redirect("commerce:customer_detail", customer_id=customer.pk),
        done=_("First contact recorded."),
    )


def _on_complaint(request: HttpRequest, complaint_id: int, run: Any) -> HttpResponse:
    item = selectors.complaint_get(actor=request.user, complaint_id=complaint_id)
    return form_post(
        request,
        lambda: run(item),
        then=redirect("care:complaint", complaint_id=item.pk),
    )


@login_required
@require_POST
def complaint_step(request: HttpRequest, complaint_id: int) -> HttpResponse:
    code, done = request.POST.get("step", ""), request.POST.get("done") == "1"
    return _on_complaint(
        request, complaint_id, lambda item: services.complaint_step(actor=request.user, item=item, code=code, done=done)
    )


@login_required
@require_POST
def complaint_emotion(request: HttpRequest, complaint_id: int) -> HttpResponse:
    return _on_complaint(
        request,
        complaint_id,
        lambda item: services.complaint_emotion_set(
            actor=request.user, item=item, emotion=request.POST.get("emotion", "")
        ),
    )


@login_required
@require_POST
def complaint_resolve(request: HttpRequest, complaint_id: int) -> HttpResponse:
    return _on_complaint(
        request,
        complaint_id,
        lambda item: services.complaint_resolve(
            actor=request.user,
            item=item,
            reason=request.POST.get("reason", ""),
            resolution=request.POST.get("resolution", ""),
            our_fault=request.POST.get("our_fault") == "1",
        ),
    )


@login_required
@require_POST
def complaint_visit(request: HttpRequest, complaint_id: int) -> HttpResponse:
    def run(item: Any) -> None:
        try:
            at = parse_moment(request.POST.get("at", ""))
        except ValueError:
            raise ApplicationError("visit", _("Choose a date and time between 2000 and 2100.")) from None
        services.complaint_visit_schedule(
            actor=request.user,
            item=item,
            agent=selectors.agent_in_scope(request.user, request.POST.get("agent")),
            at=at,
            channel=request.POST.get("channel", VisitChannel.PHONE),
        )

    return _on_complaint(request, complaint_id, run)


@login_required
@require_http_methods(["GET", "POST"])
def assignment(request: HttpRequest) -> HttpResponse:
    """R-CARE-2: the proposal for customers without an agent; the supervisor changes any row and
    confirms. A team lead reads the page for their team's overdue first contacts (the home card
    links here), without the proposal."""
    can_assign = has_capability(request.user, "customers.assign")
    if not can_assign and not has_capability(request.user, "statement.view_team"):
        require_capability(request, "customers.assign")
    agents = selectors.agents_in_scope(request.user)
    if request.method == "POST":
        require_capability(request, "customers.assign")
        by_id = {a.pk: a for a in agents}
        pairs = []
        for key, value in request.POST.items():
            if not key.startswith("customer_"):
                continue
            agent = by_id.get(int_param(str(value)) or 0)
            if agent is None:
                continue
            customer = selectors.customer_in_scope(actor=request.user, customer_id=key.removeprefix("customer_"))
            if customer is not None:  # a key that names no customer of the actor's is left out
                pairs.append((customer, agent))
        return form_post(
            request,
            lambda: services.assignments_confirm(actor=request.user, pairs=pairs),
            then=redirect("care:assignment"),
            done=lambda done: _("%(n)s customers assigned.") % {"n": len(done)},
        )
    return render(
        request,
        "care/assignment.html",
        {
            "proposal": selectors.assignment_proposal(actor=request.user) if can_assign else [],
            "can_assign": can_assign,
            "agents": agents,
            "overdue": selectors.contacts_overdue(actor=request.user),
        },
    )


@login_required
def visits(request: HttpRequest) -> HttpResponse:
    me = org.staff_of(request.user)
    mine = request.GET.get("all") != "1" and me is not None
    return render(
        request,
        "care/visits.html",
        {
            "open": selectors.visits(actor=request.user, agent=me if mine else None),
            "done": selectors.visits(actor=request.user, agent=me if mine else None, done=True),
            "mine": mine,
            "now": clock.now(),
        },
    )


@login_required
@require_POST
def visit_record(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get(actor=request.user, visit_id=visit_id)
    return form_post(
        request,
        lambda: services.visit_record(
            actor=request.user,
            visit=visit,
            opinion=request.POST.get("opinion", ""),
            suggestions=request.POST.get("suggestions", ""),
            satisfaction=int_param(request.POST.get("satisfaction")) or 0,
        ),
        then=redirect("care:visits"),
        done=_("Return visit recorded."),
    )


def _complaint_shop(request: HttpRequest, raw: Any) -> Any:
    """The shop chosen on the form: none chosen is a message beside what was typed (not a 404 page)."""
    if not int_param(raw):
        raise ApplicationError("complaint", _("Choose the shop the complaint is about."))
    return org.access_shop_by_id(request.user, raw)
