"""Sign-in, throttling, audit of sign-ins, CSRF, tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.models import Event
from kefu.org.models import ApiToken
from kefu.org.services import token_create, token_revoke

from .conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def _post_login(client: Client, username: str, password: str) -> int:
    return client.post("/login/", {"username": username, "password": password}).status_code


def test_sign_in_and_failure_are_audited(world: World) -> None:
    client = Client()
    assert _post_login(client, "lead_a", "wrong") == 400
    assert _post_login(client, "lead_a", PASSWORD) == 302
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True))
    assert "auth.login_failed" in verbs and verbs[-1] == "auth.login"
    failed = Event.objects.get(verb="auth.login_failed")
    assert failed.data["username"] == "lead_a" and failed.ip == "127.0.0.1"


def test_login_is_throttled_after_repeated_failures(world: World) -> None:
    client = Client()
    for _ in range(5):
        assert _post_login(client, "lead_a", "wrong") == 400
    # Even the right password is refused while locked.
    assert _post_login(client, "lead_a", PASSWORD) == 429
    assert "_auth_user_id" not in client.session
    # Another user from another address is not affected.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert _post_login(other, "agent_a", PASSWORD) == 302


def test_pages_need_sign_in(world: World) -> None:
    response = Client().get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_csrf_is_enforced_on_forms_and_session_api(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/login/", {"username": "lead_a", "password": PASSWORD}).status_code == 403
    client.login(username="lead_a", password=PASSWORD)
    response = client.post("/api/v1/orders/import", {"shop": world.shop_a.pk})
    assert response.status_code in {401, 403}
    assert client.post(f"/orders/{world.order_a.pk}/remark/", {"shipping": "顺丰"}).status_code == 403


def test_open_redirect_after_login_is_refused(world: World) -> None:
    response = Client().post("/login/?next=https://evil.example/", {"username": "lead_a", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def test_personal_token_authenticates_the_api_and_can_be_revoked(world: World) -> None:
    secret = token_create(actor=SystemActor("t"), user=world.lead_a, name="erp")
    assert not ApiToken.objects.filter(digest__contains=secret).exists()  # only the hash is stored
    client = Client()
    ok = client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert ok.status_code == 200
    assert [o["order_no"] for o in ok.json()["items"]] == [world.order_a.order_no]
    token_revoke(actor=SystemActor("t"), token=ApiToken.objects.get(user=world.lead_a))
    denied = client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert denied.status_code == 401
    assert denied.json() == {
        "error": {"code": "unauthenticated", "message": "请登录或提供 API 令牌。", "details": None}
    }


def test_tokens_page_creates_a_token_shown_once(world: World) -> None:
    client = Client()
    client.login(username="agent_a", password=PASSWORD)
    response = client.post("/tokens/", {"name": "script"})
    assert response.status_code == 200
    body = response.content.decode()
    secret = body.split('data-testid="secret">')[1].split("<")[0]
    assert secret.startswith("kefu_")
    assert secret not in client.get("/tokens/").content.decode()
    assert (
        json.loads(Client().get("/api/v1/shops", HTTP_AUTHORIZATION=f"Bearer {secret}").content)[0]["name"] == "海盗船"
    )


def test_default_language_is_chinese_and_english_is_available(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # a browser set to English still gets Chinese
    client.login(username="agent_a", password=PASSWORD)
    assert "订单" in client.get("/orders/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/orders/"})
    assert "Orders" in client.get("/orders/").content.decode()


# --- sign-in behind a proxy, shared counters, admin, tokens, headers (write path §7) ------------


def test_client_address_comes_from_trusted_proxies_only(world: World, settings: Any) -> None:
    from django.test import RequestFactory

    from kefu.core.context import client_ip

    factory = RequestFactory()
    behind_nginx = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2")
    settings.KEFU_TRUSTED_PROXIES = []
    assert client_ip(behind_nginx) == "127.0.0.1"  # no proxy configured: the header is not believed
    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert client_ip(behind_nginx) == "203.0.113.9"  # right-most address that is not a proxy
    forged = factory.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert client_ip(forged) == "198.51.100.7"  # a client talking directly cannot choose its address
    junk = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(junk) == "127.0.0.1"


def test_lockout_is_per_browser_address_behind_the_proxy_and_audited(world: World, settings: Any) -> None:
    settings.KEFU_TRUSTED_PROXIES = ["127.0.0.1"]
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for _ in range(settings.KEFU_LOGIN_MAX_FAILURES * 4):
        attacker.post("/login/", {"username": f"x{_}", "password": "nope"})
    assert attacker.post("/login/", {"username": "agent_a", "password": PASSWORD}).status_code == 429
    failed = Event.objects.filter(verb="auth.login_failed").first()
    assert failed is not None and failed.ip == "203.0.113.9"  # the browser's address, not nginx's
    assert Event.objects.filter(verb="auth.login_refused").exists()
    colleague = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert colleague.post("/login/", {"username": "agent_a", "password": PASSWORD}).status_code == 302


def test_embedded_cache_is_the_database_so_counters_are_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from config.settings import base

    monkeypatch.delenv("KEFU_REDIS_URL", raising=False)
    assert importlib.reload(base).CACHES["default"]["BACKEND"].endswith("DatabaseCache")
    assert not hasattr(base, "SESSION_ENGINE")  # Django's default: sessions in the database
    monkeypatch.setenv("KEFU_REDIS_URL", "redis://127.0.0.1:6379/0")
    with_redis = importlib.reload(base)
    assert with_redis.CACHES["default"]["BACKEND"].endswith("RedisCache")
    assert with_redis.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    monkeypatch.delenv("KEFU_REDIS_URL")
    importlib.reload(base)


def test_a_session_read_from_the_cache_still_ends_at_sign_out(world: World, settings: Any) -> None:
    """With Redis (production) a page reads its session from the cache, not the database; signing
    out still ends it everywhere (the cookie is refused afterwards)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client = Client()
    assert client.post("/login/", {"username": "agent_a", "password": PASSWORD}).status_code == 302
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/orders/").status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/orders/").status_code == 200
    assert not [q for q in ctx.captured_queries if "django_session" in q["sql"]]
    borrowed = Client()
    borrowed.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert borrowed.get("/orders/").status_code == 200  # the cookie alone signs in, until sign-out
    client.post("/logout/")
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert stale.get("/orders/").status_code == 302  # back to the sign-in page


