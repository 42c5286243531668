"""Quality inspection (R-QA-1, R-QA-2): each hit the rules find in a conversation, the team lead's
daily sample and its review, and the cursor the worker inspects from."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet, Scope
from kefu.org.models import Position, Shop, Staff, Team


class Kind(models.TextChoices):
    FORBIDDEN_WORD = "forbidden_word", _("Forbidden word")
    OVER_PROMISE = "over_promise", _("Over-promise")
    SLOW_REPLY = "slow_reply", _("Slow reply")
    UNANSWERED = "unanswered", _("Unanswered buyer")
    NO_GREETING = "no_greeting", _("No greeting")
    RUDE_TO_UPSET_BUYER = "rude_to_upset_buyer", _("Upset buyer not soothed")


class HitStatus(models.TextChoices):
    OPEN = "open", _("To review")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class Appeal(models.TextChoices):
    NONE = "", _("No appeal")
    PENDING = "pending", _("Appeal waiting")
    UPHELD = "upheld", _("Appeal upheld (hit dismissed)")
    REFUSED = "refused", _("Appeal refused")


def own_or_led(qs: RestrictedQuerySet[Any], scope: Scope, action: str) -> RestrictedQuerySet[Any]:
    """A person's inspection results are theirs and their team lead's: an agent reads (and appeals)
    their own hits; the team lead reads and reviews the team's."""
    if scope.position == Position.TEAM_LEAD:
        return qs.filter(team_id__in=scope.team_ids)
    return qs.filter(staff_id=scope.staff_id or 0)


class Hit(models.Model):
    """One finding of R-QA-1 about one message. Found once per (message, kind): the inspection runs
    again as a conversation grows and never adds the same finding twice."""

    conversation = models.ForeignKey(
        "desk.Conversation", on_delete=models.PROTECT, related_name="+", verbose_name=_("conversation")
    )
    message = models.ForeignKey("desk.Message", on_delete=models.PROTECT, related_name="+", verbose_name=_("message"))
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent")
    )
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    text = models.CharField(_("found"), max_length=120, blank=True)
    points = models.PositiveSmallIntegerField(_("score points"))
    found_at = models.DateTimeField(_("found at"))
    verdict = models.CharField(_("verdict"), max_length=10, choices=HitStatus.choices, default=HitStatus.OPEN)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    point_entry = models.OneToOneField(
        "workforce.PointEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appeal = models.CharField(_("appeal"), max_length=10, choices=Appeal.choices, blank=True, default="")
    appeal_text = models.CharField(_("appeal reason"), max_length=300, blank=True)
    appealed_at = models.DateTimeField(_("appealed at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    restrict_queryset = staticmethod(own_or_led)

    class Meta:
        ordering = ["day", "staff_id", "message_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["message", "kind"], name="qa_hit_once")]
        indexes = [
            models.Index(fields=["day", "team"], name="qa_hit_day_team"),
            models.Index(fields=["conversation", "day"], name="qa_hit_conversation"),
            models.Index(fields=["staff", "day"], name="qa_hit_staff_day"),
        ]
        verbose_name = _("quality hit")
        verbose_name_plural = _("quality hits")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.day}"

    @property
    def counts(self) -> bool:
        """Whether the hit costs score points: every hit until dismissed (or its appeal upheld)."""
        return self.verdict != HitStatus.DISMISSED


class SampleReason(models.TextChoices):
    HITS = "hits", _("Has hits")
    RANDOM = "random", _("Random sample")


class Sample(models.Model):
    """R-QA-2: one conversation of one agent's day in the team lead's daily inspection — those with
    hits first, then a random sample to the policy's count — and its review."""

    day = models.DateField(_("date"))
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("team"))
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent"))
    conversation = models.ForeignKey(
        "desk.Conversation", on_delete=models.PROTECT, related_name="+", verbose_name=_("conversation")
    )
    reason = models.CharField(_("why inspected"), max_length=8, choices=SampleReason.choices)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    restrict_queryset = staticmethod(own_or_led)

    class Meta:
        ordering = ["day", "staff_id", "reason", "conversation_id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "staff", "conversation"], name="qa_sample_once"),
        ]
        indexes = [models.Index(fields=["day", "team"], name="qa_sample_day_team")]
        verbose_name = _("inspected conversation")
        verbose_name_plural = _("daily inspection")

    def __str__(self) -> str:
        return f"{self.day} {self.staff_id} {self.conversation_id}"


class Cursor(models.Model):
    """How far the worker has inspected: the last message id read, and the last day whose windows
    have all ended and been inspected whole."""

    key = models.CharField(max_length=20, primary_key=True)
    message_id = models.BigIntegerField(default=0)
    closed_day = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.message_id}"
