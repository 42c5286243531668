"""The service desk's data: channels messages arrive through, conversations (one buyer in one
shop, on the shared workflow core), their messages (exactly once per channel + external id) and
each agent's presence."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet
from kefu.org.models import Shop, Staff, Team
from kefu.workflow.models import WorkItem


class ChannelKind(models.TextChoices):
    PLATFORM = "platform", _("Platform chat (webhook)")
    WIDGET = "widget", _("Web chat widget")
    IMPORT = "import", _("Chat-log import")


def _secret() -> str:
    return secrets.token_hex(32)


class Channel(models.Model):
    """Where messages come from. A webhook signs its bodies with ``secret`` (HMAC-SHA256); a widget
    channel serves one shop and answers only its configured origins. Channels are managed by the
    supervisor and the deputy (department-wide); below them a shop's widget is in the shop's scope."""

    scope_shop_path = "shop_id"

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=ChannelKind.choices, default=ChannelKind.PLATFORM)
    secret = models.CharField(_("signing secret"), max_length=128, default=_secret)
    shop = models.ForeignKey(
        Shop, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop")
    )
    origins = models.JSONField(_("allowed origins"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name


class Queue(models.TextChoices):
    PRESALES = "presales", _("Pre-sales")
    AFTERSALES = "aftersales", _("After-sales")


class ConversationCategory(models.TextChoices):
    WAITING = "waiting", _("Buyer waiting")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", pgettext_lazy("case category", "Closed")


class Conversation(WorkItem):
    """One buyer in one shop (R-DESK-1). ``waiting_since`` is the start of the buyer's current
    unanswered round (None once a human has replied)."""

    workflow_key = "desk.conversation"
    scope_shop_path = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    buyer = models.CharField(_("buyer"), max_length=100)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    queue = models.CharField(_("queue"), max_length=10, choices=Queue.choices, default=Queue.PRESALES)
    owner = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent")
    )
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    last_text = models.CharField(_("last message text"), max_length=120, blank=True)
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "buyer"], name="desk_conversation_one_per_buyer")]
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="desk_conv_recent"),
            models.Index(fields=["owner", "-last_message_at"], name="desk_conv_owner"),
            models.Index(fields=["shop", "-last_message_at"], name="desk_conv_shop"),
            # the inbox's first section, every waiting buyer longest first: read in this order and
            # stopped at its limit, however many wait (a scan of all waiting ones took 150 ms at 1M)
            models.Index(
                fields=["waiting_since", "id"],
                name="desk_conv_waiting",
                condition=models.Q(waiting_since__isnull=False),
            ),
        ]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        # no shop name: a batch's events are labelled without loading each shop
        return gettext("Conversation with %(buyer)s") % {"buyer": self.buyer}


class Direction(models.TextChoices):
    IN = "in", _("From the buyer")
    OUT = "out", _("To the buyer")
    NOTE = "note", _("Internal note")


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    AUTO = "auto", _("Auto-reply")
    SYSTEM = "system", _("System message")


class Message(models.Model):
    """A message as the channel delivered it; stored once per (channel, external id)."""

    scope_shop_path = "shop_id"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages", verbose_name=_("conversation")
    )
    # the conversation's shop, which never changes: a day's messages of a shop are one index range
    # (the KPIs read them by shop and time without touching the conversations)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"), db_index=False)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("channel"))
    external_id = models.CharField(_("external id"), max_length=128)
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    agent = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent")
    )
    sent_at = models.DateTimeField(_("sent at"))
    received_at = models.DateTimeField(_("received at"))
    text = models.TextField(_("text"), max_length=5000, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="desk_message_once_per_channel")]
        indexes = [
            models.Index(fields=["conversation", "sent_at", "id"], name="desk_msg_thread"),
            models.Index(fields=["shop", "sent_at"], name="desk_msg_shop_sent"),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"


class InboundMessage(models.Model):
    """A message accepted from a source and not yet (or already) placed in its conversation.

    Accepting is one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per request, so a redelivery is
    told apart from a new message by the database itself, at any concurrency; the drain (inline in
    the request when embedded, the worker in production — ADR 0013) builds conversations and their
    state in batches. Rows are kept for ``KEEP_DAYS`` (the redelivery window), then pruned; after
    that the stored message itself answers for duplicates."""

    KEEP_DAYS = 7

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=128)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+")
    buyer = models.CharField(max_length=100)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=MessageKind.choices)
    agent = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    text = models.TextField(blank=True)
    received_at = models.DateTimeField()
    # who sent it in: a user (an API token) or a label for a system source (a webhook, an import)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_label = models.CharField(max_length=64, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="desk_inbound_once")]
        indexes = [
            models.Index(fields=["id"], name="desk_inbound_pending", condition=models.Q(placed_at__isnull=True)),
            models.Index(fields=["received_at"], name="desk_inbound_received"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"


class PresenceState(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Presence(models.Model):
    """An agent's desk state (R-DESK-2: an agent who is away sets themselves offline)."""

    scope_team_path = "staff__team_id"

    staff = models.OneToOneField(Staff, on_delete=models.CASCADE, related_name="+", verbose_name=_("agent"))
    state = models.CharField(_("state"), max_length=8, choices=PresenceState.choices, default=PresenceState.OFFLINE)
    changed_at = models.DateTimeField(_("changed at"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presence")

    def __str__(self) -> str:
        return f"{self.staff_id}: {self.state}"


class ScriptStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    RETIRED = "retired", _("Retired")


class Script(models.Model):
    """A canned reply (话术) of one shop, by category: agents propose, the team lead approves."""

    scope_shop_path = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    category = models.CharField(_("category"), max_length=40)
    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(_("text"), max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=ScriptStatus.choices, default=ScriptStatus.PROPOSED)
    proposed_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    approved_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("approved by")
    )
    created_at = models.DateTimeField(_("created at"))
    uses = models.PositiveIntegerField(_("uses"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["shop", "category", "title"]
        indexes = [models.Index(fields=["shop", "status", "category"], name="desk_script_shop")]
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    """R-DESK-4: a question an agent could not answer, recorded the same day; its answer once known."""

    scope_shop_path = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("conversation")
    )
    buyer = models.CharField(_("buyer"), max_length=100, blank=True)
    question = models.TextField(_("question"), max_length=2000)
    asked_at = models.DateTimeField(_("asked at"))
    recorded_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    answer = models.TextField(_("answer"), max_length=2000, blank=True)
    answered_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("answered by")
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    script = models.ForeignKey(
        Script, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("canned reply")
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-asked_at", "-id"]
        verbose_name = _("question")
        verbose_name_plural = _("question log")

    def __str__(self) -> str:
        return self.question[:40]


class FollowUp(models.Model):
    """R-DESK-5: an order that could not be settled at once — 旺旺名, order no., purchase date,
    problem, the buyer's request, owner and due time — until it is done."""

    scope_shop_path = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("conversation")
    )
    buyer = models.CharField(_("buyer"), max_length=100)
    order_no = models.CharField(_("order no."), max_length=64, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    problem = models.CharField(_("problem"), max_length=300)
    request = models.CharField(_("buyer's request"), max_length=300, blank=True)
    owner = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner"))
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(_("created at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["done_at", "due_at", "id"]
        indexes = [models.Index(fields=["shop", "done_at", "due_at"], name="desk_followup_open")]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-up log")

    def __str__(self) -> str:
        return f"{self.buyer}: {self.problem[:30]}"


class KpiDay(models.Model):
    """A closed day's R-DESK-3 sums for one shop (per agent and in total), so a month reads 30
    rows per shop instead of re-reading every message. Derived data: recomputed by the worker, and
    marked stale when a late message of that day arrives."""

    scope_shop_path = "shop_id"

    day = models.DateField(_("date"))
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+", verbose_name=_("shop"))
    figures = models.JSONField(_("figures"), default=dict)
    stale = models.BooleanField(_("stale"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "shop"], name="desk_kpiday_once")]
        verbose_name = _("KPI day")
        verbose_name_plural = _("KPI days")

    def __str__(self) -> str:
        return f"{self.day} {self.shop_id}"


class ChaseState(models.TextChoices):
    OPEN = "open", _("To urge")
    PAID = "paid", _("Paid up")
    LOST = "lost", _("No sale")


class PaymentChase(models.Model):
    """R-DESK-6 催拍催付: an order left unpaid after the buyer consulted becomes a task for the
    pre-sales agent, with the urging script; it ends paid (seen on the order) or as no sale, with
    the reason from the policy's catalogue. One task per order."""

    scope_shop_path = "shop_id"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    order = models.OneToOneField("commerce.Order", on_delete=models.PROTECT, related_name="+", verbose_name=_("order"))
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("conversation")
    )
    buyer = models.CharField(_("buyer"), max_length=100)
    owner = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    state = models.CharField(_("state"), max_length=8, choices=ChaseState.choices, default=ChaseState.OPEN)
    created_at = models.DateTimeField(_("created at"))
    due_at = models.DateTimeField(_("due"))
    urged_at = models.DateTimeField(_("urged at"), null=True, blank=True)
    urge_count = models.PositiveIntegerField(_("times urged"), default=0)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    reason = models.CharField(_("reason for no sale"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["state", "due_at", "id"]
        indexes = [models.Index(fields=["shop", "state", "due_at"], name="desk_chase_open")]
        verbose_name = _("payment chase")
        verbose_name_plural = _("payment chases")

    def __str__(self) -> str:
        return f"{self.buyer}: {self.order_id}"