def test_admin_sign_in_is_throttled(world: World, settings: Any) -> None:
    client = Client()
    for _ in range(settings.KEFU_LOGIN_MAX_FAILURES):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "boss", "password": PASSWORD}).status_code == 429
    # the review locked the supervisor out this way: from their own desk they still sign in
    boss = Client(REMOTE_ADDR="10.0.0.5")
    assert boss.post("/login/", {"username": "boss", "password": PASSWORD}).status_code == 302
    # another spelling of the same name (full-width letters sign in as boss) counts as the same name
    assert client.post("/admin/login/", {"username": "ｂoss", "password": "wrong"}).status_code == 429


def test_a_username_guessed_from_many_addresses_is_locked_in_the_end(world: World, settings: Any) -> None:
    limit = settings.KEFU_LOGIN_MAX_FAILURES
    for n in range(limit * 10):
        Client(REMOTE_ADDR=f"10.1.{n // 200}.{n % 200}").post("/login/", {"username": "boss", "password": "x"})
    assert Client(REMOTE_ADDR="10.0.0.5").post("/login/", {"username": "boss", "password": PASSWORD}).status_code == 429


def test_tokens_expire_and_failed_token_calls_are_audited(world: World) -> None:
    import datetime as dt
    from unittest import mock

    from kefu.core import clock
    from kefu.org.services import token_create

    secret = token_create(actor=world.agent_a, user=world.agent_a, expires_in_days=1)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get("/api/v1/orders", **auth).status_code == 200
    later = clock.now() + dt.timedelta(days=2)
    with mock.patch("kefu.core.clock.now", return_value=later):
        assert client.get("/api/v1/orders", **auth).status_code == 401
    assert Event.objects.filter(verb="auth.token_failed", data__prefix=secret[:12]).exists()
    with pytest.raises(ApplicationError):
        token_create(actor=world.agent_a, user=world.agent_a, expires_in_days=0)
    # a deactivated person's token stops at once; a used token records when
    other = token_create(actor=world.agent_b, user=world.agent_b)
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
    assert ApiToken.objects.get(user=world.agent_b).last_used_at is not None
    type(world.agent_b).objects.filter(pk=world.agent_b.pk).update(is_active=False)
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 401
    # a POST with a bad token is a 401 too (it read as a CSRF refusal of a session it never used)
    bad = client.post(
        "/api/v1/orders/push", {"shop": world.shop_a.pk, "orders": []}, content_type="application/json",
        HTTP_AUTHORIZATION="Bearer kefu_nonsense",
    )  # fmt: skip
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthenticated"


