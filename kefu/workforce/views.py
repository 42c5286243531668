"""Thin views for attendance: my attendance, team roster and statements, approvals, red packets, points."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core import clock, wording
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.core.params import choice_query, date_param, day_query, id_query, int_param
from kefu.core.policy_store import policy_in_force
from kefu.org import selectors as org
from kefu.org.models import Staff
from kefu.org.permissions import has_capability
from kefu.org.selectors import access_staff_by_id
from kefu.policies import attendance as rules
from kefu.web.http import form_post, redirect_next, require_capability, row_url_base, show_error

from . import selectors, services
from .exports import to_csv, to_xlsx
from .forms import CopyWeekForm, DecideForm, MakeupForm, PointsForm, RequestForm, parse_month
from .models import RequestKind


def _month_nav(year: int, month: int) -> dict[str, str]:
    first = dt.date(year, month, 1)
    prev = (first - dt.timedelta(days=1)).replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return {"current": f"{year:04d}-{month:02d}", "prev": f"{prev:%Y-%m}", "next": f"{nxt:%Y-%m}"}


def _statement_context(staff: Staff, year: int, month: int) -> dict[str, Any]:
    (statement,) = selectors.statements(staff=[staff], year=year, month=month)
    return {
        "member": staff,
        "st": statement,
        "packet_counts": selectors.packet_counts([staff.pk], year, month).get(staff.pk, {}),
        "month": _month_nav(year, month),
        "policy": policy_in_force(dt.date(year, month, 1)),
    }


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    staff = org.staff_of(request.user)
    if staff is None:
        raise Http404("no staff record")
    year, month = parse_month(request.GET.get("month"))
    ctx = _statement_context(staff, year, month)
    ctx.update(
        {
            "requests": selectors.my_requests(staff=staff),
            "packets": [
                (p, services.red_packet_owed(p))
                for p in selectors.red_packets_open(actor=request.user)
                if p.staff_id == staff.pk
            ],
            "form": RequestForm(initial={"kind": RequestKind.REST}),
            "owed": services.red_packet_owed,
        }
    )
    return render(request, "workforce/mine.html", ctx)


@login_required
def staff_statement(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = selectors.staff_for_statement(actor=request.user, staff_id=staff_id)
    year, month = parse_month(request.GET.get("month"))
    ctx = _statement_context(staff, year, month)
    # R-WF-12 → R-WF-18: the dismissal flag proposes a leaving date for the supervisor to confirm
    ctx["propose_leaving"] = (
        "dismissal" in ctx["st"].flags and staff.leave_date is None and has_capability(request.user, "org.manage")
    )
    ctx["today"] = clock.today()
    return render(request, "workforce/staff_statement.html", ctx)


@login_required
def team(request: HttpRequest) -> HttpResponse:
    require_capability(request, "statement.view_team")
    year, month = parse_month(request.GET.get("month"))
    teams = org.team_list(actor=request.user)
    team_id = id_query(request.GET.get("team")) or (teams[0].pk if teams else None)
    grid = selectors.roster_grid(actor=request.user, team=team_id, year=year, month=month)
    members = [row["staff"] for row in grid["rows"]]
    summaries = selectors.statements(staff=members, year=year, month=month)
    shifts = policy_in_force(dt.date(year, month, 1)).attendance.shift_types
    return render(
        request,
        "workforce/team.html",
        {
            "teams": teams,
            "team_id": team_id,
            "grid": grid,
            "rows": list(zip(grid["rows"], summaries, strict=True)),
            "has_incidents": any(st.incidents for st in summaries),
            "month": _month_nav(year, month),
            "shifts": shifts,
            "can_edit": has_capability(request.user, "roster.edit"),
            "cell_url": reverse("attendance:roster_cell"),  # once, not per cell (60 staff × 31 days)
            "statement_base": row_url_base("attendance:staff_statement"),
            "can_certify": has_capability(request.user, "attendance.certify"),
            "can_see_pay": has_capability(request.user, "pay.view"),
            "makeup_form": MakeupForm(staff=members),
            "copy_form": CopyWeekForm(),
            "today": clock.today(),
        },
    )


def _form_errors(form: Any) -> str:
    """A form's errors as one sentence of labels and messages."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(str(e) for e in errors)}" if label else " ".join(str(e) for e in errors))
    return "; ".join(parts)


