"""Customer care (SPEC §7): complaints on the workflow core (R-CARE-1), customers assigned to
agents (R-CARE-2) and return visits (R-CARE-3)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.commerce.models import Customer, Order
from kefu.core.scoping import RestrictedQuerySet, Scope
from kefu.org.models import Shop, Staff
from kefu.service.models import ServiceRequest
from kefu.workflow.models import WorkItem


class Emotion(models.TextChoices):
    ANGER = "anger", _("Anger")
    ANXIETY = "anxiety", _("Anxiety")
    SADNESS = "sadness", _("Sadness")
    SHOUTING = "shouting", _("Shouting")
    CALM = "calm", _("Calm")


class ComplaintCategory(models.TextChoices):
    OPEN = "open", _("Received")
    HANDLING = "handling", _("Being handled")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed after the return visit")


class Complaint(WorkItem):
    """A customer's complaint (投诉): the text as told, the emotion suggested from it and confirmed by
    the agent, the handling steps (a checklist), a reason from the catalogue, the resolution."""

    workflow_key = "care.complaint"

    number = models.CharField(_("complaint no."), max_length=24, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    service_request = models.ForeignKey(
        ServiceRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField(_("contact"), max_length=64)
    contact_phone = models.CharField(_("phone"), max_length=32, blank=True)
    channel = models.CharField(_("received by"), max_length=16)
    text = models.TextField(_("what the customer said"), max_length=5000)
    emotion_suggested = models.CharField(_("suggested emotion"), max_length=16, blank=True)
    emotion = models.CharField(_("emotion"), max_length=16, choices=Emotion.choices)
    emotion_matches = models.JSONField(_("words that suggested it"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=40, blank=True)  # policy care.complaint_reasons
    our_fault = models.BooleanField(_("our fault"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), max_length=2000, blank=True)
    owner = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("handled by")
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    scope_shop_path = "shop_id"

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["shop", "-opened_at"], name="care_complaint_shop")]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return self.number


def _agent_team_scope(qs: models.QuerySet[Any], scope: Scope) -> models.QuerySet[Any]:
    """Assignments and return visits belong to the team of the agent who holds them — not to every
    team the customer once bought from (an order pushed under another team's customer's nick let
    a lead read that team's return visits, issue 16 §6)."""
    return qs.filter(agent__team_id__in=scope.team_ids)


class Assignment(models.Model):
    """R-CARE-2: a customer given to an agent by the supervisor; a new customer must be contacted
    within the policy's days (``contact_due``)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    agent = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent"))
    assigned_at = models.DateTimeField(_("assigned at"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    contact_due = models.DateTimeField(_("contact by"))
    contacted_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    active = models.BooleanField(_("current"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(active=True), name="care_one_current_agent")
        ]
        verbose_name = _("customer assignment")
        verbose_name_plural = _("customer assignments")

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.agent_id}"

    @staticmethod
    def restrict_queryset(qs: models.QuerySet[Any], scope: Scope, action: str) -> models.QuerySet[Any]:
        return _agent_team_scope(qs, scope)


class VisitChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class VisitTopic(models.TextChoices):
    OPINION = "opinion", _("Opinion of the company")
    SUGGESTIONS = "suggestions", _("Suggestions on products and service")
    FESTIVAL = "festival", _("Festival visit")
    AFTER_COMPLAINT = "after_complaint", _("After a complaint")
    NEW_CUSTOMER = "new_customer", _("First contact with a new customer")


class ReturnVisit(models.Model):
    """R-CARE-3: a return visit (回访) by phone or e-mail, scheduled outside the customer's rest hours
    and recorded completely (topic, what the customer said, satisfaction, suggestions)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer"))
    complaint = models.ForeignKey(
        Complaint, null=True, blank=True, on_delete=models.PROTECT, related_name="visits", verbose_name=_("complaint")
    )
    agent = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent"))
    channel = models.CharField(_("by"), max_length=8, choices=VisitChannel.choices)
    topic = models.CharField(_("topic"), max_length=16, choices=VisitTopic.choices)
    scheduled_at = models.DateTimeField(_("scheduled for"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    opinion = models.TextField(_("what the customer said"), max_length=2000, blank=True)
    suggestions = models.TextField(_("suggestions"), max_length=2000, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "id"]
        indexes = [models.Index(fields=["done_at"], name="care_visit_done")]
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")

    def __str__(self) -> str:
        return f"{self.customer_id} {self.scheduled_at:%Y-%m-%d}"

    @staticmethod
    def restrict_queryset(qs: models.QuerySet[Any], scope: Scope, action: str) -> models.QuerySet[Any]:
        return _agent_team_scope(qs, scope)
