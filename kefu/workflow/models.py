"""The shared workflow core's data (ADR 0010): status labels over a module's fixed categories, and
the abstract record and attachment every module's work items build on."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet


class StatusLabel(models.Model):
    """A supervisor-defined label ("待买家回复") mapped to one of a workflow's fixed categories
    ("waiting_buyer"). Code reads only the category; a record's category is its label's."""

    workflow = models.CharField(_("workflow"), max_length=40)
    name = models.CharField(_("name"), max_length=40)
    category = models.CharField(_("category"), max_length=24)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    default_for_category = models.BooleanField(_("default for its category"), default=False)

    class Meta:
        ordering = ["workflow", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["workflow", "name"], name="status_label_unique_name")]
        verbose_name = _("status label")
        verbose_name_plural = _("status labels")

    def __str__(self) -> str:
        return self.name

    @property
    def category_label(self) -> str:
        from . import registry

        try:
            return registry.get(self.workflow).category_label(self.category)
        except KeyError:
            return self.category


class WorkItem(models.Model):
    """What every workflow record has: a status label (its category derived from it), timers,
    escalation, a checklist and when it was opened, changed and closed. Subclasses set
    ``workflow_key`` and register a ``registry.Workflow`` under it."""

    workflow_key: ClassVar[str] = ""

    status = models.ForeignKey(StatusLabel, on_delete=models.PROTECT, related_name="+", verbose_name=_("status"))
    opened_at = models.DateTimeField(_("opened at"))
    updated_at = models.DateTimeField(_("updated at"))
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    breached = models.BooleanField(_("deadline breached"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    checklist = models.JSONField(_("checklist"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def category(self) -> str:
        """Derived from the label, never stored on the record."""
        return self.status.category

    @property
    def category_label(self) -> str:
        return self.status.category_label


class Attachment(models.Model):
    """A file on a record: type checked by content, size limited, stored under a generated name,
    downloaded only through a scoped view (``workflow.attachments``)."""

    kind = models.CharField(_("kind"), max_length=10)
    file = models.FileField(upload_to="evidence/%Y/%m/", max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    note = models.CharField(_("note"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]
