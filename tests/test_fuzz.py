"""No 500s from input: schemathesis over the OpenAPI document (every operation, generated and
malformed requests, signed in as the supervisor who sees everything), and a Hypothesis fuzz of the
query parameters of every URL pattern of the pages. Any 5xx fails."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.wsgi import application
from kefu.org.services import token_create

from .conftest import PASSWORD, World
from .test_scoping import PARAM, _patterns

SCHEMA = schemathesis.openapi.from_dict(json.loads((Path(__file__).parent.parent / "docs/openapi.json").read_text()))
SCHEMA.app = application
STATS = {"requests": 0, "5xx": 0}
PAGES = {"requests": 0}
EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "300"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Any:
    """The real WSGI handler closes "old" connections at the end of each request, which would close
    the test's own transaction; Django's test client unhooks the same signal."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def supervisor_token(world: World) -> str:
    return token_create(actor=world.supervisor, user=world.supervisor, name="fuzz")


@pytest.mark.django_db
@SCHEMA.parametrize()
@settings(
    max_examples=int(os.environ.get("KEFU_FUZZ_API_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_never_answers_5xx(case: Any, supervisor_token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {supervisor_token}"})
    STATS["requests"] += 1
    if response.status_code >= 500:
        STATS["5xx"] += 1
    assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
    if response.status_code >= 400 and response.status_code != 405:  # 405: a method the route lacks
        body = response.json()
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    print(f"\nfuzz: API {STATS['requests']} requests, {STATS['5xx']} 5xx; pages {PAGES['requests']} requests")


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "",
            "-1",
            "0",
            "1e30",
            "9" * 40,
            "NaN",
            "Infinity",
            "2026-13-45",
            "2026-02-30",
            "9999-12",
            "0000-00",
            "abc",
            "%00",
            "\x00",
            "../../etc/passwd",
            "' OR 1=1 --",
            "<script>",
            "=cmd|' /C calc'!A0",
            "😀" * 50,
            "true",
            "yes",
            "[]",
            "{}",
            "a" * 5000,
        ]
    ),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
KEYS = [
    "cursor",
    "limit",
    "q",
    "month",
    "day",
    "date",
    "date_from",
    "date_to",
    "team",
    "shop",
    "staff",
    "status",
    "category",
    "case_type",
    "type",
    "format",
    "verb",
    "mine",
    "overdue",
    "province",
    "flag",
    "memo_invalid",
    "position",
    "order",
    "week",
    "monday",
    "next",
    "reason",
]


def _routes(world: World) -> list[str]:
    ids = {"order_id": world.order_a.pk, "customer_id": world.customer_a.pk, "product_id": world.product_a.pk}
    ids |= {"shop_id": world.shop_a.pk, "team_id": world.team_a.pk}
    out = []
    for route in _patterns():
        if route.startswith(("i18n/", "login/", "logout/", "api/")):
            continue
        names = [m.group("name") for m in PARAM.finditer(route)]
        if any(n not in ids for n in names):
            continue
        out.append("/" + PARAM.sub(lambda m: str(ids[m.group("name")]), route))
    return out


@pytest.mark.django_db
def test_page_query_parameters_never_answer_5xx(world: World) -> None:
    client = Client(raise_request_exception=False)
    assert client.login(username="boss", password=PASSWORD)
    routes = _routes(world)
    assert len(routes) >= 25
    seen = PAGES

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(routes), st.dictionaries(st.sampled_from(KEYS), HOSTILE, max_size=4))
    def probe(path: str, query: dict[str, str]) -> None:
        response = client.get(path, query)
        seen["requests"] += 1
        assert response.status_code < 500, f"GET {path} {query!r} → {response.status_code}"

    probe()
    assert seen["requests"] >= EXAMPLES
    # object ids far beyond any database integer, on every route with one
    for route in _patterns():
        if PARAM.search(route) and not route.startswith("api/"):
            path = "/" + PARAM.sub("9" * 30, route)
            assert client.get(path).status_code in {404, 405}, path
            assert client.post(path, {}).status_code in {404, 405}, path


@pytest.mark.django_db
def test_nul_characters_are_a_400_everywhere(world: World) -> None:
    """PostgreSQL refuses NUL in text: caught at the door (found by schemathesis on PostgreSQL)."""
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    api = client.get("/api/v1/staff", {"position": "\x00"})
    assert api.status_code == 400 and api.json()["error"]["code"] == "validation_error"
    assert client.get("/orders/", {"q": "a\x00b"}).status_code == 400
    body = '{"shop": ' + str(world.shop_a.pk) + ', "orders": [{"order_no": "N\\u0000UL"}]}'
    assert client.post("/api/v1/orders/push", body, content_type="application/json").status_code == 400
    form = "shop=" + str(world.shop_a.pk) + "&summary=x%00"
    assert client.post("/aftersales/new/", form, content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.get("/orders/", {"q": "fine"}).status_code == 200
