"""Workforce (SPEC §3): roster, punches, rest/leave requests, red-packet and points ledgers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.ledger import LedgerModel, LedgerQuerySet, ScopedLedgerQuerySet
from kefu.core.scoping import APPROVE, RestrictedQuerySet, Scope
from kefu.org.models import Position, Staff
from kefu.policies.attendance import penalty_basis


def own_or_led_team(qs: RestrictedQuerySet[Any], scope: Scope, action: str) -> RestrictedQuerySet[Any]:
    """Personal records (raw punches, leave requests and their reasons): the person and their team
    lead read and change them; only supervisors and the deputy approve (the scope lets them through
    before this hook runs), so below them nothing is in scope for approval."""
    if action == APPROVE:
        return qs.none()
    if scope.position == Position.TEAM_LEAD:
        return qs.filter(staff__team_id__in=scope.team_ids)
    return qs.filter(staff_id=scope.staff_id or 0)


class RosterEntry(models.Model):
    """One staff member's shift (policy shift code) or rest on one date (R-WF-1)."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="roster", verbose_name=_("staff member"))
    date = models.DateField(_("date"))
    shift_code = models.CharField(_("shift"), max_length=16, blank=True, help_text=_("blank = rest day"))
    source = models.CharField(_("source"), max_length=16, default="manual")

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "staff__team_id"
    scope_staff_path = "staff_id"

    class Meta:
        ordering = ["date", "staff_id"]
        constraints = [models.UniqueConstraint(fields=["staff", "date"], name="roster_staff_date_unique")]
        indexes = [models.Index(fields=["date", "staff"], name="roster_date_idx")]
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster")

    def __str__(self) -> str:
        return f"{self.staff_id} {self.date} {self.shift_code or 'rest'}"


class PunchKind(models.TextChoices):
    ON = "on", _("On duty")
    OFF = "off", _("Off duty")
    UNKNOWN = "unknown", _("Unknown")


class PunchSource(models.TextChoices):
    APP = "app", _("App")
    MACHINE = "machine", _("Machine")
    MAKEUP = "makeup", _("Certified make-up")
    API = "api", _("API")


class Punch(models.Model):
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="punches", verbose_name=_("staff member"))
    at = models.DateTimeField(_("time"))
    kind = models.CharField(_("kind"), max_length=8, choices=PunchKind.choices, default=PunchKind.UNKNOWN)
    source = models.CharField(_("source"), max_length=8, choices=PunchSource.choices, default=PunchSource.APP)
    certified_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("certified by")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # a make-up that carries only the shift's scheduled time (DingTalk's 补卡): from the 4th in a
    # month it waits for the actual time (R-WF-24)
    scheduled_only = models.BooleanField(_("scheduled time only"), default=False, db_default=False)
    # when Kefu learnt of the punch (an import after its week was published: R-WF-5's catch-up)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_default=Now(), db_index=True)

    objects = RestrictedQuerySet.as_manager()
    restrict_queryset = staticmethod(own_or_led_team)
    work_scope = "team"  # the hook gives a technician or warehouse contact their own rows

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "at", "kind", "source"], name="punch_unique"),
        ]
        indexes = [models.Index(fields=["staff", "at"], name="punch_staff_at_idx")]
        verbose_name = _("punch")
        verbose_name_plural = _("punches")

    def __str__(self) -> str:
        return f"{self.staff_id} {self.at:%Y-%m-%d %H:%M} {self.kind}"


class RequestKind(models.TextChoices):
    REST = "rest", _("Rest day")
    PERSONAL = "personal", _("Personal leave")
    SICK = "sick", _("Sick leave")
    ANNUAL = "annual", _("Annual leave")
    OTHER = "other", _("Other leave")
    TRIP = "trip", _("Business trip or outing")  # R-WF-21: a worked day


