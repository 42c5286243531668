"""Thin views for the service desk: the inbox, a conversation beside the buyer's orders and cases,
replies and transfers, presence, the team lead's board, the KPI page and the live stream (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, close_old_connections, connections
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.timesince import timesince
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.commerce.forms import RemarkForm
from kefu.core import clock, wording
from kefu.core.errors import ApplicationError
from kefu.core.events import timeline
from kefu.core.params import day_query, int_param
from kefu.core.scoping import WORK_POSITIONS, Scope, scope_for
from kefu.org import selectors as org
from kefu.org.permissions import has_capability
from kefu.web.http import form_post, render_page_or_partial, render_panels, require_capability

from . import live, selectors, services
from .models import ChannelKind, ChaseState, PresenceState, Queue

STREAM_SECONDS = 50  # then the browser's EventSource reconnects (with Last-Event-ID)
POLL_SECONDS = 0.4
HEARTBEAT_SECONDS = 15.0  # a comment line when quiet: a gone browser is noticed, proxies keep the line
ASYNC_STREAM_SECONDS = 300  # an async stream holds no thread: it may stay open longer


@functools.lru_cache(maxsize=4096)
def _waited_minutes(minutes: int, language: str) -> str:
    """ "waiting 3 minutes" in ``language`` (the language is part of the key: the phrase is cached)."""
    now = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return _("waiting %(t)s") % {"t": timesince(now - dt.timedelta(minutes=minutes), now)}


def _waited(delta: dt.timedelta) -> str:
    """How long a buyer has waited, as the inbox shows it: one phrase per whole minute, made once
    (200 waiting rows each asked ``timesince`` and its translations)."""
    return _waited_minutes(max(0, int(delta.total_seconds() // 60)), get_language() or "")


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    g = request.GET
    staff = org.my_staff_id(request.user)  # from the request's scope: no query of its own
    mine = g.get("mine") == "1"
    page = selectors.inbox(
        actor=request.user,
        mine=staff if mine and staff else None,
        waiting=g.get("waiting") == "1",
        shop=int_param(g.get("shop")),
        queue=g.get("queue") if g.get("queue") in Queue.values else None,
        closed=g.get("closed") == "1",
        cursor=g.get("cursor"),
        values=selectors.INBOX_ROW,
    )
    query = g.copy()
    query.pop("cursor", None)
    now = clock.now()
    queues = wording.choice_labels(Queue)
    # what each row shows beyond its fields, worked out once here (the template is the page's cost)
    rows = [
        (
            c,
            queues.get(c["queue"], c["queue"]),
            _waited(now - c["waiting_since"]) if c["waiting_since"] else "",
        )
        for c in page.items
    ]
    ctx = {
        "page": page,
        "rows": rows,
        "conversation_base": reverse("desk:inbox"),
        "f": g,
        "query": query.urlencode(),
        "shops": org.shop_choices(actor=request.user),
        "queues": Queue.choices,
        "presence": selectors.my_presence(staff),
        "presence_states": PresenceState.choices,
        "staff": staff,
        "last_id": selectors.last_message_id(),
        "now": now,
    }
    return render_page_or_partial(request, "desk/inbox.html", "results", ctx)


@login_required
def conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = services.access_conversation_by_id(request.user, conversation_id)
    before = int_param(request.GET.get("before"))
    items, older = selectors.thread(conversation=conv, before=before)
    from kefu.commerce import selectors as commerce

    orders = commerce.orders_of_buyer(actor=request.user, shop=conv.shop_id, buyer=conv.buyer, limit=10)
    from kefu.aftersales import selectors as aftersales

    cases = aftersales.cases_of_buyer(actor=request.user, shop=conv.shop_id, buyer=conv.buyer)
    ctx = {
        "c": conv,
        "items": items,
        "older": older,
        "oldest_id": items[0].pk if items else None,
        "orders": orders,
        "cases": cases,
        "events": timeline(conv, limit=30),
        "team_members": org.team_staff(actor=request.user, team=conv.team_id) if conv.team_id else [],
        "teams": org.team_list(actor=request.user),
        "last_id": items[-1].pk if items else 0,
        "reply_key": uuid.uuid4().hex,
        "now": clock.now(),
        "remark_form": RemarkForm(),
        "panels": render_panels(request, "desk.conversation", conv),
    }
    return render(request, "desk/conversation.html", ctx)


@login_required
@require_POST
def reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = services.access_conversation_by_id(request.user, conversation_id)

    def sent(message: Any) -> HttpResponse:
        if getattr(request, "htmx", None):
            return render(request, "desk/_message.html", {"m": message, "fresh_key": uuid.uuid4().hex})
        return redirect("desk:conversation", conv.pk)

    return form_post(
        request,
        lambda: services.reply_send(
            actor=request.user,
            conversation=conv,
            text=request.POST.get("text", ""),
            idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
        ),
        then=sent,
        failed=lambda: redirect("desk:conversation", conv.pk),
    )


@login_required
@require_POST
def transfer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = services.access_conversation_by_id(request.user, conversation_id)
    staff_id = int_param(request.POST.get("staff"))
    team_id = int_param(request.POST.get("team"))
    to_staff = org.access_staff_by_id(request.user, staff_id) if staff_id else None
    to_team = org.access_team_by_id(request.user, team_id) if team_id and not to_staff else None
    return form_post(
        request,
        lambda: services.conversation_transfer(
            actor=request.user, conversation=conv, to_staff=to_staff, to_team=to_team, note=request.POST.get("note", "")
        ),
        then=redirect("desk:conversation", conv.pk),
        done=_("Transferred."),
    )


@login_required
@require_POST
def close(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conv = services.access_conversation_by_id(request.user, conversation_id)
    return form_post(
        request,
        lambda: services.conversation_close(actor=request.user, conversation=conv),
        then=redirect("desk:conversation", conv.pk),
    )


@login_required
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    return form_post(
        request,
        lambda: services.presence_set(actor=request.user, state=request.POST.get("state", "")),
        then=redirect((request.POST.get("next") == "board" and "desk:board") or "desk:inbox"),
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The team lead's live board: who is online, away or offline, how many buyers wait, and 空挂."""
    require_capability(request, "statement.view_team")
    rows = selectors.presence_board(actor=request.user)
    ctx = {"rows": rows, "idle_count": sum(1 for r in rows if r["idle"]), "last_id": selectors.last_message_id()}
    return render_page_or_partial(request, "desk/board.html", "board", ctx)