def test_security_headers_on_pages_and_exports(world: World) -> None:
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    page = client.get("/orders/")
    assert "default-src 'self'" in page["Content-Security-Policy"] and "no-store" in page["Cache-Control"]
    export = client.get("/attendance/statement/?format=csv")
    assert "no-store" in export["Cache-Control"]
    assert "no-store" in client.get("/api/v1/orders")["Cache-Control"]


# --- issue 16 §6: counters that hold under parallel requests; tokens that expire and die ----------


# (60 parallel wrong passwords: tests/test_counters.py, against the counter table)


def test_bad_tokens_lock_the_token_they_name_not_the_address(world: World, settings: Any) -> None:
    """21 bad tokens from one address locked every valid token on that address for 15 minutes."""
    from kefu.org.services import token_create

    good = token_create(actor=world.agent_a, user=world.agent_a)
    client = Client(REMOTE_ADDR="198.51.100.20")
    for n in range(settings.KEFU_LOGIN_MAX_FAILURES * 6):
        assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer kefu_guess{n:06d}x").status_code == 401
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {good}").status_code == 200
    # guessing the secret behind one token's prefix locks that prefix, and only it
    for n in range(settings.KEFU_LOGIN_MAX_FAILURES * 4):
        client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {good[:12]}wrong{n}")
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {good}").status_code == 401
    other = token_create(actor=world.agent_a, user=world.agent_a)
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200


def test_tokens_expire_by_default_and_die_with_a_password_change(world: World, settings: Any) -> None:
    import datetime as dt
    from unittest import mock

    from kefu.core import clock
    from kefu.org.services import token_create

    secret = token_create(actor=world.agent_a, user=world.agent_a)
    token = ApiToken.objects.get(prefix=secret[:12])
    assert token.expires_at is not None
    assert (token.expires_at - token.created_at) == dt.timedelta(days=settings.KEFU_TOKEN_DAYS) == dt.timedelta(days=90)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client = Client()
    assert client.get("/api/v1/orders", **auth).status_code == 200
    with mock.patch("kefu.core.clock.now", return_value=clock.now() + dt.timedelta(days=91)):
        assert client.get("/api/v1/orders", **auth).status_code == 401
    settings.KEFU_TOKEN_DAYS = 7
    short = token_create(actor=world.agent_a, user=world.agent_a)
    assert ApiToken.objects.get(prefix=short[:12]).expires_at == ApiToken.objects.get(
        prefix=short[:12]
    ).created_at + dt.timedelta(days=7)
    # the owner changes their password: every token of theirs stops, as their sessions do
    world.agent_a.set_password("a-new-password-456")
    world.agent_a.save()
    assert client.get("/api/v1/orders", **auth).status_code == 401
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {short}").status_code == 401
    fresh = token_create(actor=world.agent_a, user=world.agent_a)
    assert client.get("/api/v1/orders", HTTP_AUTHORIZATION=f"Bearer {fresh}").status_code == 200
