"""The sign-in backend reads the user and their scope in one query (issue 20 §2, ADR 0025); it
must answer exactly what Django's ModelBackend and ``scope_for`` answer, for every kind of person,
and nothing is remembered between requests."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core.scoping import NOTHING, forget_scope, scope_for
from kefu.org.auth import SignInBackend
from kefu.org.models import Position, Staff

from .conftest import PASSWORD, World
from .factories import ShopFactory, StaffFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _django_answer(user_id: Any) -> tuple[Any, Any]:
    user = ModelBackend().get_user(user_id)
    return user, (scope_for(user) if user is not None else None)


def _backend_answer(user_id: Any) -> tuple[Any, Any]:
    user = SignInBackend().get_user(user_id)
    return user, (getattr(user, "_kefu_scope", None) if user is not None else None)


def _same(user_id: Any) -> None:
    mine, my_scope = _backend_answer(user_id)
    theirs, their_scope = _django_answer(user_id)
    if theirs is None:
        assert mine is None
        return
    assert mine is not None
    for field in type(theirs)._meta.concrete_fields:
        assert getattr(mine, field.attname) == getattr(theirs, field.attname), field.attname
    assert mine._state.adding is False and mine._state.db == theirs._state.db
    assert my_scope == their_scope
    assert not hasattr(mine, "kefu_shop_id")  # the joined columns do not stay on the user


def test_every_person_of_the_world(world: World) -> None:
    for user in (world.supervisor, world.deputy, world.lead_a, world.agent_a, world.agent_b):
        _same(user.pk)
    lead = SignInBackend().get_user(world.lead_a.pk)
    assert lead._kefu_scope.shop_ids == {world.shop_a.pk} and not lead._kefu_scope.all


def test_edges() -> None:
    superuser = UserFactory(is_superuser=True)
    _same(superuser.pk)  # no staff record: everything
    nobody = UserFactory()
    _same(nobody.pk)
    assert SignInBackend().get_user(nobody.pk)._kefu_scope == NOTHING
    teamless = StaffFactory(team=None, position=Position.PRESALES)
    _same(teamless.user.pk)
    shopless = StaffFactory(team=TeamFactory())
    _same(shopless.user.pk)
    inactive_staff = StaffFactory(active=False)
    _same(inactive_staff.user.pk)
    assert SignInBackend().get_user(inactive_staff.user.pk)._kefu_scope == NOTHING
    blocked = UserFactory(is_active=False)
    assert SignInBackend().get_user(blocked.pk) is None
    for bad in ("abc", None, "", "99999999", 10**12):
        assert SignInBackend().get_user(bad) is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shops=st.integers(min_value=0, max_value=4),
    position=st.sampled_from(list(Position.values)),
    active=st.booleans(),
    superuser=st.booleans(),
)
def test_any_person(shops: int, position: str, active: bool, superuser: bool) -> None:
    team = TeamFactory()
    team.shops.set([ShopFactory() for _ in range(shops)])
    staff = StaffFactory(team=team, position=position, active=active, user=UserFactory(is_superuser=superuser))
    _same(staff.user.pk)


def test_one_query_for_user_and_scope_and_changes_take_effect_next_request(world: World) -> None:
    client = Client()
    assert client.login(username=world.lead_a.username, password=PASSWORD)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/tokens/").status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not any('FROM "org_staff"' in s and "auth_user" not in s for s in sqls), sqls  # scope not asked again
    assert sum("auth_user" in s for s in sqls) == 1
    # moved to team B: the next request sees team B's shops, not a remembered scope
    staff = Staff.objects.get(user=world.lead_a)
    staff.team = world.team_b
    staff.save()
    assert client.get(f"/orders/{world.order_b.pk}/").status_code == 200
    assert client.get(f"/orders/{world.order_a.pk}/").status_code == 404
    # deactivated: signed out on the next request
    world.lead_a.is_active = False
    world.lead_a.save()
    response = client.get("/tokens/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_password_change_ends_other_sessions(world: World) -> None:
    client = Client()
    assert client.login(username=world.agent_a.username, password=PASSWORD)
    assert client.get("/tokens/").status_code == 200
    world.agent_a.set_password("another-pw-456")
    world.agent_a.save()
    forget_scope(world.agent_a)
    assert client.get("/tokens/").status_code == 302
