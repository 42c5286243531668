"""Service-desk API: messages in (token or signed webhook), conversations, presence and KPIs."""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from kefu.core import clock, signing
from kefu.core.errors import ApplicationError
from kefu.core.events import SystemActor
from kefu.core.params import Day, json_loads

from . import selectors, services
from .models import Channel

router = Router(tags=["desk"])

MAX_SKEW_SECONDS = 300
MAX_BODY = 16_000_000  # 500 messages of 5,000 characters, \u-escaped, fit


class MessagesIn(Schema):
    messages: list[Any]


class IngestOut(Schema):
    created: int
    duplicates: int
    failed: list[dict[str, Any]]


def _channel(code: str) -> Channel | None:
    return selectors.channel_by_code(code)


@router.post("/desk/messages", response=IngestOut)
def post_messages(request: HttpRequest, payload: MessagesIn) -> object:
    """Messages from an integration (token auth; the token's user needs ``desk.integrate`` — team
    leads, the deputy and the supervisor), into the one pipeline and always the ``api`` channel (a
    signed channel takes deliveries through its webhook only): idempotent by external_id; bad
    messages reported by index, the rest kept. Shops must lie in the token's scope."""
    target = services.channel_for_pusher(request.user)
    if target is None:
        raise ApplicationError("unknown_channel", _("No active channel with this code."), status=404)
    return services.messages_ingest(actor=request.user, channel=target, items=payload.messages).as_dict()


def _unsigned(message: str) -> ApplicationError:
    return ApplicationError("bad_signature", message, status=401)


@router.post("/desk/webhook/{channel}", response=IngestOut, auth=None)
def webhook(request: HttpRequest, channel: str) -> object:
    """A chat source pushes messages, signed over the timestamp and the body:
    ``X-Kefu-Timestamp: <Unix seconds>`` (at most 5 minutes off) and ``X-Kefu-Signature:
    v2=<hex HMAC-SHA256 with the channel's secret of "<timestamp>.<raw body>">``. A signed request
    is taken once: the same signature again is a 409 (re-sign with a fresh timestamp to retry;
    messages are idempotent by external_id anyway). The declared length is checked before anything
    is read and the body is read in chunks into a spool while its signature is computed, so an
    unsigned body never sits in memory. The old form (``sha256=`` over the body alone) is accepted
    only until ``KEFU_WEBHOOK_LEGACY_UNTIL`` (docs/deploy.md)."""
    target = _channel(channel)
    signature = request.headers.get("X-Kefu-Signature", "")
    stamp = request.headers.get("X-Kefu-Timestamp", "")
    legacy = signature.startswith("sha256=")
    if target is None or not (signature.startswith("v2=") or legacy):
        raise _unsigned(_("The request is not signed for this channel."))
    if legacy and not signing.legacy_accepted(clock.today()):
        raise _unsigned(_("Sign the timestamp and the body (v2=); the body-only signature is no longer accepted."))
    try:
        age = abs(time.time() - float(stamp))
    except ValueError:
        raise _unsigned(_("X-Kefu-Timestamp must be Unix seconds.")) from None
    if not age <= MAX_SKEW_SECONDS:
        raise _unsigned(_("The request's timestamp is more than 5 minutes off."))
    digest = signing.digest_of(signature)
    if digest is None:
        raise _unsigned(_("The signature does not match."))
    body = signing.read_signed(
        request,
        secret=target.secret.encode(),
        prefix=b"" if legacy else stamp.encode() + b".",
        signature=digest,
        max_bytes=MAX_BODY,
    )
    if body is None:
        raise _unsigned(_("The signature does not match."))
    # remembered for the replay window (the body-only form for a day: its timestamp is not signed)
    if not signing.first_delivery(f"desk:{target.pk}", digest, MAX_SKEW_SECONDS * 2 if not legacy else 86_400):
        raise ApplicationError("replayed", _("This signed request was already received."), status=409)
    try:
        data = json_loads(body)
    except ValueError:
        raise ApplicationError("validation_error", _("The body is not JSON."), status=400) from None
    items = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ApplicationError("validation_error", _('The body needs "messages": [...].'), status=400)
    actor = SystemActor(label=f"webhook:{target.code}")
    return services.messages_ingest(actor=actor, channel=target, items=items).as_dict()


