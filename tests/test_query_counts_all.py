"""Every page and API read of every app runs a constant number of queries as its rows grow
(issue 19: discovered from the URL configuration, not listed). The supervisor, who sees every row,
opens each GET route — lists, and details filled with an object of the first batch — once with one
batch of every kind of record and again with four; the counts must be the same."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.core.events import SystemActor

from .conftest import PASSWORD, World
from .test_scoping import _b_objects, _fill, _patterns

pytestmark = pytest.mark.django_db

# Routes whose reads are not the app's rows: the live stream holds the connection open, exports
# stream files (their sizes grow, their queries are keyset pages), and the OpenAPI documents.
SKIP = ("/stream", "/export", "openapi", "/api/v1/docs", "/logout", "/i18n/", "/widget/", "/webhook/")


def _grow(world: World, n: int) -> dict[str, Any]:
    """One more batch of every kind of record (team B's shop, which the supervisor sees)."""
    from kefu.desk.services import channel_default, messages_ingest

    values = _b_objects(world, n)
    messages_ingest(
        actor=SystemActor("t"),
        channel=channel_default("api"),
        items=[
            {
                "external_id": f"grow-{n}-{i}",
                "shop": world.shop_b.code,
                "buyer": f"buyer-{n}-{i}",
                "direction": "in",
                "sent_at": "2026-11-25T10:00:00+08:00",
                "text": "在吗",
            }
            for i in range(3)
        ],
    )
    return values


def _counts(client: Client, routes: list[str]) -> dict[str, int]:
    out = {}
    for path in routes:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        if response.status_code == 200 and not response.streaming:
            out[path] = len(ctx.captured_queries)
    return out


def test_every_read_has_a_constant_query_count(
    world: World, settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kefu.core import policy_store

    settings.MEDIA_ROOT = tmp_path
    # the policy is read once per 30 s per process; a slow run must not count one read more
    monkeypatch.setattr(policy_store, "CACHE_SECONDS", 10**9)
    values = _grow(world, 1)
    from kefu.core import reports

    routes = [
        _fill(route, values) for route in _patterns() if not any(s in route for s in SKIP) and ("slug" not in route)
    ]
    for report in reports.all_reports():  # every registered report, as a page and through the API
        routes += [f"/reports/{report.slug}/", f"/api/v1/reports/{report.slug}"]
    client = Client()
    client.login(username="boss", password=PASSWORD)
    _counts(client, routes)  # warm the caches (session, content types, the policy, status labels)
    few = _counts(client, routes)
    for n in (2, 3, 4):
        _grow(world, n)
    _counts(client, routes)
    many = _counts(client, routes)
    assert len(few) >= 80, sorted(few)  # every list and detail page that opens for the supervisor
    grew = {path: (few[path], many.get(path)) for path in few if many.get(path) != few[path]}
    assert grew == {}, "\n".join(f"{k}: {v}" for k, v in sorted(grew.items()))
