"""Issue 21 in Debian's chromium: the supervisor opens the connectors' health page, syncs a Taobao
shop now from the button, reads the run's counts, and the page holds at 390 px and 1366 px."""

from __future__ import annotations

import pytest

from kefu.commerce.models import Order
from kefu.connectors import services
from kefu.connectors.sandbox.http import served
from kefu.connectors.sandbox.top import TopFake
from kefu.core.events import SystemActor

from ..conftest import World
from .test_browser import _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_sync_now_from_the_health_page(world: World, live_server, page) -> None:  # type: ignore[no-untyped-def]
    top = TopFake(app_key="k", app_secret="s", session="sk")
    top.add_trades(37)
    with served(top) as url:
        services.connector_add(
            actor=SystemActor("cli"), platform="taobao", name="海盗船天猫", shop=world.shop_a, app_key="k",
            app_secret="s", session="sk", gateway=url + "/router/rest",
        )  # fmt: skip
        _sign_in(page, live_server, "boss")
        page.goto(f"{live_server.url}/connectors/")
        row = page.locator("[data-testid='connector-海盗船天猫']")
        assert "尚未同步" in row.inner_text()
        assert page.evaluate(OVERFLOW) <= 0
        page.locator("[data-testid='sync-海盗船天猫']").click()
        page.wait_for_selector("[data-testid=runs]")
        runs = page.locator("[data-testid=runs]").inner_text()
        assert "订单" in runs and "37" in runs and "成功" in runs
        assert Order.objects.filter(shop=world.shop_a).count() == 38
        page.goto(f"{live_server.url}/connectors/")
        assert "正常" in page.locator("[data-testid='connector-海盗船天猫']").inner_text()
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto(f"{live_server.url}/connectors/")
        assert page.evaluate(OVERFLOW) <= 0
        page.click("text=海盗船天猫")
        page.wait_for_selector("[data-testid=runs]")
        assert page.evaluate(OVERFLOW) <= 0
