"""Quality inspection's reads: a day's hits and scores inside the reader's scope, the team lead's
daily inspection list, an agent's own hits, a conversation's hits and the daily summary's line."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum

from kefu.core import clock
from kefu.core.actors import Actor
from kefu.core.scoping import access_object, scope_for
from kefu.desk.models import Message
from kefu.org.models import Shop, Staff
from kefu.org.permissions import has_capability
from kefu.org.selectors import team_shop_ids

from .models import Appeal, Hit, HitStatus, Sample


def hits(*, actor: Actor, day: dt.date, team: int | None = None) -> list[Hit]:
    qs = Hit.objects.restrict(actor).filter(day=day)
    if team is not None:
        qs = qs.filter(team_id=team)
    return list(qs.select_related("staff", "message").order_by("staff__employee_no", "message_id", "kind"))


def scores(*, actor: Actor, day: dt.date, team: int | None = None, found: list[Hit] | None = None) -> dict[str, int]:
    """R-QA-1: each agent's score for the day (100 − the points of the hits not dismissed, floor 0),
    for the agents in the reader's scope who replied that day or have hits."""
    found = hits(actor=actor, day=day, team=team) if found is None else found
    lost: dict[str, int] = defaultdict(int)
    for h in found:
        if h.staff is not None and h.counts:
            lost[h.staff.employee_no] += h.points
    scope = scope_for(actor)
    # by shop and time: the (shop, sent time) index serves it, one range per shop
    if team is not None:
        shops = team_shop_ids(team)
    elif scope.all:
        shops = list(Shop.objects.values_list("pk", flat=True))
    else:
        shops = list(scope.shop_ids)
    agents = Message.objects.filter(
        shop_id__in=shops,
        sent_at__gte=clock.day_start(day),
        sent_at__lt=clock.day_start(day + dt.timedelta(days=1)),
        direction="out",
        agent__isnull=False,
    )
    if team is not None:
        agents = agents.filter(agent__team_id=team)
    if not scope.all:
        # as the hits themselves (``models.own_or_led``): who reviews the team reads its agents,
        # an agent reads their own
        if has_capability(actor, "quality.review"):
            agents = agents.filter(agent__team_id__in=scope.team_ids)
        else:
            agents = agents.filter(agent_id=scope.staff_id or 0)
    names = set(agents.order_by().values_list("agent__employee_no", flat=True).distinct())
    names |= {h.staff.employee_no for h in found if h.staff is not None}
    return {no: max(0, 100 - lost.get(no, 0)) for no in sorted(names)}


def hit_get(*, actor: Actor, hit_id: Any, action: str = "read") -> Hit:
    return access_object(actor, Hit.objects.select_related("staff", "conversation", "message"), action, pk=hit_id)


def sample_get(*, actor: Actor, sample_id: Any, action: str = "read") -> Sample:
    return access_object(actor, Sample.objects.all(), action, pk=sample_id)


@dataclass
class AgentDay:
    staff: Staff
    score: int
    samples: list[Sample] = field(default_factory=list)
    hits_by_conversation: dict[int, list[Hit]] = field(default_factory=dict)

    @property
    def other_hits(self) -> list[Hit]:
        """The agent's hits in conversations outside the list: they count until dismissed, so the
        team lead sees and decides them here too."""
        listed = {s.conversation_id for s in self.samples}
        return [h for c, hs in self.hits_by_conversation.items() if c not in listed for h in hs]

    @property
    def open_hits(self) -> int:
        return sum(1 for hs in self.hits_by_conversation.values() for h in hs if h.verdict == HitStatus.OPEN)


def inspection(*, actor: Actor, day: dt.date, team: int) -> list[AgentDay]:
    """The team lead's daily inspection of ``team``: per agent the sampled conversations (those with
    hits first) with their hits, and the day's score. Three queries whatever the size."""
    found = hits(actor=actor, day=day, team=team)
    samples = list(
        Sample.objects.restrict(actor)
        .filter(day=day, team_id=team)
        .select_related("staff", "conversation")
        .order_by("staff__employee_no", "reason", "conversation_id")
    )
    score = scores(actor=actor, day=day, team=team, found=found)
    by_staff: dict[int, AgentDay] = {}
    for s in samples:
        row = by_staff.get(s.staff_id)
        if row is None:
            row = by_staff[s.staff_id] = AgentDay(s.staff, score.get(s.staff.employee_no, 100))
        row.samples.append(s)
    for h in found:
        if h.staff is None:
            continue  # no one to blame (an unanswered buyer with no owner): the API lists them
        row = by_staff.get(h.staff.pk)
        if row is None:  # hits found after the list was drawn: the agent is shown all the same
            row = by_staff[h.staff.pk] = AgentDay(h.staff, score.get(h.staff.employee_no, 100))
        row.hits_by_conversation.setdefault(h.conversation_id, []).append(h)
    return sorted(by_staff.values(), key=lambda r: (r.score, r.staff.employee_no))


def unowned_hits(*, actor: Actor, day: dt.date, team: int) -> list[Hit]:
    """The day's hits no agent is to blame for (a buyer left unanswered in a conversation nobody
    owned): they cost no one's score, and the team lead still sees them."""
    return list(
        Hit.objects.restrict(actor)
        .filter(day=day, team_id=team, staff__isnull=True)
        .select_related("message", "conversation")
        .order_by("message_id")[:200]
    )


def my_hits(*, staff: Staff, limit: int = 200) -> list[Hit]:
    return list(
        Hit.objects.filter(staff=staff)
        .select_related("conversation", "message")
        .order_by("-day", "-message_id")[:limit]
    )


def appeals_waiting(*, actor: Actor) -> list[Hit]:
    return list(
        Hit.objects.restrict(actor, "approve")
        .filter(appeal=Appeal.PENDING)
        .select_related("staff")
        .order_by("appealed_at")
    )


def conversation_hits(*, actor: Actor, conversation_id: int) -> list[Hit]:
    return list(
        Hit.objects.restrict(actor)
        .filter(conversation_id=conversation_id)
        .select_related("staff", "message")
        .order_by("-day", "message_id")
    )


def day_summary(*, team: Any, day: dt.date) -> dict[str, Any]:
    """The day's inspection for the daily summary: hits found, reviewed and confirmed, samples read."""
    counts = Hit.objects.filter(team=team, day=day).aggregate(
        found=Count("pk"),
        confirmed=Count("pk", filter=Q(verdict=HitStatus.CONFIRMED)),
        dismissed=Count("pk", filter=Q(verdict=HitStatus.DISMISSED)),
        points=Sum("points", filter=~Q(verdict=HitStatus.DISMISSED)),
    )
    sampled = Sample.objects.filter(team=team, day=day).aggregate(
        total=Count("pk"), reviewed=Count("pk", filter=Q(reviewed_at__isnull=False))
    )
    return {**counts, **sampled}
