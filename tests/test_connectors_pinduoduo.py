"""Issue 21 §4: Pinduoduo's orders and after-sales through the same framework, against its fake.

Worked case (FROZEN_AT 10:00): 130 orders updated over the two hours before; two after-sales
requests, one waiting for the shop (status 3: return and refund to handle), one refunded (10). The
first run reads the day before in 30-minute windows (the platform's limit): 130 orders with their
lines and two cases, "return" for a return-and-refund and "refund only" for the other type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from kefu.aftersales.models import Case
from kefu.commerce.models import Order
from kefu.connectors import services
from kefu.connectors.models import Connector, Outcome
from kefu.connectors.pinduoduo import sign
from kefu.connectors.sandbox.http import served
from kefu.connectors.sandbox.pdd import PddFake
from kefu.connectors.transport import Backoff
from kefu.core.events import SystemActor

from .conftest import FROZEN_AT, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def pdd() -> Iterator[tuple[PddFake, str]]:
    fake = PddFake()
    with served(fake) as url:
        yield fake, url + "/api/router"


def test_sign_matches_the_platforms_published_example() -> None:
    params = {
        "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211",
        "client_id": "1",
        "data_type": "XML",
        "order_status": "1",
        "page": "1",
        "page_size": "10",
        "timestamp": "1480411125",
        "type": "pdd.order.number.list.get",
    }
    assert sign(params, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def _connector(world: World, url: str) -> Connector:
    return services.connector_add(
        actor=SystemActor("cli"), platform="pinduoduo", name="魔甲人拼多多", shop=world.shop_b,
        app_key="pdd-sandbox", app_secret="pdd-sandbox-secret", session="pdd-token", gateway=url,
    )  # fmt: skip


def test_orders_and_after_sales(world: World, pdd: tuple[PddFake, str]) -> None:
    fake, url = pdd
    orders = fake.add_orders(130)
    fake.add_refund(orders[0]["order_sn"], status=3, kind=3)
    fake.add_refund(orders[1]["order_sn"], status=10, kind=2)
    fake.faults += ["rate_limit", "server_error"]
    waits: list[float] = []
    runs = {
        r.stream: r
        for r in services.connector_sync(connector=_connector(world, url), backoff=Backoff(sleep=waits.append))
    }
    o = runs["orders"]
    assert (o.outcome, o.created, o.retries) == (Outcome.OK, 130, 2)
    # an order updated on a window's edge is read by both windows: counted once, then unchanged
    assert o.fetched == o.created + o.updated + o.unchanged and o.fetched - 130 <= 2
    first = Order.objects.get(order_no=orders[0]["order_sn"])
    assert first.shop == world.shop_b and first.lines.count() == 1
    assert str(first.paid_amount) == f"{orders[0]['pay_amount']:.2f}"
    # every call stayed inside the platform's 30 minutes
    windows = [int(c["end_updated_at"]) - int(c["start_updated_at"]) for c in fake.calls if "end_updated_at" in c]
    assert windows and max(windows) <= 1800
    assert runs["refunds"].created == 2
    waiting = Case.objects.get(external_ref=f"PDD-{880000}")
    assert (waiting.case_type, waiting.facts["platform_status"], waiting.order_id) == (
        "return",
        "WAIT_SELLER_AGREE",
        first.pk,
    )
    assert Case.objects.get(external_ref="PDD-880001").case_type == "refund_only"
    assert runs["orders"].window_start <= FROZEN_AT - dt.timedelta(hours=23)


def test_expired_token(world: World, pdd: tuple[PddFake, str]) -> None:
    fake, url = pdd
    fake.tokens.clear()
    connector = _connector(world, url)
    runs = services.connector_sync(connector=connector)
    assert runs[0].outcome == Outcome.FAILED and "10019" in runs[0].error
    connector.refresh_from_db()
    assert connector.failing_since is not None