@login_required
@require_POST
def roster_cell(request: HttpRequest) -> HttpResponse:
    staff = _staff_in_scope(request, request.POST.get("staff"))
    day = date_param(request.POST.get("date"))
    raw = request.POST.get("shift")

    def put() -> Any:
        if day is None:
            raise ApplicationError("validation_error", _("The date is missing or out of range."))
        if raw == "-":  # back to "not scheduled"
            return services.roster_clear(actor=request.user, staff=staff, date=day)
        return services.roster_set(actor=request.user, staff=staff, date=day, shift_code=raw or None)

    # an htmx refusal is answered as text: kefu.js shows the message beside the grid
    return form_post(
        request,
        put,
        then=lambda _entry: _roster_cell_answer(request, staff, day),
    )


def _roster_cell_answer(request: HttpRequest, staff: Any, day: Any) -> HttpResponse:
    if getattr(request, "htmx", False):
        # the cell, and the person's month summary row refreshed out of band
        code = selectors.roster_code(staff=staff, date=day)
        shifts = policy_in_force(day).attendance.shift_types
        (summary,) = selectors.statements(staff=[staff], year=day.year, month=day.month)
        ctx = {
            "staff": staff,
            "day": day,
            "code": code,
            "shifts": shifts,
            "can_edit": True,
            "cell_url": reverse("attendance:roster_cell"),
            "today": clock.today(),
            "st": summary,
            "oob": True,
            "can_see_pay": has_capability(request.user, "pay.view"),
            "month": _month_nav(day.year, day.month),
        }
        cell = render_to_string("workforce/roster_cell.html", ctx, request=request, using="jinja2")
        row = render_to_string("workforce/team.html#sumrow", ctx, request=request)
        # a <tr> outside a table is dropped by the HTML parser: htmx takes it out of a <template>
        return HttpResponse(cell + "<template>" + row + "</template>")
    return redirect(f"/attendance/team/?team={staff.team_id}&month={day:%Y-%m}")


@login_required
@require_POST
def copy_week(request: HttpRequest) -> HttpResponse:
    form = CopyWeekForm(request.POST)
    team_id = int_param(request.POST.get("team"))
    if request.POST.get("team"):
        team_id = org.team_get(actor=request.user, team_id=team_id or 0).pk  # another team's id is a 404
    back = redirect(f"/attendance/team/?team={team_id or ''}")
    if not form.is_valid():
        messages.error(request, _("Please correct the dates: %(errors)s") % {"errors": _form_errors(form)})
        return back
    ids = [s.pk for s in selectors.visible_staff(actor=request.user, team=team_id)]
    return form_post(
        request,
        lambda: services.roster_copy_week(actor=request.user, staff_ids=ids, **form.cleaned_data),
        then=back,
        done=lambda written: _("%(n)d roster entries copied.") % {"n": written},
    )


@login_required
@require_POST
def makeup(request: HttpRequest) -> HttpResponse:
    members = selectors.visible_staff(actor=request.user)
    form = MakeupForm(request.POST, staff=members)
    if form.is_valid():
        staff = _staff_in_scope(request, str(form.cleaned_data["staff"]))
        at = form.cleaned_data["at"].astimezone(clock.local_tz()).replace(tzinfo=None)
        return form_post(
            request,
            lambda: services.makeup_certify(
                actor=request.user, staff=staff, at=at, kind=form.cleaned_data["kind"], note=form.cleaned_data["note"]
            ),
            then=redirect("attendance:team"),
            done=_("Make-up certified."),
        )
    else:
        messages.error(request, _("Please correct the make-up fields: %(errors)s") % {"errors": _form_errors(form)})
    return redirect("attendance:team")


