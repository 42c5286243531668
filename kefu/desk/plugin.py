"""What the service desk adds to the shared UI, URL configuration, API, home page and search."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core import plugins, rulebook, wording
from kefu.core.actors import Actor

from .rules import RULES


def _waiting_mine(user: Any, staff: Any) -> int | None:
    from . import selectors

    if staff is None or staff.position not in {"presales", "aftersales"}:
        return None
    return len(selectors.inbox(actor=user, mine=staff, waiting=True, limit=100).items)


def _my_followups(user: Any, staff: Any) -> int | None:
    from . import selectors

    if staff is None:
        return None
    return len(selectors.followups(actor=user, owner=staff, limit=100))


def _chases_open(user: Any, staff: Any) -> int | None:
    from .models import ChaseState, PaymentChase

    if staff is None or staff.position not in {"presales", "team_lead", "supervisor", "deputy"}:
        return None
    qs = PaymentChase.objects.restrict(user).filter(state=ChaseState.OPEN)
    if staff.position == "presales":
        qs = qs.filter(Q(owner=staff) | Q(owner__isnull=True))
    return qs.count()


def _idle(user: Any, staff: Any) -> int | None:
    from . import selectors

    if staff is None or staff.position not in {"team_lead", "supervisor", "deputy"}:
        return None
    return sum(1 for r in selectors.presence_board(actor=user) if r["idle"])


def _search(actor: Actor, q: str) -> list[plugins.SearchHit]:
    from .models import Conversation

    rows = Conversation.objects.restrict(actor).filter(buyer=q).select_related("shop")[:5]
    return [
        plugins.SearchHit(_("Conversation"), c.buyer, reverse("desk:conversation", args=[c.pk]), c.shop.name)
        for c in rows
    ]


def _served_before(shop_id: int, buyer: str, before: Any) -> Any:
    from . import selectors

    return selectors.served_before(shop_id, buyer, before)


def _conversation_shop(actor: Actor, conversation_id: int) -> int | None:
    from . import selectors

    conversation = selectors.conversation_visible(actor=actor, conversation_id=conversation_id)
    return conversation.shop_id if conversation is not None else None


def register() -> None:
    rulebook.register(RULES)
    from kefu.core.reports import ReportPage, register_page

    register_page(
        ReportPage(
            "desk:kpis",
            _("Agents' response and conversion"),
            _("Per agent and day: rounds, 3-minute response rate, first and average response, conversion, sales."),
            rule="R-DESK-3",
            order=5,
        )
    )
    register_page(
        ReportPage(
            "desk:summary",
            _("Team lead's daily summary"),
            _("The day's questions, follow-ups and no-sale reasons."),
            capability="statement.view_team",
            rule="R-DESK-7",
            order=6,
        )
    )
    plugins.conversation_resolver(_conversation_shop)
    from .api import router

    plugins.urls("desk/", "kefu.desk.urls", order=25)
    plugins.api_router("desk", router)
    plugins.buyer_server(_served_before)
    plugins.nav_section(
        plugins.NavSection(
            "desk",
            _("Service desk"),
            25,
            (
                plugins.NavItem(_("Conversations"), "desk:inbox"),
                plugins.NavItem(_("Agents online"), "desk:board", "statement.view_team"),
                plugins.NavItem(_("Daily summary"), "desk:summary", "statement.view_team"),
                plugins.NavItem(_("Canned replies"), "desk:scripts"),
                plugins.NavItem(_("Question log"), "desk:questions"),
                plugins.NavItem(_("Follow-ups"), "desk:followups"),
                plugins.NavItem(_("Payment urging"), "desk:chases"),
                plugins.NavItem(_("Knowledge"), "desk:knowledge"),
                plugins.NavItem(_("Desk KPIs"), "desk:kpis"),
                plugins.NavItem(_("Chat channels"), "desk:channels", "org.manage"),
            ),
        )
    )
    plugins.home_card(
        plugins.HomeCard(
            "desk_waiting",
            _("Buyers waiting for my reply"),
            lambda: reverse("desk:inbox") + "?mine=1&waiting=1",
            _waiting_mine,
            5,
        )
    )
    plugins.home_card(
        plugins.HomeCard("desk_idle", _("Agents online but not answering"), lambda: reverse("desk:board"), _idle, 36)
    )
    plugins.home_card(
        plugins.HomeCard("desk_followups", _("My open follow-ups"), lambda: reverse("desk:followups"), _my_followups, 8)
    )
    plugins.home_card(
        plugins.HomeCard("desk_chases", _("Orders to urge"), lambda: reverse("desk:chases"), _chases_open, 7)
    )
    plugins.search_provider(plugins.SearchProvider("desk", _("Conversations"), _search, order=15))
    _words()


def _words() -> None:
    from .models import (
        ChannelKind,
        ChaseState,
        Conversation,
        ConversationCategory,
        Direction,
        FollowUp,
        Message,
        MessageKind,
        PaymentChase,
        PresenceState,
        Question,
        Queue,
        Script,
        ScriptStatus,
    )

    wording.register_models(Conversation, Message, Script, Question, FollowUp, PaymentChase)
    wording.register_choices(ScriptStatus, ChaseState)
    wording.register_choices(Queue, ConversationCategory, Direction, MessageKind, PresenceState, ChannelKind)
    wording.register(
        fields={
            "times": _("Times urged"),
            "origins": _("Allowed web origins"),
            "order": _("Order"),
            "buyer": _("Buyer"),
            "reason": _("Reason"),
            "presence": _("Desk status"),
            "note": _("Note"),
            "from": _("From"),
        },
    )
