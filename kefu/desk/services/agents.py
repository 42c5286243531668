"""What agents do on a conversation: reply (R-DESK-2), transfer, close; their desk status."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.core import clock
from kefu.core.actions import OWN, action
from kefu.core.actors import Actor
from kefu.core.errors import ApplicationError, PermissionDenied
from kefu.core.events import event_record
from kefu.core.scoping import access_object
from kefu.desk.rules import Verb
from kefu.org.models import Staff
from kefu.org.permissions import staff_holds
from kefu.org.selectors import staff_of
from kefu.workflow import services as wf

from .. import live
from ..models import (
    Channel,
    Conversation,
    ConversationCategory,
    Direction,
    Message,
    MessageKind,
    Presence,
    PresenceState,
)
from ..workflow import CONVERSATIONS
from .base import MAX_TEXT
from .placement import _insert_messages
from .routing import _lightest_online, _refresh, _route

# --- what agents do ---------------------------------------------------------------------------


def _own_staff(actor: Actor) -> Staff:
    staff = staff_of(actor)
    if staff is None:
        raise PermissionDenied(_("Only staff members can do this."))
    return staff


def _reply_key(conversation_id: int, idempotency_key: str) -> str:
    """A reply's external id: the form's key within its conversation (a key reused elsewhere is a
    different reply)."""
    return f"kefu-{conversation_id}-{idempotency_key}"[:128]


@action(capability="desk.handle", scope=("conversation",))
def reply_send(*, actor: Actor, conversation: Conversation, text: str, idempotency_key: str | None = None) -> Message:
    """An agent answers from Kefu (R-DESK-2: any agent may answer any waiting buyer in their scope).
    The message joins the thread through the same store as everything else; an unowned conversation
    becomes the replier's. A repeated idempotency key (double click) sends once."""
    staff = _own_staff(actor)
    text = (text or "").strip()
    if not text:
        raise ApplicationError("reply_empty", _("Write a reply first."))
    if len(text) > MAX_TEXT:
        raise ApplicationError("reply_too_long", _("A reply has at most %(n)s characters.") % {"n": MAX_TEXT})
    last_in = (
        Message.objects.filter(conversation=conversation, direction=Direction.IN)
        .select_related("channel")
        .order_by("-sent_at")
        .first()
    )
    channel = last_in.channel if last_in else Channel.objects.filter(active=True).order_by("pk").first()
    if channel is None:
        raise ApplicationError("no_channel", _("This conversation has no channel to answer through."))
    key = _reply_key(conversation.pk, idempotency_key or uuid.uuid4().hex)
    now = clock.now()
    inserted = _insert_messages(
        [
            (
                conversation.pk,
                conversation.shop_id,
                channel.pk,
                key,
                Direction.OUT,
                MessageKind.TEXT,
                staff.pk,
                now,
                now,
                text,
            )
        ]
    )
    message = Message.objects.get(channel=channel, external_id=key)
    message.sent_now = bool(inserted)  # type: ignore[attr-defined]  # False: the same click again
    if inserted:
        if conversation.owner_id is None:
            wf.claim(actor=actor, item=conversation, assignee=staff)
        _refresh(conversation_ids=[conversation.pk], actor=actor)
        from kefu.core.outbox import outbox_put

        outbox_put("desk.deliver", {"message": message.pk, "channel": channel.code}, key=f"desk-deliver-{message.pk}")
        ids = [conversation.pk]
        transaction.on_commit(lambda: live.publish(ids))
    return message


