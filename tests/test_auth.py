"""Sign-in, throttling, audit of sign-ins, CSRF, tokens."""

from __future__ import annotations

import json

import pytest
from django.test import Client

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
        "error": {"code": "unauthenticated", "message": "Authentication required", "details": None}
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