class FiguresOut(Schema):
    conversations: int
    rounds: int
    answered_3min: int
    response_3min_rate: str | None
    first_response_seconds: str | None
    avg_response_seconds: str | None
    transfers: int
    consulted_buyers: int
    paid_buyers: int
    conversion_rate: str | None
    sales: str
    aov: str | None


class AgentFiguresOut(FiguresOut):
    employee_no: str


class KpisOut(Schema):
    date: str
    agents: list[AgentFiguresOut]
    total: FiguresOut


@router.get("/desk/kpis", response=KpisOut)
def get_kpis(request: HttpRequest, date: Day | None = None, shop: int | None = None, team: int | None = None) -> object:
    """R-DESK-3 per agent and day, and the total for the shop or team (within the caller's scope).
    Seconds with 2 decimals, rates with 4, money with 2; rates are null when nothing was counted."""
    if shop is not None:
        from kefu.org.selectors import access_shop_by_id

        access_shop_by_id(request.user, shop)
    if team is not None:
        from kefu.org.selectors import access_team_by_id

        access_team_by_id(request.user, team)
    day = date or clock.today()
    result = selectors.kpis(actor=request.user, day=day, shop=shop, team=team)
    return {
        "date": day.isoformat(),
        "agents": [{"employee_no": no, **f.as_dict()} for no, f in sorted(result.agents.items())],
        "total": result.total.as_dict(),
    }


class PresenceIn(Schema):
    state: str


@router.post("/desk/presence")
def set_presence(request: HttpRequest, payload: PresenceIn) -> dict[str, str]:
    presence = services.presence_set(actor=request.user, state=payload.state)
    return {"state": presence.state}


class KnowledgeProductOut(Schema):
    id: int
    shop: str
    sku: str
    title: str
    category: str
    price: str
    parameters: dict[str, str]
    matched: list[str]


class KnowledgeScriptOut(Schema):
    id: int
    shop: str
    category: str
    title: str
    text: str


class KnowledgeQuestionOut(Schema):
    id: int
    shop: str
    question: str
    answer: str


class KnowledgeOut(Schema):
    terms: list[str]
    products: list[KnowledgeProductOut]
    scripts: list[KnowledgeScriptOut]
    questions: list[KnowledgeQuestionOut]


@router.get("/desk/knowledge", response=KnowledgeOut)
def get_knowledge(request: HttpRequest, q: str = "", shop: int | None = None) -> object:
    """SPEC §8: products by any part of their title, SKU, category or parameters (with all their
    parameters and the names a term matched), approved canned replies and the question log. Terms
    are split on spaces and commas only and matched as substrings (Chinese is never cut into words)."""
    if shop is not None:
        from kefu.org.selectors import access_shop_by_id

        access_shop_by_id(request.user, shop)
    k = selectors.knowledge_search(actor=request.user, q=q[:100], shop=shop)
    return {
        "terms": k.terms,
        "products": [
            {
                "id": h.product.pk,
                "shop": h.product.shop.name,
                "sku": h.product.sku,
                "title": h.product.title,
                "category": h.product.category,
                "price": f"{h.product.price:.2f}",
                "parameters": {str(a): str(b) for a, b in (h.product.parameters or {}).items()},
                "matched": [name for name, _value in h.matched],
            }
            for h in k.products
        ],
        "scripts": [
            {"id": s.pk, "shop": s.shop.name, "category": s.category, "title": s.title, "text": s.text}
            for s in k.scripts
        ],
        "questions": [
            {"id": x.pk, "shop": x.shop.name, "question": x.question, "answer": x.answer} for x in k.questions
        ],
    }
