"""Quality inspection's pages (R-QA-2): the team lead's daily inspection of a team (the sample with
its hits, confirm or dismiss, points, appeals) and an agent's own results with the appeal."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core import clock
from kefu.core.errors import ApplicationError
from kefu.core.params import day_query, id_query
from kefu.org import selectors as org
from kefu.org.permissions import has_capability
from kefu.web.http import form_post, redirect_next, require_capability

from . import selectors, services


def _team(request: HttpRequest, teams: list) -> int | None:  # type: ignore[type-arg]
    """The team asked for (404 outside the reader's scope), else their first."""
    wanted = id_query(request.GET.get("team"))
    if wanted is not None:
        return org.access_team_by_id(request.user, wanted).pk
    return teams[0].pk if teams else None


@login_required
def inspection(request: HttpRequest) -> HttpResponse:
    require_capability(request, "quality.review")
    day = day_query(request.GET.get("date")) or clock.today() - dt.timedelta(days=1)
    teams = org.team_list(actor=request.user)
    team = _team(request, teams)
    rows = selectors.inspection(actor=request.user, day=day, team=team) if team else []
    return render(
        request,
        "quality/inspection.html",
        {
            "day": day,
            "teams": teams,
            "team": team,
            "rows": rows,
            "undrawn": not rows or any(not r.samples for r in rows),
            "unowned": selectors.unowned_hits(actor=request.user, day=day, team=team) if team else [],
            "appeals": selectors.appeals_waiting(actor=request.user),
            "can_points": has_capability(request.user, "points.record"),
            "here": request.get_full_path(),
        },
    )


def _decision(request: HttpRequest, yes: str, no: str, refusal: str) -> bool:
    """The form's two-way ``decision``: True for ``yes``, False for ``no``, a 400 for anything else."""
    decision = request.POST.get("decision")
    if decision not in (yes, no):
        raise ApplicationError("validation_error", refusal)
    return decision == yes


def _back(request: HttpRequest) -> HttpResponse:
    return redirect_next(request, reverse("quality:inspection"))


@login_required
@require_POST
def draw(request: HttpRequest) -> HttpResponse:
    require_capability(request, "quality.review")
    team = org.access_team_by_id(request.user, request.POST.get("team"))
    day = day_query(request.POST.get("date")) or clock.today() - dt.timedelta(days=1)
    return form_post(
        request,
        lambda: services.sample_draw(actor=request.user, team=team, day=day),
        then=_back(request),
        done=lambda n: _("%(n)s conversations added to the inspection.") % {"n": n},
    )


@login_required
@require_POST
def decide(request: HttpRequest, hit_id: int) -> HttpResponse:
    hit = selectors.hit_get(actor=request.user, hit_id=hit_id, action="approve")
    confirm = _decision(request, "confirm", "dismiss", _("Choose confirm or dismiss."))
    return form_post(
        request,
        lambda: services.hit_decide(actor=request.user, hit=hit, confirm=confirm, note=request.POST.get("note", "")),
        then=_back(request),
        done=_("Hit confirmed.") if confirm else _("Hit dismissed."),
    )


@login_required
@require_POST
def to_points(request: HttpRequest, hit_id: int) -> HttpResponse:
    hit = selectors.hit_get(actor=request.user, hit_id=hit_id, action="approve")
    return form_post(
        request,
        lambda: services.hit_to_points(actor=request.user, hit=hit),
        then=_back(request),
        done=_("Recorded as points."),
    )


@login_required
@require_POST
def review(request: HttpRequest, sample_id: int) -> HttpResponse:
    sample = selectors.sample_get(actor=request.user, sample_id=sample_id, action="approve")
    return form_post(
        request,
        lambda: services.sample_review(actor=request.user, sample=sample, note=request.POST.get("note", "")),
        then=_back(request),
        done=_("Marked as read."),
    )


@login_required
@require_POST
def appeal_decide(request: HttpRequest, hit_id: int) -> HttpResponse:
    hit = selectors.hit_get(actor=request.user, hit_id=hit_id, action="approve")
    uphold = _decision(request, "uphold", "refuse", _("Choose uphold or refuse."))
    return form_post(
        request,
        lambda: services.appeal_decide(actor=request.user, hit=hit, uphold=uphold, note=request.POST.get("note", "")),
        then=_back(request),
        done=_("Appeal upheld; the hit is dismissed.") if uphold else _("Appeal refused."),
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    me = org.staff_of(request.user)
    found = selectors.my_hits(staff=me) if me else []
    return render(request, "quality/mine.html", {"hits": found})


@login_required
@require_POST
def appeal(request: HttpRequest, hit_id: int) -> HttpResponse:
    hit = selectors.hit_get(actor=request.user, hit_id=hit_id)
    return form_post(
        request,
        lambda: services.hit_appeal(actor=request.user, hit=hit, reason=request.POST.get("reason", "")),
        then=redirect("quality:mine"),
        done=_("Your appeal has been sent to your team lead."),
    )
