from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from kefu.org.models import Position

from .factories import (
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ShopFactory,
    StaffFactory,
    TeamFactory,
    UserFactory,
)

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PASSWORD = "pw-secret-123"


@pytest.fixture(autouse=True)
def _one_crowd_at_a_time(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests marked many_connections open 50–80 PostgreSQL connections at once; two of them on two
    xdist workers would pass the server's limit of 100. A lock file shared by the workers (their
    common base temp directory) lets one such test run at a time."""
    if request.node.get_closest_marker("many_connections") is None:
        yield
        return
    root = tmp_path_factory.getbasetemp()
    lock_path = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "many-connections.lock"
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# The moment every test runs at (issue 16: a test that scheduled a visit on "2026-12-01" broke on
# 12-02). Time still ticks from here, so order and durations inside a test are real; the date is
# not the machine's. The e2e tests drive a browser whose own clock (cookie expiry, JS Date) cannot
# be moved, so they run at the real time and build their data relative to it.
FROZEN_AT = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(autouse=True)
def _frozen_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("e2e") is not None:
        yield
        return
    with time_machine.travel(FROZEN_AT, tick=True):
        yield


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    from kefu.core.policy_store import policy_cache_clear

    cache.clear()
    policy_cache_clear()
    yield
    cache.clear()
    policy_cache_clear()


def test_redis_url(default_db: int) -> str:
    """The Redis database a test may flush: ``KEFU_TEST_REDIS_URL`` (a shared Redis gives each
    checkout its own), else db ``default_db`` of the local server."""
    return os.environ.get("KEFU_TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{default_db}"


test_redis_url.__test__ = False  # type: ignore[attr-defined]  (a helper, not a test)


@dataclass
class World:
    """Two teams (A, B) with one shop each, people in every position, and an order per shop."""

    team_a: Any
    team_b: Any
    shop_a: Any
    shop_b: Any
    supervisor: Any
    deputy: Any
    lead_a: Any
    agent_a: Any
    agent_b: Any
    order_a: Any
    order_b: Any
    customer_a: Any
    customer_b: Any
    product_a: Any
    product_b: Any


def _person(position: str, team: Any, username: str) -> Any:
    user = UserFactory(username=username)
    StaffFactory(position=position, team=team, user=user)
    return user


@pytest.fixture
def world(db: Any) -> World:
    shop_a, shop_b = ShopFactory(name="海盗船", code="hdc"), ShopFactory(name="魔甲人", code="mjr")
    team_a, team_b = TeamFactory(name="扬州客服组"), TeamFactory(name="海丰客服组")
    team_a.shops.set([shop_a])
    team_b.shops.set([shop_b])
    customer_a, customer_b = CustomerFactory(nick="buyer_a"), CustomerFactory(nick="buyer_b")
    product_a, product_b = ProductFactory(shop=shop_a), ProductFactory(shop=shop_b)
    order_a = OrderFactory(shop=shop_a, customer=customer_a)
    order_b = OrderFactory(shop=shop_b, customer=customer_b)
    OrderLineFactory(order=order_a)
    OrderLineFactory(order=order_b)
    return World(
        team_a=team_a,
        team_b=team_b,
        shop_a=shop_a,
        shop_b=shop_b,
        supervisor=_person(Position.SUPERVISOR, None, "boss"),
        deputy=_person(Position.DEPUTY, None, "deputy"),
        lead_a=_person(Position.TEAM_LEAD, team_a, "lead_a"),
        agent_a=_person(Position.PRESALES, team_a, "agent_a"),
        agent_b=_person(Position.AFTERSALES, team_b, "agent_b"),
        order_a=order_a,
        order_b=order_b,
        customer_a=customer_a,
        customer_b=customer_b,
        product_a=product_a,
        product_b=product_b,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests (triggers) are deselected on SQLite, by name, never skipped silently:
    CI runs the suite on both databases, so each runs where its behaviour exists."""
    if os.environ.get("KEFU_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    chosen = [item for item in items if item.get_closest_marker("postgresql") is None]
    dropped = [item for item in items if item.get_closest_marker("postgresql") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen
