"""Reads for the organisation, scoped to the actor (R-ORG-2)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q

from kefu.core.actors import Actor
from kefu.core.pagination import Page, keyset_iter, keyset_page
from kefu.core.scoping import access_object, scope_for

from .models import ApiToken, Shop, Staff, Team


def shop_list(*, actor: Actor) -> list[Shop]:
    return list(Shop.objects.restrict(actor).prefetch_related("teams").order_by("name"))


def shop_choices(*, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the shops the actor sees, by name: a filter's choices (one query, no teams)."""
    return list(Shop.objects.restrict(actor).order_by("name").values_list("id", "name"))


def shop_get(*, actor: Actor, shop_id: int) -> Shop:
    return access_object(actor, Shop.objects.prefetch_related("teams"), pk=shop_id)


def team_choices(*, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the teams the actor sees, by name: a filter's choices."""
    return list(Team.objects.restrict(actor).order_by("name").values_list("id", "name"))


def team_list(*, actor: Actor) -> list[Team]:
    return list(
        Team.objects.restrict(actor)
        .annotate(member_count=Count("members", filter=Q(members__active=True), distinct=True))
        .prefetch_related(Prefetch("shops", queryset=Shop.objects.order_by("name")))
        .order_by("name")
    )


def team_get(*, actor: Actor, team_id: int) -> Team:
    return access_object(actor, Team.objects.prefetch_related("shops"), pk=team_id)


def team_shop_ids(team_id: int) -> list[int]:
    """The shops a team serves (R-DESK-1), as ids: a day's desk reads go shop by shop on the
    messages' (shop, sent time) index."""
    return list(Team.shops.through.objects.filter(team_id=team_id).values_list("shop_id", flat=True))


def team_staff(*, actor: Actor, team: int) -> list[Staff]:
    """Active desk people of a team in the actor's scope (agents and the lead), by name (pickers)."""
    positions = ["presales", "aftersales", "team_lead"]
    return list(
        Staff.objects.restrict(actor).filter(team_id=team, active=True, position__in=positions).order_by("name")
    )


def staff_names_by_employee_no(numbers: list[str]) -> dict[str, str]:
    return dict(Staff.objects.filter(employee_no__in=numbers).values_list("employee_no", "name"))


def team_members(*, team: Team) -> list[Staff]:
    return list(team.members.filter(active=True).order_by("position", "employee_no"))


def staff_list(
    *,
    actor: Actor,
    team: int | None = None,
    position: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Staff]:
    qs = _staff_queryset(actor, team, position, q)
    page = keyset_page(qs, key="id", descending=False, cursor=cursor, limit=limit)
    _mark_pay(actor, page.items)
    return page


def staff_export(
    *, actor: Actor, team: int | None = None, position: str | None = None, q: str | None = None, cap: int
) -> list[Staff]:
    """The filtered staff list for an export, each marked whether the actor may see their pay."""
    rows = list(keyset_iter(_staff_queryset(actor, team, position, q), key="id", descending=False, cap=cap))
    _mark_pay(actor, rows)
    return rows


def _staff_queryset(actor: Actor, team: int | None, position: str | None, q: str | None) -> Any:
    qs = Staff.objects.restrict(actor).select_related("team", "user")
    if team:
        qs = qs.filter(team_id=team)
    if position:
        qs = qs.filter(position=position)
    if q:
        qs = qs.filter(Q(employee_no=q.strip()) | Q(name__icontains=q.strip()))
    return qs


def staff_get(*, actor: Actor, staff_id: int) -> Staff:
    staff = access_object(actor, Staff.objects.select_related("team", "user"), pk=staff_id)
    _mark_pay(actor, [staff])
    return staff


def pay_visible(actor: Actor, staff: Staff) -> bool:
    """Base salary and statements: the person, the supervisor and the deputy (SPEC §11)."""
    from .permissions import has_capability

    return bool(staff.user_id and staff.user_id == getattr(actor, "pk", None)) or has_capability(actor, "pay.view")


def _mark_pay(actor: Actor, staff: list[Staff]) -> None:
    """Set ``visible_salary`` on each row: the salary where the actor may see it, else None."""
    from .permissions import has_capability

    everyone = has_capability(actor, "pay.view")
    for member in staff:
        own = bool(member.user_id and member.user_id == getattr(actor, "pk", None))
        member.visible_salary = member.base_salary if everyone or own else None  # type: ignore[attr-defined]


def my_staff_id(user: Any) -> int | None:
    """The id of the user's active staff record, from the scope a request computes anyway (no query
    of its own), or None."""
    return scope_for(user).staff_id


def staff_of(user: Any) -> Staff | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Staff.objects.select_related("team").filter(user_id=user.pk).first()


# --- ids that arrive in request bodies: resolved in the actor's scope or 404 ---------------------


def access_shop_by_id(actor: Actor, shop_id: Any) -> Shop:
    return access_object(actor, Shop.objects.all(), pk=shop_id)


def access_team_by_id(actor: Actor, team_id: Any) -> Team:
    return access_object(actor, Team.objects.all(), pk=team_id)


def access_staff_by_id(actor: Actor, staff_id: Any) -> Staff:
    return access_object(actor, Staff.objects.select_related("team", "user"), pk=staff_id)


def access_staff_by_employee_no(actor: Actor, employee_no: Any) -> Staff:
    return access_object(actor, Staff.objects.select_related("team"), employee_no=str(employee_no))


def api_tokens_of(user: Any) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user_id=user.pk or 0))


def access_own_token_by_id(user: Any, token_id: Any) -> ApiToken:
    """A token is only ever its owner's: someone else's token id is "not found"."""
    from django.http import Http404

    token = ApiToken.objects.filter(user_id=user.pk or 0, pk=token_id if isinstance(token_id, int) else 0).first()
    if token is None:
        raise Http404("not found")
    return token


def agents_of_shop(*, actor: Actor, shop: Shop) -> list[dict[str, Any]]:
    """The active staff of the teams that serve a shop (inside the actor's scope), for pickers: their
    id (``pk``), name and position as plain values (a team of 300 is one small query)."""
    rows = (
        Staff.objects.restrict(actor)
        .filter(active=True, team__shops=shop)
        .order_by("position", "employee_no")
        .values("pk", "name", "position", "employee_no")
        .distinct()
    )
    return [dict(row) for row in rows]
