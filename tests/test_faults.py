"""Issue 16 §5: nothing lost and no 500 when a dependency blinks — here Redis unreachable."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from kefu.desk import services as desk

from .conftest import PASSWORD, World

DEAD_REDIS = {
    "default": {
        "BACKEND": "kefu.core.cache.FailoverRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    },
    "fallback": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kefu_cache"},
}


@pytest.mark.django_db(transaction=True)
def test_with_redis_unreachable_sign_in_tokens_the_widget_and_the_webhook_still_answer(world: World) -> None:
    """Sign-in, the token API, the widget and the webhook answered 500 with Redis unreachable;
    now the database cache answers for it (throttles and the replay window keep working)."""
    import hashlib
    import hmac

    from kefu.core import cache as failover
    from kefu.desk.widget import visitor_issue
    from kefu.org.services import token_create

    with override_settings(CACHES=DEAD_REDIS):
        call_command("createcachetable", verbosity=0)
        failover._down_until = 0.0
        client = Client()
        assert client.post("/login/", {"username": "agent_a", "password": PASSWORD}).status_code == 302
        wrong = [Client().post("/login/", {"username": "boss", "password": "x"}).status_code for _ in range(7)]
        assert wrong[:5] == [400] * 5 and wrong[5:] == [429, 429]  # the throttle counts in the fallback
        secret = token_create(actor=world.lead_a, user=world.lead_a)
        assert Client().get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
        desk.channel_create(
            actor=world.supervisor,
            code="wid",
            name="w",
            kind="widget",
            shop=world.shop_a,
            origins=["https://a.example"],
        )
        visitor = visitor_issue("wid")
        posted = Client().post(
            "/desk/widget/wid/messages",
            json.dumps({"visitor": visitor, "text": "在吗"}),
            content_type="application/json",
            HTTP_ORIGIN="https://a.example",
        )
        assert posted.status_code == 200 and posted.json()["created"] == 1
        channel = desk.channel_create(actor=world.supervisor, code="qn", name="千牛")
        body = json.dumps(
            {"messages": [{"external_id": "r1", "shop": "hdc", "buyer": "b1", "direction": "in", "kind": "text",
                           "sent_at": "2026-11-20T10:00:00+08:00", "text": "你好"}]}
        ).encode()  # fmt: skip
        stamp = str(int(time.time()))
        sig = hmac.new(channel.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers: dict[str, Any] = {"HTTP_X_KEFU_SIGNATURE": f"v2={sig}", "HTTP_X_KEFU_TIMESTAMP": stamp}
        url = "/api/v1/desk/webhook/qn"
        assert Client().post(url, body, content_type="application/json", **headers).json()["created"] == 1
        assert Client().post(url, body, content_type="application/json", **headers).status_code == 409  # remembered


def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after_never_a_500(world: World) -> None:
    """A PostgreSQL restart (or fail-over) under load: requests that meet the closed connection get a
    503 with Retry-After — the page in the layout, the API in its one error shape — and nothing is
    half saved; a query's own error stays a bug (500). The real restart: scripts/faults.py."""
    from unittest import mock

    from django.db import OperationalError, ProgrammingError

    client = Client(raise_request_exception=False)
    client.login(username="lead_a", password=PASSWORD)
    with mock.patch("kefu.commerce.selectors.order_queryset", side_effect=_lost):
        page = client.get("/orders/")
        api = client.get("/api/v1/orders")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "try again in a few seconds" in page.content.decode().lower() or "几秒" in page.content.decode()
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api.json()["error"]["code"] == "unavailable"
    with mock.patch("kefu.commerce.selectors.order_queryset", side_effect=OperationalError("database is locked")):
        assert client.get("/orders/").status_code == 503
    with mock.patch("kefu.commerce.selectors.order_queryset", side_effect=ProgrammingError("no such column")):
        assert client.get("/orders/").status_code == 500
        assert client.get("/api/v1/orders").status_code == 500


def test_a_signed_in_person_meets_a_503_when_the_database_is_gone_before_any_view(world: World) -> None:
    """The review cut PostgreSQL under a running server: every signed-in page answered 500 — the
    session (read in a middleware, and again by the error page's layout) failed before any view.
    Now the plain page answers 503 with Retry-After for pages, the JSON shape for the API."""
    from unittest import mock

    from django.contrib.sessions.backends.db import SessionStore

    client = Client(raise_request_exception=False)
    client.login(username="lead_a", password=PASSWORD)
    with mock.patch.object(SessionStore, "load", side_effect=_lost):
        for path in ("/", "/desk/", "/orders/", "/no-such-page/"):
            page = client.get(path)
            assert (page.status_code, page["Retry-After"]) == (503, "5"), path
        api = client.get("/api/v1/orders")
        assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable"


def _lost(*args: Any, **kwargs: Any) -> Any:
    """What Django raises when PostgreSQL went away under a query (psycopg's error as the cause)."""
    import psycopg
    from django.db import OperationalError

    try:
        raise psycopg.OperationalError("server closed the connection unexpectedly")
    except psycopg.OperationalError as cause:
        raise OperationalError("server closed the connection unexpectedly") from cause
