"""Reads for the organisation, scoped to the actor (R-ORG-2)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q

from kefu.core.pagination import Page, keyset_page
from kefu.core.scoping import access_object

from .models import Shop, Staff, Team


def shop_list(*, actor: Any) -> list[Shop]:
    return list(Shop.objects.restrict(actor).prefetch_related("teams").order_by("name"))


def shop_get(*, actor: Any, shop_id: int) -> Shop:
    return access_object(actor, Shop.objects.prefetch_related("teams"), pk=shop_id)


def team_list(*, actor: Any) -> list[Team]:
    return list(
        Team.objects.restrict(actor)
        .annotate(member_count=Count("members", filter=Q(members__active=True), distinct=True))
        .prefetch_related(Prefetch("shops", queryset=Shop.objects.order_by("name")))
        .order_by("name")
    )


def team_get(*, actor: Any, team_id: int) -> Team:
    return access_object(actor, Team.objects.prefetch_related("shops"), pk=team_id)


def team_members(*, team: Team) -> list[Staff]:
    return list(team.members.filter(active=True).order_by("position", "employee_no"))


def staff_list(
    *,
    actor: Any,
    team: int | None = None,
    position: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Staff]:
    qs = Staff.objects.restrict(actor).select_related("team", "user")
    if team:
        qs = qs.filter(team_id=team)
    if position:
        qs = qs.filter(position=position)
    if q:
        qs = qs.filter(Q(employee_no=q.strip()) | Q(name__icontains=q.strip()))
    return keyset_page(qs, key="id", descending=False, cursor=cursor, limit=limit)


def staff_get(*, actor: Any, staff_id: int) -> Staff:
    return access_object(actor, Staff.objects.select_related("team", "user"), pk=staff_id)


def staff_of(user: Any) -> Staff | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Staff.objects.select_related("team").filter(user_id=user.pk).first()
