"""The web chat widget a shop embeds on its own site (issue 9 §4): one ``<script>`` per widget
channel; a visitor identity issued by the server and kept in the visitor's browser; messages
through the desk's one pipeline; replies fetched by the widget; CORS limited to the channel's
origins; rate-limited; everything rendered as text by the widget (``textContent``), never as HTML.

The visitor identity (issue 16 §1) is 128 random bits the server issues, with an HMAC tag over the
channel and those bits: an identity the server did not issue is refused before anything is read,
so enumerating identities reads nothing, and the buyer name agents see is 128 bits of a hash of
it (two visitors never share a thread; the name does not give the identity away)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from kefu.core import clock, throttle
from kefu.core.context import client_ip
from kefu.core.events import SystemActor
from kefu.core.params import json_loads

from . import selectors, services
from .models import Channel, ChannelKind

VISITOR = re.compile(r"^[0-9a-f]{32}\.[0-9a-f]{32}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{16,64}$")
MAX_TEXT = 2000
PER_MINUTE = 20
HISTORY_PER_MINUTE = 120  # the widget polls once a second while open
NEW_VISITORS_PER_MINUTE = 30  # per address


def _tag(code: str, raw: str) -> str:
    key = hashlib.sha256(f"kefu.desk.widget.visitor:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{code}:{raw}".encode(), hashlib.sha256).hexdigest()[:32]


def visitor_issue(code: str) -> str:
    """A new visitor identity for the widget channel ``code``: 128 random bits and their tag."""
    raw = secrets.token_hex(16)
    return f"{raw}.{_tag(code, raw)}"


def visitor_valid(code: str, visitor: Any) -> bool:
    """Whether ``visitor`` is an identity this server issued for the channel ``code``."""
    if not isinstance(visitor, str) or not VISITOR.match(visitor):
        return False
    raw, tag = visitor.split(".")
    return hmac.compare_digest(tag, _tag(code, raw))


def visitor_name(visitor: str) -> str:
    """How a visitor appears to agents: 128 bits of a hash of their identity (never the identity,
    which would let a reader of the inbox write and read as the visitor)."""
    digest = hashlib.sha256(f"kefu-visitor:{visitor}".encode()).digest()[:16]
    return "访客-" + base64.b32encode(digest).decode().rstrip("=").lower()


def _channel(code: str) -> Channel | None:
    channel = selectors.channel_by_code(code)
    return channel if channel is not None and channel.kind == ChannelKind.WIDGET else None


def _cors(request: HttpRequest, channel: Channel, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin and origin in channel.origins:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    return response


def _error(request: HttpRequest, channel: Channel | None, status: int, code: str, message: str) -> HttpResponse:
    response = JsonResponse({"error": {"code": code, "message": message, "details": None}}, status=status)
    return _cors(request, channel, response) if channel is not None else response


def _greeting(channel: Any) -> str:
    """The policy's greeting (seed 000/001: greet the buyer first) with the shop's name."""
    from kefu.core.policy_store import policy_in_force

    text = str(policy_in_force().desk.widget_greeting)
    shop = getattr(channel, "shop", None)
    return text.replace("{店铺}", shop.name if shop is not None else channel.name)


def script(request: HttpRequest, code: str) -> HttpResponse:
    channel = _channel(code)
    if channel is None:
        return HttpResponse("/* unknown widget */", content_type="text/javascript", status=404)
    base = request.build_absolute_uri("/").rstrip("/")
    response = render(
        request,
        "desk/widget.js",
        {
            "base_json": json.dumps(base),
            "code_json": json.dumps(channel.code),
            "title_json": json.dumps(channel.name),
            "greeting_json": json.dumps(_greeting(channel)),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=300"
    return response


@csrf_exempt  # no cookies are read or set: the visitor id travels in the body, CORS limits the caller
def messages(request: HttpRequest, code: str) -> HttpResponse:
    channel = _channel(code)
    if channel is None:
        return _error(request, None, 404, "not_found", _("Not found"))
    origin = request.headers.get("Origin", "")
    if origin not in channel.origins:
        return _error(request, None, 403, "permission_denied", _("This site may not use the chat."))
    if request.method == "OPTIONS":
        return _cors(request, channel, HttpResponse(status=204))
    if request.method == "GET":
        return _history(request, channel)
    if request.method == "POST" and request.GET.get("new") == "visitor":
        return _new_visitor(request, channel)
    if request.method != "POST":
        return _error(request, channel, 405, "method_not_allowed", _("Method not allowed."))
    try:
        body = json_loads(request.body or b"{}")
    except ValueError:
        return _error(request, channel, 400, "validation_error", _("The body is not JSON."))
    visitor = body.get("visitor") if isinstance(body, dict) else None
    text = body.get("text") if isinstance(body, dict) else None
    if not visitor_valid(channel.code, visitor):
        return _error(request, channel, 400, "visitor_unknown", _("The visitor id is not valid."))
    assert isinstance(visitor, str)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT or not services.text_storable(text):
        return _error(request, channel, 400, "validation_error", _("Write a message of at most 2,000 characters."))
    if not (
        throttle.allow(f"widget:{visitor}", PER_MINUTE, 60)
        and throttle.allow(f"widget-ip:{client_ip(request)}", PER_MINUTE * 5, 60)
    ):
        return _error(request, channel, 429, "visitor_limit", _("Too many messages; please wait a minute."))
    client_id = body.get("id") if isinstance(body.get("id"), str) and CLIENT_ID.match(body["id"]) else uuid.uuid4().hex
    result = services.messages_ingest(
        actor=SystemActor(label=f"widget:{channel.code}"),
        channel=channel,
        items=[
            {
                "external_id": f"w-{visitor[-24:]}-{client_id}"[:128],  # a message id within its visitor
                "shop": channel.shop.code if channel.shop else "",
                "buyer": visitor_name(visitor),
                "direction": "in",
                "kind": "text",
                "sent_at": clock.now().isoformat(),
                "text": text,
            }
        ],
    )
    if result.failed:
        return _error(request, channel, 400, "validation_error", str(result.failed[0]["reason"]))
    return _cors(request, channel, JsonResponse({"created": result.created, "duplicates": result.duplicates}))


def _new_visitor(request: HttpRequest, channel: Channel) -> HttpResponse:
    if not throttle.allow(f"widget-new:{client_ip(request)}", NEW_VISITORS_PER_MINUTE, 60):
        return _error(request, channel, 429, "visitor_limit", _("Too many requests; please wait a minute."))
    return _cors(request, channel, JsonResponse({"visitor": visitor_issue(channel.code)}))


def _history(request: HttpRequest, channel: Channel) -> HttpResponse:
    visitor = request.GET.get("visitor", "")
    if not (
        throttle.allow(f"widget-read-ip:{client_ip(request)}", HISTORY_PER_MINUTE * 5, 60)
        and throttle.allow(f"widget-read:{visitor[:80]}", HISTORY_PER_MINUTE, 60)
    ):
        return _error(request, channel, 429, "visitor_limit", _("Too many requests; please wait a minute."))
    if not visitor_valid(channel.code, visitor):
        return _error(request, channel, 400, "visitor_unknown", _("The visitor id is not valid."))
    after = request.GET.get("after", "0")
    rows = selectors.visitor_messages(
        channel_id=channel.pk,
        shop_id=channel.shop_id or 0,
        buyer=visitor_name(visitor),
        after=int(after[:18]) if after.isdecimal() else 0,
    )
    items: list[dict[str, Any]] = [
        {"id": m.pk, "from": "visitor" if m.direction == "in" else "shop", "text": m.text, "at": m.sent_at.isoformat()}
        for m in rows
    ]
    return _cors(request, channel, JsonResponse({"messages": items}))