@login_required
def statement_export(request: HttpRequest) -> HttpResponse:
    require_capability(request, "pay.view")
    year, month = parse_month(request.GET.get("month"))
    team_id = id_query(request.GET.get("team"))
    fmt = choice_query(request.GET.get("format"), ("html", "json", "csv", "xlsx"), "html")
    staff = selectors.visible_staff(actor=request.user, team=team_id, month=(year, month))
    document = selectors.statement_document(staff=staff, year=year, month=month)
    name = f"statement-{year:04d}-{month:02d}"
    if fmt == "json":
        return HttpResponse(
            json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
        )
    if fmt == "csv":
        response = HttpResponse(to_csv(document), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            to_xlsx(document), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    return render(
        request,
        "workforce/statement.html",
        {
            "document": document,
            "month": _month_nav(year, month),
            "teams": org.team_list(actor=request.user),
            "team_id": team_id,
            "staff_ids": {s.employee_no: s.pk for s in staff},
        },
    )


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    require_capability(request, "leave.approve")
    return render(
        request,
        "workforce/approvals.html",
        {"items": selectors.approvals_inbox(actor=request.user), "form": DecideForm()},
    )


@login_required
@require_POST
def request_new(request: HttpRequest) -> HttpResponse:
    staff = org.staff_of(request.user)
    if staff is None:
        raise Http404("no staff record")
    form = RequestForm(request.POST)
    if form.is_valid():
        return form_post(
            request,
            lambda: services.request_create(actor=request.user, staff=staff, **form.cleaned_data),
            then=redirect("attendance:mine"),
            done=_("Request submitted to the supervisor."),
        )
    else:
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        messages.error(request, _("Please correct the request fields.") + " " + problems)
    return redirect("attendance:mine")


@login_required
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    item = selectors.request_get(actor=request.user, request_id=request_id)
    return render(
        request,
        "workforce/request_detail.html",
        {
            "item": item,
            "decided_by_name": wording.names_of([item.decided_by_id]).get(item.decided_by_id, "")
            if item.decided_by_id
            else "",
            "events": timeline(item),
            "form": DecideForm(),
            "can_decide": has_capability(request.user, "leave.approve") and item.status == "submitted",
        },
    )


@login_required
@require_POST
def request_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    item = selectors.request_get(actor=request.user, request_id=request_id)
    form = DecideForm(request.POST)
    back = redirect("attendance:approvals" if has_capability(request.user, "leave.approve") else "attendance:mine")
    if not form.is_valid():
        return back
    decide = services.request_approve if form.cleaned_data["decision"] == "approve" else services.request_reject
    return form_post(
        request,
        lambda: decide(actor=request.user, request=item, comment=form.cleaned_data["comment"]),
        then=back,
        done=_("Decision recorded."),
    )


@login_required
def red_packets(request: HttpRequest) -> HttpResponse:
    items = selectors.red_packets_open(actor=request.user)
    return render(
        request,
        "workforce/red_packets.html",
        {"items": [(p, services.red_packet_owed(p)) for p in items], "today": clock.today()},
    )


@login_required
@require_POST
def red_packet_sent(request: HttpRequest, packet_id: int) -> HttpResponse:
    packet = selectors.red_packet_get(actor=request.user, packet_id=packet_id)
    return form_post(
        request,
        lambda: services.red_packet_mark_sent(actor=request.user, packet=packet),
        then=redirect_next(request, "attendance:red_packets"),
        done=_("Red packet marked sent."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def points(request: HttpRequest) -> HttpResponse:
    year, month = parse_month(request.GET.get("month"))
    members = selectors.visible_staff(actor=request.user)
    items = policy_in_force().points.items
    form = PointsForm(request.POST or None, staff=members, items=items)
    if request.method == "POST" and request.POST.get("clear_team"):
        require_capability(request, "points.record")
        team = org.access_team_by_id(request.user, int_param(request.POST.get("clear_team")))
        services.inspection_clear(actor=request.user, team=team, note=request.POST.get("note", "")[:300])
        messages.success(request, _("Inspection recorded: nothing found."))
        return redirect("attendance:points")
    if request.method == "POST":
        require_capability(request, "points.record")
        if form.is_valid():
            staff = _staff_in_scope(request, str(form.cleaned_data["staff"]))
            return form_post(
                request,
                lambda: services.points_record(
                    actor=request.user,
                    staff=staff,
                    item_code=form.cleaned_data["item"],
                    note=form.cleaned_data["note"],
                    idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
                ),
                then=redirect("attendance:points"),
                done=_("Inspection recorded."),
                failed=lambda: _points_page(request, form, year, month),
            )
    return _points_page(request, form, year, month)


def _points_page(request: HttpRequest, form: Any, year: int, month: int) -> HttpResponse:
    day = day_query(request.GET.get("day")) or clock.today()
    entries = selectors.points_entries(actor=request.user, day=day)
    by_team: dict[str, list[Any]] = {}
    for entry in entries:
        by_team.setdefault(entry.staff.team.name if entry.staff.team else "—", []).append(entry)
    return render(
        request,
        "workforce/points.html",
        {
            "form": form,
            "can_record": has_capability(request.user, "points.record"),
            "idempotency_key": uuid.uuid4().hex,
            "day": day,
            "by_team": sorted(by_team.items()),
            "clear": sorted(selectors.inspections_clear(actor=request.user, day=day).items()),
            "teams": org.team_list(actor=request.user),
            "ranking": selectors.points_ranking(actor=request.user, year=year, month=month),
            "month": _month_nav(year, month),
            "yuan_per_point": policy_in_force().points.yuan_per_point,
        },
    )


@login_required
@require_POST
def points_reverse(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.points_entry_get(actor=request.user, entry_id=entry_id)
    return form_post(
        request,
        lambda: services.points_reverse(
            actor=request.user, entry=entry, note=request.POST.get("note", "")[:200] or "冲销"
        ),
        then=redirect("attendance:points"),
        done=_("Entry reversed."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def publication(request: HttpRequest) -> HttpResponse:
    """R-WF-14: last week's attendance as it is (or will be) published on Monday; the supervisor may
    publish any past week not yet published (R-WF-5 clarified: a missed Monday, a correction)."""
    from .publication import published, weekly_publish

    today = clock.today()
    monday = day_query(request.GET.get("week")) or today - dt.timedelta(days=today.weekday() + 7)
    monday -= dt.timedelta(days=monday.weekday())
    past = monday + dt.timedelta(days=7) <= today
    may_publish = has_capability(request.user, "org.manage")
    if request.method == "POST":
        require_capability(request, "org.manage")
        if not past:
            show_error(request, ApplicationError("validation_error", _("Only a week that is over can be published.")))
        else:
            result = weekly_publish(actor=request.user, week=monday)
            if result.get("already"):
                messages.info(request, _("This week was already published."))
            else:
                messages.success(request, _("The week is published; its red packets are due today."))
        return redirect(f"{reverse('attendance:publication')}?week={monday:%Y-%m-%d}")
    staff = selectors.visible_staff(actor=request.user)
    rows = selectors.weekly_attendance(staff=staff, monday=monday)
    policy = policy_in_force(monday).document
    return render(
        request,
        "workforce/publication.html",
        {
            "monday": monday,
            "sunday": monday + dt.timedelta(days=6),
            "rows": rows,
            "prev": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "due": rules.next_publication(policy, monday + dt.timedelta(days=6)),
            "published": published(monday),
            "may_publish": may_publish and past,
        },
    )


def _staff_in_scope(request: HttpRequest, value: str | None) -> Staff:
    return access_staff_by_id(request.user, int_param(value))