class DayHalf(models.TextChoices):
    """R-WF-22: which half of the shift a half-day request takes (split at the shift's midpoint)."""

    FIRST = "first", _("First half")
    SECOND = "second", _("Second half")


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class LeaveRequest(models.Model):
    """A rest-day (R-WF-8) or leave (R-WF-9) request with its approval workflow."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="requests", verbose_name=_("staff member"))
    kind = models.CharField(_("kind"), max_length=10, choices=RequestKind.choices)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    half_day = models.BooleanField(_("half day"), default=False)
    half = models.CharField(_("which half"), max_length=8, choices=DayHalf.choices, blank=True, db_default="")
    # R-WF-21: a trip or outing for part of the day (DingTalk's 外出 14:00 到 16:00); empty = whole day
    from_time = models.TimeField(_("from (time)"), null=True, blank=True)
    to_time = models.TimeField(_("to (time)"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    emergency = models.BooleanField(_("emergency (reported by phone)"), default=False)
    late_submission = models.BooleanField(_("submitted late"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=16, default="kefu")
    external_ref = models.CharField(max_length=200, blank=True, db_index=True)

    objects = RestrictedQuerySet.as_manager()
    restrict_queryset = staticmethod(own_or_led_team)
    work_scope = "team"  # the hook gives a technician or warehouse contact their own rows

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["staff", "start_date"], name="request_staff_start_idx")]
        verbose_name = _("rest/leave request")
        verbose_name_plural = _("rest/leave requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start_date}–{self.end_date}"

    @property
    def days(self) -> Decimal:
        if self.half_day:
            return Decimal("0.5")
        return Decimal((self.end_date - self.start_date).days + 1)


class RedPacket(models.Model):
    """R-WF-5: an obligation to send a red packet to the group, due at the next Monday publication."""

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="red_packets", verbose_name=_("staff member")
    )
    incident_date = models.DateField(_("incident date"))
    kind = models.CharField(_("kind"), max_length=16)
    minutes = models.PositiveIntegerField(_("minutes"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=8, decimal_places=2)
    packets = models.PositiveSmallIntegerField(_("packets"), default=5)
    due_date = models.DateField(_("due"))
    rule = models.CharField(_("rule"), max_length=16)
    basis = models.CharField(_("basis"), max_length=300, blank=True)  # as written when it fell due
    basis_args = models.JSONField(_("basis facts"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "staff__team_id"
    scope_staff_path = "staff_id"

    class Meta:
        ordering = ["due_date", "staff_id", "incident_date"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "incident_date", "kind"], name="red_packet_unique"),
        ]
        verbose_name = _("red packet")
        verbose_name_plural = _("red packets")

    def __str__(self) -> str:
        return f"{self.staff_id} {self.incident_date} ¥{self.amount}"

    @property
    def basis_text(self) -> str:
        """The basis in the reader's language (packets from before the facts were kept: as written)."""
        return penalty_basis(self.basis_args) if self.basis_args else self.basis


class RedPacketEntry(LedgerModel):
    """Append-only ledger of a red packet: due, doubled (overdue), sent."""

    packet = models.ForeignKey(RedPacket, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=10)  # due | doubled | sent
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = LedgerQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["packet", "kind"], name="red_packet_entry_once")]
        verbose_name = _("red-packet entry")
        verbose_name_plural = _("red-packet entries")

    def __str__(self) -> str:
        return f"{self.packet_id} {self.kind} ¥{self.amount}"


class PointEntry(LedgerModel):
    """R-WF-15/16/17: an inspection finding or award; append-only (a mistake is reversed, never edited)."""

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="points", verbose_name=_("staff member"))
    item_code = models.CharField(_("item"), max_length=32)
    item_name = models.CharField(_("item name"), max_length=100)
    points = models.IntegerField(_("points"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal")
    # The recording form's one-time key: a double click records one finding.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = ScopedLedgerQuerySet.as_manager()
    scope_team_path = "staff__team_id"
    scope_staff_path = "staff_id"

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["staff", "at"], name="points_staff_at_idx")]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")

    def __str__(self) -> str:
        return f"{self.staff_id} {self.item_code} {self.points:+d}"


class TeamInspection(models.Model):
    """R-WF-17 (clarified): a daily inspection of a team that found nothing — on the team lead's
    summary beside the findings, so "nothing recorded" and "inspected, all in order" differ."""

    team = models.ForeignKey("org.Team", on_delete=models.CASCADE, related_name="+", verbose_name=_("team"))
    at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "team_id"
    work_scope = "team"

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("inspection without findings")
        verbose_name_plural = _("inspections without findings")

    def __str__(self) -> str:
        return f"{self.team_id} {self.at:%Y-%m-%d %H:%M}"