@login_required
def kpis(request: HttpRequest) -> HttpResponse:
    day = day_query(request.GET.get("date")) or clock.today()
    shop = int_param(request.GET.get("shop"))
    team = int_param(request.GET.get("team"))
    if shop:
        org.access_shop_by_id(request.user, shop)
    if team:
        org.access_team_by_id(request.user, team)
    if request.GET.get("export") == "xlsx":
        result = selectors.kpis(actor=request.user, day=day, shop=shop, team=team)
        names = org.staff_names_by_employee_no(list(result.agents))
        return _kpis_xlsx(day, _kpi_rows(result, names), result.total.as_dict())
    # the 14-day trend ends with the day itself: the day's figures are its last, computed once
    trend = selectors.rate_trend(actor=request.user, last=day, shop=shop, team=team)
    result = trend.last
    names = org.staff_names_by_employee_no(list(result.agents) + [no for no, _cells in trend.agents])
    rows = _kpi_rows(result, names)
    ctx = {
        "day": day,
        "rows": rows,
        "distribution": selectors.response_distribution(actor=request.user, day=day, shop=shop, team=team),
        "trend": trend.days,
        "agent_trend": [(names.get(no, no), no, cells) for no, cells in trend.agents],
        "query": request.GET.urlencode(),
        "total": result.total.as_dict(),
        "shops": org.shop_list(actor=request.user),
        "teams": org.team_list(actor=request.user),
        "f": request.GET,
    }
    return render(request, "desk/kpis.html", ctx)


def _kpi_rows(result: Any, names: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(names.get(no, no), no, f.as_dict()) for no, f in sorted(result.agents.items())]


