"""Staffing (issue 22): each team-day of desk history by hour (derived from the messages, for the
forecast), and the roster proposals a team lead takes, edits and publishes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet
from kefu.org.models import Team


class TeamDay(models.Model):
    """R-WFM-1's history of one team and closed day: sessions started in each local hour, how many
    of them a human answered and their summed duration (seconds). Derived: recomputed from the
    messages whenever wanted; a day is computed once it has ended."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    sessions = models.JSONField(default=list)
    handled = models.JSONField(default=list)
    handle_seconds = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "team_id"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="staffing_teamday_once")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.day}"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    DISCARDED = "discarded", _("Discarded")


class RosterProposal(models.Model):
    """R-WFM-3: a month's roster for a team as the solver proposed it and the team lead edited it.
    ``cells`` maps staff id → ISO date → a shift code, "" (rest), "leave" (approved leave) or None
    (not employed); ``explanation`` keeps the solver's account (hours left short and why, extra rest
    days, nights and weekends per person)."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("team"))
    month = models.DateField(_("month"))  # its first day
    state = models.CharField(_("state"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT)
    solver_status = models.CharField(_("solver result"), max_length=12)
    solver_seconds = models.DecimalField(_("solver time (s)"), max_digits=7, decimal_places=2)
    cells = models.JSONField(_("cells"), default=dict)
    explanation = models.JSONField(_("explanation"), default=dict)
    # bumped by every save of the team lead's edits: a page saved from an older copy is refused
    revision = models.PositiveIntegerField(_("revision"), default=0)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(_("proposed at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "team_id"

    class Meta:
        ordering = ["-made_at", "-id"]
        indexes = [models.Index(fields=["team", "month"], name="staffing_proposal_team")]
        verbose_name = _("roster proposal")
        verbose_name_plural = _("roster proposals")

    def __str__(self) -> str:
        return f"{self.team_id} {self.month:%Y-%m}"
