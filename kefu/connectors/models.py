"""Connectors (issue 21): a platform account Kefu pulls from on a schedule, and the log of its runs.

A connector's secrets (app secret, session key) are stored sealed (``crypto``); its cursor says, per
stream (orders, refunds, punches …), up to which instant the platform's records are in Kefu. Records
never land here: each run hands them to the same import services as files (ADR 0026).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet
from kefu.org.models import Shop


class Platform(models.TextChoices):
    TAOBAO = "taobao", _("Taobao / Tmall")
    PINDUODUO = "pinduoduo", _("Pinduoduo")
    DINGTALK = "dingtalk", _("DingTalk")


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", _("On schedule")
    MANUAL = "manual", _("Sync now")
    CLI = "cli", _("Command line")


class Outcome(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Succeeded")
    PARTIAL = "partial", _("Succeeded with failed records")
    FAILED = "failed", _("Failed")


class Connector(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    shop = models.ForeignKey(
        Shop, null=True, blank=True, on_delete=models.PROTECT, related_name="connectors", verbose_name=_("shop")
    )
    gateway = models.URLField(_("gateway URL"), max_length=300)
    app_key = models.CharField(_("app key"), max_length=64)
    sealed = models.TextField(_("sealed credentials"), blank=True)  # crypto.seal({"app_secret", "session"})
    session_expires_at = models.DateTimeField(_("session expires"), null=True, blank=True)
    interval_minutes = models.PositiveIntegerField(_("every (minutes)"), default=10)
    enabled = models.BooleanField(_("enabled"), default=True)
    # stream → ISO instant up to which the platform's records are in Kefu
    cursors = models.JSONField(_("cursors"), default=dict, blank=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True, db_index=True)
    # the lease of the run in progress: a conditional UPDATE takes it, so one run at a time
    running_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "shop"

    class Meta:
        ordering = ["name"]
        verbose_name = _("connector")
        verbose_name_plural = _("connectors")

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One stream's run of a connector: the window asked, what came and what became of it."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="runs")
    stream = models.CharField(_("stream"), max_length=32)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    window_start = models.DateTimeField(_("from"), null=True, blank=True)
    window_end = models.DateTimeField(_("to"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    failures = models.JSONField(_("failed records"), default=list, blank=True)  # [{"record", "reason"}], ≤ 200
    error = models.CharField(_("error"), max_length=500, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "connector__shop"

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connector", "-started_at"], name="syncrun_connector_idx")]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")

    def __str__(self) -> str:
        return f"{self.connector_id} {self.stream} {self.started_at:%Y-%m-%d %H:%M}"