@login_required
def stream(request: HttpRequest) -> StreamingHttpResponse:
    """Server-Sent Events: every new message in the viewer's scope (optionally one conversation),
    as an event with the rendered row; ``Last-Event-ID`` / ``after`` resume without loss. Under ASGI
    the stream is an async generator holding no thread (ADR 0018); under WSGI it holds its thread."""
    user = request.user
    conversation_id = int_param(request.GET.get("conversation"))
    if conversation_id:
        services.access_conversation_by_id(user, conversation_id)
    after = int_param(request.headers.get("Last-Event-ID")) or int_param(request.GET.get("after")) or 0
    if isinstance(request, ASGIRequest):
        scope = scope_for(user)
        content: Any = _events_async(user, conversation_id, after, scope)
    else:
        content = _events_blocking(user, conversation_id, after)
    response = StreamingHttpResponse(content, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


LOOKBACK_SECONDS = 30.0


class _Position:
    """Where a stream reads from. Message ids are taken when a message is inserted, but on PostgreSQL
    a message with a lower id can commit after a higher one (a placement still working while a reply
    commits): reading only past the newest id sent would lose it for good. So each read takes what
    lies past the position (``after``, capped: the position always moves on, however large a burst)
    and, as ids only, the gap back to where the stream stood ``LOOKBACK_SECONDS`` ago (``low``); ids
    already sent are skipped. A stream opened (or reopened) at ``after`` starts its gap at the first
    message received in the last ``LOOKBACK_SECONDS`` (``opening_low``): those may be sent again —
    the page skips rows it has, an inbox refreshes once."""

    def __init__(self, after: int, low: int | None = None) -> None:
        self.after = after
        self.marks: deque[tuple[float, int]] = deque([(time.monotonic(), min(after, after if low is None else low))])
        self.sent: set[int] = set()

    def low(self) -> int:
        cutoff = time.monotonic() - LOOKBACK_SECONDS
        while len(self.marks) > 1 and self.marks[1][0] <= cutoff:
            self.marks.popleft()
        low = self.marks[0][1]
        self.sent = {i for i in self.sent if i > low}
        return low

    def fresh(self, ids: list[int]) -> set[int]:
        """The ids not sent yet; remembered as sent, and the newest becomes the position."""
        low = self.marks[0][1]
        new = {i for i in ids if i > low and i not in self.sent}
        self.sent |= new
        if ids and max(ids) > self.after:
            self.after = max(ids)
            self.marks.append((time.monotonic(), self.after))
        return new


Found = tuple[list[tuple[int, int, str]], list[tuple[int, int]]]


def _stream_read(user: Any, conversation_id: int | None, low: int, after: int) -> Found:
    """What a stream may send: the messages in scope past ``after`` as (id, conversation, rendered
    row — for a conversation's stream only), oldest first and capped; and the ids of those between
    ``low`` and ``after`` (late commits among them)."""
    gap = selectors.message_refs_between(actor=user, low=low, high=after, conversation_id=conversation_id)
    if conversation_id:
        past = [
            _row(m) for m in selectors.messages_since(actor=user, conversation_ids=[conversation_id], after_id=after)
        ]
    else:
        past = [(pk, c, "") for pk, c in selectors.message_refs_since(actor=user, after_id=after)]
    return past, gap


def _stream_rows(user: Any, ids: list[int]) -> list[tuple[int, int, str]]:
    """Rendered rows of late messages a conversation's stream has not sent yet (rare)."""
    return [_row(m) for m in selectors.messages_by_ids(actor=user, ids=ids)]


def _row(m: Any) -> tuple[int, int, str]:
    return m.pk, m.conversation_id, str(render_to_string("desk/_message.html", {"m": m}))


def _late(position: _Position, found: Found) -> list[int]:
    """Ids in the look-back gap that this stream has not sent."""
    return sorted(pk for pk, _c in found[1] if pk > position.marks[0][1] and pk not in position.sent)


def _chunks(
    position: _Position, conversation_id: int | None, found: Found, late_rows: list[tuple[int, int, str]]
) -> list[str]:
    past, gap = found
    late_ids = set(_late(position, found))
    if conversation_id:
        rows = [r for r in late_rows if r[0] in late_ids] + past
        new = position.fresh([pk for pk, _c, _h in rows])
        return [
            f"id: {pk}\nevent: message\ndata: {json.dumps({'html': html})}\n\n" for pk, _c, html in rows if pk in new
        ]
    refs = [(pk, c) for pk, c in gap if pk in late_ids] + [(pk, c) for pk, c, _h in past]
    new = position.fresh([pk for pk, _c in refs])
    conversations = sorted({c for pk, c in refs if pk in new})
    if not conversations:
        return []
    payload = {"ids": conversations, "url": reverse("desk:inbox")}
    return [f"id: {position.after}\nevent: inbox\ndata: {json.dumps(payload)}\n\n"]


def _events_blocking(user: Any, conversation_id: int | None, after: int) -> Iterator[str]:
    waiter = live.Waiter()
    position = _Position(after, selectors.opening_low(after_id=after, seconds=LOOKBACK_SECONDS))
    deadline = time.monotonic() + STREAM_SECONDS
    yield "retry: 1000\n\n"
    written = time.monotonic()
    try:
        while time.monotonic() < deadline:
            try:
                found = _stream_read(user, conversation_id, position.low(), position.after)
                late = _late(position, found)
                late_rows = _stream_rows(user, late) if conversation_id and late else []
            except DatabaseError:
                return  # the stream ends; the browser reconnects from its last event id
            chunks = _chunks(position, conversation_id, found, late_rows)
            if not chunks and time.monotonic() - written >= HEARTBEAT_SECONDS:
                chunks = [": \n\n"]
            if chunks:
                written = time.monotonic()
                yield from chunks
            waiter.wait(POLL_SECONDS)
    finally:
        waiter.close()  # the connection is closed by request_finished when the response closes


_read_pool: ThreadPoolExecutor | None = None


def _pooled(fn: Any, empty: Any) -> Any:
    """``fn`` on the streams' own threads: their connections are kept for CONN_MAX_AGE and dropped
    when broken (a database restart costs a stream one empty read, not its life)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        except DatabaseError:
            for conn in connections.all(initialized_only=True):
                conn.close()
            return empty

    return run


async def _events_async(user: Any, conversation_id: int | None, after: int, scope: Scope) -> AsyncIterator[str]:
    global _read_pool
    if _read_pool is None:
        _read_pool = ThreadPoolExecutor(settings.KEFU_STREAM_DB_THREADS, thread_name_prefix="kefu-stream")
    read = sync_to_async(_pooled(_stream_read, ([], [])), thread_sensitive=False, executor=_read_pool)
    rows = sync_to_async(_pooled(_stream_rows, []), thread_sensitive=False, executor=_read_pool)
    opening = sync_to_async(_pooled(selectors.opening_low, after), thread_sensitive=False, executor=_read_pool)
    hub = live.hub()
    shops = None if scope.all else scope.shop_ids
    # what restrict() depends on: the department, the team's shops, or (work positions) the person
    personal = scope.position in WORK_POSITIONS
    share_key = (scope.all, scope.shop_ids, scope.team_ids, scope.staff_id if personal else None, personal)
    sub = hub.subscribe(conversation=conversation_id, shops=None if conversation_id else shops)
    position = _Position(after, await opening(after_id=after, seconds=LOOKBACK_SECONDS) if after else after)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ASYNC_STREAM_SECONDS
    last = -live.MIN_READ_SECONDS
    yield "retry: 1000\n\n"
    try:
        while loop.time() < deadline:
            pause = last + live.MIN_READ_SECONDS - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)  # a burst of messages costs one read
            sub.event.clear()
            last = loop.time()
            low, high = position.low(), position.after
            # streams with the same scope (what restrict() sees) and read position share one read
            found = await hub.shared(
                (share_key, conversation_id, low, high), functools.partial(read, user, conversation_id, low, high)
            )
            late = _late(position, found)
            late_rows = await rows(user, late) if conversation_id and late else []
            for chunk in _chunks(position, conversation_id, found, late_rows):
                yield chunk
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.event.wait(), timeout=hub.poll_seconds())
    finally:
        hub.unsubscribe(sub)


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    """The supervisor's chat channels: webhook secrets, widgets and their allowed origins."""
    require_capability(request, "org.manage")
    if request.method == "POST":

        def save() -> None:
            if request.POST.get("channel"):
                channel = selectors.channel_get(int_param(request.POST.get("channel")))
                services.channel_update(
                    actor=request.user,
                    channel=channel,
                    name=request.POST.get("name", ""),
                    active=request.POST.get("active") == "1",
                    origins=request.POST.get("origins", "").split(),
                    rotate_secret=request.POST.get("rotate") == "1",
                )
            else:
                shop_id = int_param(request.POST.get("shop"))
                services.channel_create(
                    actor=request.user,
                    code=request.POST.get("code", "").strip(),
                    name=request.POST.get("name", "").strip(),
                    kind=request.POST.get("kind", "platform"),
                    shop=org.access_shop_by_id(request.user, shop_id) if shop_id else None,
                )

        return form_post(request, save, then=redirect("desk:channels"), done=_("Saved."))
    ctx = {
        "channels": selectors.channels(),
        "shops": org.shop_list(actor=request.user),
        "kinds": ChannelKind.choices,
        "base": request.build_absolute_uri("/").rstrip("/"),
    }
    return render(request, "desk/channels.html", ctx)


# --- canned replies, question log, follow-ups ---------------------------------------------------


@login_required
def scripts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":

        def save() -> None:
            if request.POST.get("script"):
                script = selectors.script_get(actor=request.user, script_id=int_param(request.POST.get("script")))
                services.script_decide(
                    actor=request.user, script=script, approve=request.POST.get("decision") == "approve"
                )
            else:
                shop = org.access_shop_by_id(request.user, int_param(request.POST.get("shop")))
                services.script_propose(
                    actor=request.user,
                    shop=shop,
                    category=request.POST.get("category", ""),
                    title=request.POST.get("title", ""),
                    text=request.POST.get("text", ""),
                )

        return form_post(request, save, then=redirect("desk:scripts"), done=_("Saved."))
    g = request.GET
    ctx = {
        "items": selectors.scripts(actor=request.user, shop=int_param(g.get("shop")), q=g.get("q", "")),
        "proposed": selectors.scripts(actor=request.user, status="proposed"),
        "shops": org.shop_list(actor=request.user),
        "f": g,
        "is_lead": has_capability(request.user, "scripts.decide"),
    }
    return render_page_or_partial(request, "desk/scripts.html", "results", ctx)


@login_required
def script_pick(request: HttpRequest) -> HttpResponse:
    """The reply box's canned-reply search (htmx): approved replies of the conversation's shop."""
    items = selectors.scripts(
        actor=request.user, shop=int_param(request.GET.get("shop")), q=request.GET.get("q", ""), limit=9
    )
    return render(request, "desk/_script_pick.html", {"items": items})


@login_required
@require_POST
def script_use(request: HttpRequest, script_id: int) -> HttpResponse:
    script = selectors.script_get(actor=request.user, script_id=script_id)
    services.script_used(script_id=script.pk)
    return HttpResponse(status=204)


@login_required
def questions(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":

        def save() -> None:
            if request.POST.get("question_id"):
                item = selectors.question_get(
                    actor=request.user, question_id=int_param(request.POST.get("question_id"))
                )
                services.question_answer(
                    actor=request.user,
                    item=item,
                    answer=request.POST.get("answer", ""),
                    promote=request.POST.get("promote") == "1",
                    category=request.POST.get("category", ""),
                )
            else:
                conv = _posted_conversation(request)
                shop = conv.shop if conv else org.access_shop_by_id(request.user, int_param(request.POST.get("shop")))
                services.question_record(
                    actor=request.user,
                    shop=shop,
                    question=request.POST.get("question", ""),
                    buyer=request.POST.get("buyer", ""),
                    conversation=conv,
                )

        return form_post(
            request,
            save,
            then=_back_to_conversation(request, "desk:questions"),
            done=_("Saved."),
        )
    ctx = {
        "items": selectors.questions(actor=request.user, open_only=request.GET.get("open") == "1"),
        "shops": org.shop_list(actor=request.user),
        "f": request.GET,
    }
    return render(request, "desk/questions.html", ctx)


@login_required
def followups(request: HttpRequest) -> HttpResponse:
    staff = org.staff_of(request.user)
    if request.method == "POST":

        def save() -> None:
            if request.POST.get("followup"):
                item = selectors.followup_get(actor=request.user, followup_id=int_param(request.POST.get("followup")))
                services.followup_done(actor=request.user, item=item, outcome=request.POST.get("outcome", ""))
            else:
                conv = _posted_conversation(request)
                shop = conv.shop if conv else org.access_shop_by_id(request.user, int_param(request.POST.get("shop")))
                owner_id = int_param(request.POST.get("owner"))
                owner = org.access_staff_by_id(request.user, owner_id) if owner_id else staff
                if owner is None:
                    raise ApplicationError("validation_error", _("Choose who follows it up."))
                due = parse_local_moment(request.POST.get("due_at", ""))
                services.followup_create(
                    actor=request.user,
                    shop=shop,
                    buyer=request.POST.get("buyer", "") or (conv.buyer if conv else ""),
                    order_no=request.POST.get("order_no", ""),
                    purchase_date=day_query(request.POST.get("purchase_date")),
                    problem=request.POST.get("problem", ""),
                    request=request.POST.get("request", ""),
                    owner=owner,
                    due_at=due,
                    conversation=conv,
                )

        return form_post(
            request,
            save,
            then=_back_to_conversation(request, "desk:followups"),
            done=_("Saved."),
        )
    ctx = {
        "items": selectors.followups(actor=request.user, open_only=request.GET.get("all") != "1"),
        "shops": org.shop_list(actor=request.user),
        "f": request.GET,
        "now": clock.now(),
    }
    return render(request, "desk/followups.html", ctx)


def parse_local_moment(text: str) -> dt.datetime:
    """A ``datetime-local`` field: local time, 2000–2100; a clear refusal otherwise."""
    from kefu.core.params import parse_moment

    try:
        return parse_moment(text)
    except ValueError as exc:
        raise ApplicationError("validation_error", _("Due time: %(problem)s") % {"problem": exc}) from None


@login_required
def summary(request: HttpRequest) -> HttpResponse:
    """R-DESK-7: the team lead's daily summary (a team in scope; today by default)."""
    require_capability(request, "statement.view_team")
    teams = org.team_list(actor=request.user)
    team_id = int_param(request.GET.get("team")) or (teams[0].pk if teams else None)
    if team_id is None:
        return render(request, "desk/summary.html", {"teams": teams, "s": None})
    team = org.access_team_by_id(request.user, team_id)
    day = day_query(request.GET.get("date")) or clock.today()
    data = selectors.daily_summary(actor=request.user, team=team, day=day)
    ctx = {"teams": teams, "s": data, "team_id": team.pk, "day": day, "now": clock.now()}
    return render(request, "desk/summary.html", ctx)


KPI_COLUMNS = [
    ("conversations", gettext_lazy("Conversations")),
    ("rounds", gettext_lazy("Rounds")),
    ("answered_3min", gettext_lazy("Answered within 3 min")),
    ("response_3min_rate", gettext_lazy("3-minute response rate")),
    ("first_response_seconds", gettext_lazy("First response (s)")),
    ("avg_response_seconds", gettext_lazy("Average response (s)")),
    ("transfers", gettext_lazy("Transfers")),
    ("consulted_buyers", gettext_lazy("Buyers consulted")),
    ("paid_buyers", gettext_lazy("Buyers paid")),
    ("conversion_rate", gettext_lazy("Conversion rate")),
    ("sales", gettext_lazy("Sales")),
    ("aov", gettext_lazy("Average order value")),
]


def _kpis_xlsx(day: dt.date, rows: list[tuple[str, str, dict[str, Any]]], total: dict[str, Any]) -> HttpResponse:
    from kefu.core.exports import Money, Quantity, Rate
    from kefu.web.http import xlsx_download

    kinds = {"response_3min_rate": Rate, "conversion_rate": Rate, "sales": Money, "aov": Money}

    def cells(k: dict[str, Any]) -> list[Any]:
        return [kinds.get(key, Quantity)(k[key]) if isinstance(k[key], str) else k[key] for key, _label in KPI_COLUMNS]

    lines = [[name, no, *cells(k)] for name, no, k in rows]
    lines.append([str(_("All agents")), "", *cells(total)])
    headers = [_("Agent"), _("Employee no."), *[label for _key, label in KPI_COLUMNS]]
    return xlsx_download(f"desk-kpis-{day:%Y%m%d}.xlsx", str(_("Desk KPIs")), headers, lines)


def _back_to_conversation(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the conversation the form was posted from, else to ``default``."""
    conversation = int_param(request.POST.get("conversation"))
    return redirect("desk:conversation", conversation) if conversation and conversation > 0 else redirect(default)


def _posted_conversation(request: HttpRequest) -> Any:
    """The conversation a form names, in the actor's scope; a malformed or foreign id is a 404."""
    raw = request.POST.get("conversation")
    if not raw:
        return None
    conv_id = int_param(raw)
    if conv_id is None:
        raise Http404("no such conversation")
    return services.access_conversation_by_id(request.user, conv_id)


@login_required
def chases(request: HttpRequest) -> HttpResponse:
    """R-DESK-6 催拍催付: unpaid orders after a consultation, with the shop's urging script; urge
    (the text goes into the conversation) or record the reason for no sale."""
    if request.method == "POST":

        def save() -> None:
            chase = selectors.chase_get(actor=request.user, chase_id=int_param(request.POST.get("chase")))
            if request.POST.get("do") == "lost":
                services.chase_lost(
                    actor=request.user,
                    chase=chase,
                    reason=request.POST.get("reason", ""),
                    note=request.POST.get("note", ""),
                )
            else:
                services.chase_urge(
                    actor=request.user,
                    chase=chase,
                    text=request.POST.get("text", ""),
                    idempotency_key=(request.POST.get("idempotency_key") or "")[:64] or None,
                )

        back = request.POST.get("state", "open")
        then = redirect(f"{reverse('desk:chases')}?state={back if back in ChaseState.values else 'open'}")
        return form_post(request, save, then=then, done=_("Saved."))
    state = request.GET.get("state", "open")
    if state not in {"open", "paid", "lost"}:
        state = "open"
    items = selectors.chases(actor=request.user, state=state)
    scripts: dict[int, Any] = {}
    for item in items:
        if item.shop_id not in scripts:
            scripts[item.shop_id] = services.urge_script(actor=request.user, shop_id=item.shop_id)
    reasons = services.no_sale_reasons()
    ctx = {
        "items": [
            (x, services.urge_text(x, scripts.get(x.shop_id)), uuid.uuid4().hex, reasons.get(x.reason, x.reason))
            for x in items
        ],
        "state": state,
        "reasons": reasons,
        "now": clock.now(),
    }
    return render(request, "desk/chases.html", ctx)


@login_required
def knowledge(request: HttpRequest) -> HttpResponse:
    """SPEC §8: parameters → product, product → parameters, canned replies and the question log in
    one search (the conversation page embeds its results)."""
    q = (request.GET.get("q") or "")[:100]
    shop = int_param(request.GET.get("shop"))
    if shop:
        org.access_shop_by_id(request.user, shop)
    ctx = {
        "q": q,
        "shop": shop or "",
        "k": selectors.knowledge_search(actor=request.user, q=q, shop=shop or None),
        "shops": org.shop_list(actor=request.user),
    }
    if request.GET.get("embed") == "1":
        return render(request, "desk/_knowledge.html", ctx)
    return render_page_or_partial(request, "desk/knowledge.html", "results", ctx)
