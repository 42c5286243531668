"""Pages of the organisation: shops, teams, staff (salary only to whom it concerns) and one's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core import clock, wording
from kefu.core.events import timeline
from kefu.core.params import day_query, int_param
from kefu.org.permissions import has_capability
from kefu.web.http import (
    EXPORT_CAP,
    form_post,
    render_page_or_partial,
    require_capability,
    row_url_base,
    xlsx_download,
)

from . import selectors as org
from .models import Position
from .services import staff_set_leave_date, token_create, token_revoke


@login_required
def shops(request: HttpRequest) -> HttpResponse:
    return render(request, "org/shops.html", {"shops": org.shop_list(actor=request.user)})


@login_required
def shop_detail(request: HttpRequest, shop_id: int) -> HttpResponse:
    shop = org.shop_get(actor=request.user, shop_id=shop_id)
    return render(request, "org/shop_detail.html", {"shop": shop, "events": timeline(shop)})


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    return render(request, "org/teams.html", {"teams": org.team_list(actor=request.user)})


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = org.team_get(actor=request.user, team_id=team_id)
    return render(
        request,
        "org/team_detail.html",
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
    if request.GET.get("export") == "xlsx":
        return _staff_xlsx(request, team, position, q)
    page = org.staff_list(actor=request.user, team=team, position=position, q=q, cursor=request.GET.get("cursor"))
    return render_page_or_partial(
        request,
        "org/staff.html",
        "results",
        {
            "page": page,
            "q": q or "",
            "teams": org.team_choices(actor=request.user),
            "team": team,
            "positions": Position.choices,
            "position_labels": wording.choice_labels(Position),
            "position": position or "",
            "staff_base": row_url_base("org:staff_detail"),
        },
    )


@login_required
def staff_detail(request: HttpRequest, staff_id: int) -> HttpResponse:
    member = org.staff_get(actor=request.user, staff_id=staff_id)
    # the salary never leaks through the history
    events = timeline(member, hide=() if org.pay_visible(request.user, member) else ("base_salary",))
    may_manage = has_capability(request.user, "org.manage")
    return render(request, "org/staff_detail.html", {"member": member, "events": events, "may_manage": may_manage})


@login_required
@require_POST
def staff_leave_date(request: HttpRequest, staff_id: int) -> HttpResponse:
    """R-WF-18: the supervisor or the deputy records (or takes back) a leaving date."""
    member = org.staff_get(actor=request.user, staff_id=staff_id)  # 404 outside scope, then the right
    require_capability(request, "org.manage")
    return form_post(
        request,
        lambda: staff_set_leave_date(
            actor=request.user,
            staff=member,
            leave_date=day_query(request.POST.get("leave_date")) if request.POST.get("leave_date") else None,
        ),
        then=redirect("org:staff_detail", staff_id=member.pk),
        done=_("Leaving date saved."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    secret = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            token = org.access_own_token_by_id(request.user, int_param(request.POST["revoke"]))
            token_revoke(actor=request.user, token=token)
            messages.success(request, _("Token revoked."))
            return redirect("org:tokens")
        return form_post(
            request,
            lambda: token_create(
                actor=request.user,
                user=request.user,
                name=request.POST.get("name", "")[:100],
                expires_in_days=int_param(request.POST.get("expires_in_days")),
            ),
            then=lambda secret: _tokens_page(request, secret),  # shown once, on this answer only
            failed=lambda: _tokens_page(request, None),
        )
    return _tokens_page(request, secret)


def _tokens_page(request: HttpRequest, secret: str | None) -> HttpResponse:
    own = org.api_tokens_of(request.user)
    return render(request, "org/tokens.html", {"tokens": own, "secret": secret})


def _staff_xlsx(request: HttpRequest, team: int | None, position: str | None, q: str | None) -> HttpResponse:
    """The filtered staff list as XLSX; the salary column only where the reader may see it."""
    members = org.staff_export(actor=request.user, team=team, position=position, q=q, cap=EXPORT_CAP)
    rows = (
        (
            m.employee_no,
            m.name,
            m.get_position_display(),
            m.team.name if m.team else "",
            m.hire_date.isoformat() if m.hire_date else "",
            _("Yes") if m.active else _("No"),
            m.visible_salary if m.visible_salary is not None else "",  # type: ignore[attr-defined]
        )
        for m in members
    )
    headers = [_("Employee no."), _("Name"), _("Position"), _("Team"), _("Hire date"), _("Active"), _("Base salary")]
    return xlsx_download(f"staff-{clock.today():%Y%m%d}.xlsx", _("Staff"), headers, rows)
