"""Quality inspection's writes (R-QA-1, R-QA-2).

``inspect_due`` is the worker's job: every message since the cursor names a (conversation, local
day) to inspect again, whole; the hits found are inserted once per (message, kind), so inspecting
again never duplicates and never undoes a review. Once a day's service windows have all ended, the
day's conversations are inspected once more (an unanswered round is final only then).

The team lead's review (confirm or dismiss, a note), the daily sample, the agent's appeal and the
conversion of a confirmed hit into a points entry (R-WF-15) are actions: capability and scope checked,
the change and its event in one transaction.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import OPERATOR, OWN, action
from kefu.core.actors import Actor, user_of
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record
from kefu.core.policy_store import policy_in_force
from kefu.desk.models import Conversation, Message
from kefu.org.models import Shop, Staff, Team
from kefu.org.selectors import staff_of, team_shop_ids
from kefu.policies import quality as rules

from .models import Appeal, Cursor, Hit, HitStatus, Sample
from .rules import Verb

INSPECT_BATCH = 20_000
LATE_REPLY_HOURS = 6  # a day's rounds are read with the replies of the next few hours


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = clock.day_start(day)
    return start, clock.day_start(day + dt.timedelta(days=1))


def _inspect_pairs(pairs: Iterable[tuple[int, dt.date]], *, now: dt.datetime | None = None) -> int:
    """Inspect each (conversation id, local day) whole; insert the hits not yet found. Returns the
    number of new hits."""
    now = now or clock.now()
    tz = clock.local_tz()
    by_day: dict[dt.date, set[int]] = defaultdict(set)
    for conversation_id, day in pairs:
        by_day[day].add(conversation_id)
    staff_ids = dict(Staff.objects.values_list("pk", "employee_no"))
    staff_by_no = {no: pk for pk, no in staff_ids.items()}
    platforms = dict(Shop.objects.values_list("pk", "platform"))
    created = 0
    for day, ids in sorted(by_day.items()):
        policy = policy_in_force(day)
        document = policy.document
        points = int(policy.quality.points_per_hit)
        low, high = _day_bounds(day)
        conversations = {
            c.pk: c
            for c in Conversation.objects.filter(pk__in=ids).only("pk", "shop_id", "team_id", "owner_id", "closed_at")
        }
        lines: dict[int, list[rules.Line]] = defaultdict(list)
        for pk, conversation_id, at, direction, kind, agent_id, text in (
            Message.objects.filter(
                conversation_id__in=list(conversations),
                sent_at__gte=low,
                sent_at__lt=high + dt.timedelta(hours=LATE_REPLY_HOURS),
            )
            .order_by()
            .values_list("pk", "conversation_id", "sent_at", "direction", "kind", "agent_id", "text")
        ):
            lines[conversation_id].append(rules.Line(pk, at, direction, kind, staff_ids.get(agent_id), text))
        rows = []
        rule_cache: dict[str, rules.Rules] = {}
        for conversation_id, found_lines in lines.items():
            c = conversations[conversation_id]
            platform = platforms.get(c.shop_id, "")
            r = rule_cache.get(platform)
            if r is None:
                r = rule_cache[platform] = rules.rules_for(document, platform)
            for hit in rules.inspect(
                found_lines,
                r,
                document,
                tz,
                owner=staff_ids.get(c.owner_id) if c.owner_id else None,
                closed=c.closed_at is not None and c.closed_at <= now,
                now=now,
            ):
                if hit.day != day:
                    continue
                rows.append(
                    Hit(
                        conversation_id=conversation_id,
                        message_id=hit.message,
                        shop_id=c.shop_id,
                        team_id=c.team_id,
                        staff_id=staff_by_no.get(hit.agent) if hit.agent else None,
                        day=day,
                        kind=hit.kind,
                        text=hit.text[:120],
                        points=points,
                        found_at=now,
                    )
                )
        if rows:
            before = Hit.objects.filter(conversation_id__in=list(conversations), day=day).count()
            Hit.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
            created += Hit.objects.filter(conversation_id__in=list(conversations), day=day).count() - before
    return created


def _window_end(day: dt.date) -> dt.datetime:
    """When every platform's counting window of ``day`` has ended (the latest end; 24:00 at most
    the next midnight)."""
    return _day_bounds(day)[1]


@action(capability=OPERATOR, atomic=False)
def inspect_due(*, actor: Actor, now: dt.datetime | None = None, batch: int = INSPECT_BATCH) -> int:
    """The worker's sweep: the conversations that had messages since the last run, and once each
    closed day whole. Returns the number of new hits."""
    now = now or clock.now()
    cursor, _created = Cursor.objects.get_or_create(key="inspect")
    created = 0
    while True:
        rows = list(
            Message.objects.filter(pk__gt=cursor.message_id)
            .order_by("pk")
            .values_list("pk", "conversation_id", "sent_at")[:batch]
        )
        if not rows:
            break
        pairs = {(conversation_id, clock.local_date(at)) for _pk, conversation_id, at in rows}
        created += _inspect_pairs(pairs, now=now)
        Cursor.objects.filter(key="inspect").update(message_id=rows[-1][0])
        cursor.message_id = rows[-1][0]
        if len(rows) < batch:
            break
    # a day whose windows have ended: its conversations once more, whole (the unanswered ones)
    today = clock.local_date(now)
    shops = list(Shop.objects.values_list("pk", flat=True))  # by shop and time: the index serves it
    day = cursor.closed_day + dt.timedelta(days=1) if cursor.closed_day else today - dt.timedelta(days=1)
    while day < today and _window_end(day) <= now:
        low, high = _day_bounds(day)
        ids = set(
            Message.objects.filter(shop_id__in=shops, sent_at__gte=low, sent_at__lt=high)
            .order_by()
            .values_list("conversation_id", flat=True)
            .distinct()
        )
        created += _inspect_pairs({(i, day) for i in ids}, now=now)
        Cursor.objects.filter(key="inspect").update(closed_day=day)
        day += dt.timedelta(days=1)
    return created


# --- the daily inspection (R-QA-2) ----------------------------------------------------------------


@action(capability="quality.review", scope=("team",))
def sample_draw(*, actor: Actor, team: Team, day: dt.date, seed: int | None = None) -> int:
    """The day's inspection list of a team (R-QA-2): per agent the policy's count of conversations —
    those with the most hits first (all but one place), then a random one or more of the others, so
    every agent's list holds something the rules did not flag. Drawn once: a second call adds
    nothing for an agent already drawn.

    Reading: "hits first, then a random sample to the policy count" bounds the list at the count,
    so a team lead reads a handful per agent; hits outside it still count against the score until
    dismissed, and show on the conversation and on the agent's own page."""
    if day >= clock.today():
        raise ApplicationError("validation_error", _("Draw a day's inspection once the day is over."))
    count = int(policy_in_force(day).quality.sample_per_agent)
    low, high = _day_bounds(day)
    served: dict[int, set[int]] = defaultdict(set)
    for staff_id, conversation_id in (
        Message.objects.filter(
            shop_id__in=team_shop_ids(team.pk),
            sent_at__gte=low,
            sent_at__lt=high,
            direction="out",
            agent__team=team,
        )
        .order_by()
        .values_list("agent_id", "conversation_id")
        .distinct()
    ):
        served[staff_id].add(conversation_id)
    hit_counts: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for staff_id, conversation_id in Hit.objects.filter(day=day, team=team, staff__isnull=False).values_list(
        "staff_id", "conversation_id"
    ):
        hit_counts[staff_id][conversation_id] += 1
    drawn = set(Sample.objects.filter(day=day, team=team).values_list("staff_id", flat=True))
    rng = random.Random(seed if seed is not None else f"{team.pk}:{day.isoformat()}")
    rows = []
    for staff_id in sorted((set(served) | set(hit_counts)) - drawn):
        flagged = sorted(hit_counts.get(staff_id, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        others = sorted(served.get(staff_id, set()) - {c for c, _n in flagged})
        take_hits = min(len(flagged), count - 1 if others and count > 1 else count)
        for conversation_id, _n in flagged[:take_hits]:
            rows.append(Sample(day=day, team=team, staff_id=staff_id, conversation_id=conversation_id, reason="hits"))
        for conversation_id in rng.sample(others, min(count - take_hits, len(others))):
            rows.append(Sample(day=day, team=team, staff_id=staff_id, conversation_id=conversation_id, reason="random"))
    Sample.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@action(capability="quality.review", scope=("sample",), scope_action="approve")
def sample_review(*, actor: Actor, sample: Sample, note: str = "") -> Sample:
    """The team lead has read the conversation (and decided its hits)."""
    note = (note or "").strip()[:300]
    Sample.objects.filter(pk=sample.pk).update(reviewed_by=user_of(actor), reviewed_at=clock.now(), note=note)
    sample.refresh_from_db()
    event_record(actor=actor, verb=Verb.SAMPLE_REVIEWED, subject=sample, after={"note": note})
    return sample


@action(capability="quality.review", scope=("hit",), scope_action="approve")
def hit_decide(*, actor: Actor, hit: Hit, confirm: bool, note: str = "") -> Hit:
    """Confirm or dismiss a hit. A hit already recorded as points stays confirmed (reverse the points
    entry first)."""
    note = (note or "").strip()[:300]
    status = HitStatus.CONFIRMED if confirm else HitStatus.DISMISSED
    changed = (
        Hit.objects.filter(pk=hit.pk, point_entry__isnull=True)
        .exclude(verdict=status)
        .update(verdict=status, reviewed_by=user_of(actor), reviewed_at=clock.now(), note=note)
    )
    if not changed:
        hit.refresh_from_db()
        if hit.point_entry_id and not confirm:
            raise ApplicationError(
                "qa_recorded", _("This hit is already recorded as points; reverse the points entry first."), status=409
            )
        return hit
    before = hit.verdict
    hit.refresh_from_db()
    event_record(
        actor=actor,
        verb=Verb.HIT_CONFIRMED if confirm else Verb.HIT_DISMISSED,
        subject=hit.conversation,
        before={"status": before},
        after={"status": status, "kind": hit.kind, "note": note},
    )
    return hit


@action(capability="points.record", scope=("hit",), scope_action="approve")
def hit_to_points(*, actor: Actor, hit: Hit) -> Hit:
    """R-QA-2: a confirmed hit becomes a points entry of R-WF-15 (the policy's item), the
    conversation and message as its evidence. Once: the hit row is locked and the entry's key is the
    hit's, so a double click records one entry."""
    from kefu.workforce.services import points_record

    locked = Hit.objects.select_for_update().get(pk=hit.pk)
    if locked.point_entry_id:
        return locked
    if locked.verdict != HitStatus.CONFIRMED:
        raise ApplicationError("qa_not_confirmed", _("Confirm the hit before recording it as points."), status=409)
    if locked.staff_id is None:
        raise ApplicationError("qa_no_agent", _("No agent is to blame for this hit."), status=409)
    staff = Staff.objects.get(pk=locked.staff_id)
    item = str(policy_in_force(locked.day).quality.point_item)
    note = _("Quality inspection: %(kind)s in conversation #%(conversation)s, message #%(message)s (%(day)s)") % {
        "kind": locked.get_kind_display(),
        "conversation": locked.conversation_id,
        "message": locked.message_id,
        "day": locked.day.isoformat(),
    }
    entry = points_record(actor=actor, staff=staff, item_code=item, note=note, idempotency_key=f"qa-hit-{locked.pk}")
    Hit.objects.filter(pk=locked.pk).update(point_entry=entry)
    locked.point_entry = entry
    event_record(
        actor=actor,
        verb=Verb.HIT_POINTS,
        subject=locked.conversation,
        after={"kind": locked.kind, "points": entry.points, "staff": staff.employee_no},
    )
    return locked


@action(capability=OWN)
def hit_appeal(*, actor: Actor, hit: Hit, reason: str) -> Hit:
    """The agent appeals their own hit, once, with a reason."""
    me = staff_of(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise ApplicationError("validation_error", _("Give the reason for the appeal (at most 300 characters)."))
    if me is None or hit.staff_id != me.pk:
        raise ApplicationError("not_found", "Not found", status=404)
    if not Hit.objects.filter(pk=hit.pk, appeal="").update(
        appeal=Appeal.PENDING, appeal_text=reason, appealed_at=clock.now()
    ):
        raise ApplicationError("qa_appealed", _("This hit has already been appealed."), status=409)
    hit.refresh_from_db()
    event_record(actor=actor, verb=Verb.HIT_APPEALED, subject=hit.conversation, after={"reason": reason})
    return hit


@action(capability="quality.review", scope=("hit",), scope_action="approve")
def appeal_decide(*, actor: Actor, hit: Hit, uphold: bool, note: str = "") -> Hit:
    """Decide a waiting appeal: upheld dismisses the hit (and reverses its points entry, if any)."""
    from kefu.org.permissions import has_capability
    from kefu.workforce.models import PointEntry
    from kefu.workforce.services import points_reverse

    note = (note or "").strip()[:300]
    decided = Appeal.UPHELD if uphold else Appeal.REFUSED
    if hit.point_entry_id and not has_capability(actor, "points.record"):
        raise ApplicationError(
            "qa_recorded", _("This hit is recorded as points: whoever records points decides its appeal."), status=409
        )
    if not Hit.objects.filter(pk=hit.pk, appeal=Appeal.PENDING).update(appeal=decided):
        raise ApplicationError("changed", _("This appeal is not waiting for a decision."), status=409)
    hit.refresh_from_db()
    if uphold:
        Hit.objects.filter(pk=hit.pk).update(
            verdict=HitStatus.DISMISSED, reviewed_by=user_of(actor), reviewed_at=clock.now(), note=note
        )
        if hit.point_entry is not None and not PointEntry.objects.filter(reverses_id=hit.point_entry_id).exists():
            points_reverse(actor=actor, entry=hit.point_entry, note=_("Appeal upheld: %(note)s") % {"note": note})
        hit.refresh_from_db()
    event_record(
        actor=actor, verb=Verb.HIT_APPEAL_DECIDED, subject=hit.conversation, after={"appeal": decided, "note": note}
    )
    return hit