@action(capability="desk.handle", scope=("conversation", "to_staff"))
def conversation_transfer(
    *, actor: Actor, conversation: Conversation, to_staff: Staff | None = None, to_team: Any = None, note: str = ""
) -> Conversation:
    """Hand a conversation to another agent or team: the thread stays, a note says why."""
    if to_staff is None and to_team is None:
        raise ApplicationError("transfer_target", _("Choose an agent or a team to transfer to."))
    if to_staff is not None and to_staff.pk == conversation.owner_id:
        raise ApplicationError("transfer_target", _("This conversation is already theirs."))
    if to_staff is not None and not staff_holds(to_staff, "desk.take"):
        raise ApplicationError("transfer_target", _("A conversation goes to a desk agent or a team lead."))
    serving = set(conversation.shop.teams.values_list("pk", flat=True))
    if (to_staff is not None and to_staff.team_id not in serving) or (
        to_team is not None and to_team.pk not in serving
    ):
        raise ApplicationError("transfer_target", _("That agent or team does not serve this conversation's shop."))
    if to_team is not None and to_staff is None:
        # another team: into its queue, to its lightest online agent, as routing would
        to_staff, _load = _lightest_online(to_team, conversation.queue)
    team = to_team or (to_staff.team if to_staff else None)
    me = staff_of(actor)
    previous = conversation.owner
    text = _("Transferred to %(to)s") % {"to": to_staff.name if to_staff else team.name if team else "—"}
    if note.strip():
        text += ": " + note.strip()[:300]
    now = clock.now()
    channel = Channel.objects.filter(active=True).order_by("pk").first()
    if channel is not None:
        _insert_messages(
            [
                (
                    conversation.pk,
                    conversation.shop_id,
                    channel.pk,
                    f"note-{uuid.uuid4().hex}",
                    Direction.NOTE,
                    MessageKind.SYSTEM,
                    me.pk if me else None,
                    now,
                    now,
                    text,
                )
            ]
        )
    wf.assign(
        actor=actor,
        item=conversation,
        assignee=to_staff,
        also={"team": team},
        verb=Verb.CONVERSATION_TRANSFERRED,
        data={
            "note": note[:300],
            "from": previous.employee_no if previous else (me.employee_no if me else None),
        },
    )
    conversation.refresh_from_db()
    ids = [conversation.pk]
    transaction.on_commit(lambda: live.publish(ids))
    return conversation


@action(capability="desk.handle", scope=("conversation",))
def conversation_close(*, actor: Actor, conversation: Conversation) -> Conversation:
    label = wf.default_label(CONVERSATIONS, ConversationCategory.CLOSED)
    return wf.transition(actor=actor, item=conversation, label=label)  # type: ignore[no-any-return]


@action(capability=OWN)
def presence_set(*, actor: Actor, state: str) -> Presence:
    """An agent sets their own desk state (R-DESK-2)."""
    if state not in PresenceState.values:
        raise ApplicationError("presence_state", _("Choose online, away or offline."))
    staff = _own_staff(actor)
    now = clock.now()
    current = Presence.objects.filter(staff=staff).first()
    before = current.state if current else PresenceState.OFFLINE
    presence, _created = Presence.objects.update_or_create(staff=staff, defaults={"state": state, "changed_at": now})
    if before != state:
        event_record(
            actor=actor,
            verb=Verb.PRESENCE_CHANGED,
            subject=staff,
            before={"presence": before},
            after={"presence": state},
        )
        # an agent coming online picks up their team's unassigned waiting buyers of their role
        if state == PresenceState.ONLINE and staff.team_id:
            # the rows are taken (routing writes them); one another action holds is skipped, not waited for
            waiting = (
                Conversation.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
                .filter(team_id=staff.team_id, owner__isnull=True, queue=staff.position, waiting_since__isnull=False)
                .select_related("shop", "team", "owner")
                .order_by("waiting_since", "pk")[:50]
            )
            _route(conversations=list(waiting), actor=actor)
        ids = [0]
        transaction.on_commit(lambda: live.publish(ids))
    return presence


def access_conversation_by_id(actor: Actor, conversation_id: Any) -> Conversation:
    return access_object(
        actor, Conversation.objects.select_related("shop", "team", "owner", "status"), pk=conversation_id
    )
