"""Core tables: the append-only event timeline, versioned policies and import runs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.policies.handbook import title_of


class AppendOnlyError(RuntimeError):
    pass


class _AppendOnly(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")


class EventQuerySet(_AppendOnly):
    def for_object(self, obj: models.Model) -> EventQuerySet:
        ct = ContentType.objects.get_for_model(obj.__class__)
        return self.filter(subject_type=ct, subject_id=obj.pk)


class Event(models.Model):
    """One entry of an aggregate's timeline and of the audit trail: who did what, when, before/after."""

    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    verb = models.CharField(_("action"), max_length=64, db_index=True)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=64, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id", "at"], name="event_subject_idx")]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.subject_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("events are append-only")


class PolicyVersion(models.Model):
    """One saved version of the handbook policy; the newest one effective on a date is in force."""

    name = models.CharField(_("name"), max_length=64, default="seed-handbook")
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    document = models.JSONField(_("document"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = _AppendOnly.as_manager()

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["-effective_from", "-version"]
        constraints = [models.UniqueConstraint(fields=["version"], name="policy_version_unique")]
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")

    def __str__(self) -> str:
        return gettext("%(title)s, version %(v)s (from %(day)s)") % {
            "title": title_of(self.document, self.name),
            "v": self.version,
            "day": self.effective_from,
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("policy versions are immutable; save a new version")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("policy versions are immutable")


class ImportRun(models.Model):
    """A record of one file import: what came in and what became of each row."""

    kind = models.CharField(_("kind"), max_length=32)
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64)
    fmt = models.CharField(_("format"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    # the process running it says it is alive (start, each chunk); a run whose heartbeat stops is
    # resumed from its stored file or finished as failed by the sweep (issue 16 §9)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # a queued run's attempts: a worker takes attempt n only while the run is at n − 1 (one
    # conditional UPDATE), so a run put on the queue twice is never imported twice at once
    attempt = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        """How far a running import is (100 once finished)."""
        if self.finished_at is not None:
            return 100
        return min(99, (100 * self.rows_done) // self.rows_total) if self.rows_total else 0

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


class OutboxMessage(models.Model):
    """A side effect (robot post, mail) queued by an action in its transaction, delivered after
    commit by the worker (ADR 0008). ``key`` makes one effect unique (e.g. one publication a week)."""

    kind = models.CharField(max_length=64)
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    dead = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self) -> str:
        from . import clock, wording

        when = clock.local_text(self.created_at) if self.created_at else ""
        return f"{wording.label(self.kind)} · {when}" if when else str(wording.label(self.kind))


class Counter(models.Model):
    """A shared counter with an expiry (sign-in and token throttles, rate limits) where there is no
    Redis: one row per key, raised by one conditional UPDATE so parallel requests each get their
    own number (Django's database cache increments by a read and a write). ``kefu.core.counters``."""

    key = models.CharField(max_length=200, primary_key=True)
    value = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
