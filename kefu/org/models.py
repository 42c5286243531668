"""Organisation (SPEC §1): shops, teams, staff with positions, API tokens."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet


class Platform(models.TextChoices):
    TMALL = "tmall", _("Tmall")
    TAOBAO = "taobao", _("Taobao")
    JD = "jd", _("JD")
    DOUYIN = "douyin", _("Douyin")
    PINDUODUO = "pinduoduo", _("Pinduoduo")
    KUAISHOU = "kuaishou", _("Kuaishou")
    OWN_SITE = "own_site", _("Own site")


class Position(models.TextChoices):
    SUPERVISOR = "supervisor", _("Supervisor")
    DEPUTY = "deputy", _("Deputy supervisor")
    TEAM_LEAD = "team_lead", _("Team lead")
    PRESALES = "presales", _("Pre-sales agent")
    AFTERSALES = "aftersales", _("After-sales agent")
    TECHNICIAN = "technician", _("Technician")
    WAREHOUSE = "warehouse", _("Warehouse contact")


# The Chinese position names used in staff files (工号,姓名,岗位,…) and the handbook.
POSITION_NAMES_ZH = {
    "客服主管": Position.SUPERVISOR,
    "主管": Position.SUPERVISOR,
    "客服副主管": Position.DEPUTY,
    "副主管": Position.DEPUTY,
    "组长": Position.TEAM_LEAD,
    "客服组长": Position.TEAM_LEAD,
    "售前客服": Position.PRESALES,
    "售前": Position.PRESALES,
    "售后客服": Position.AFTERSALES,
    "售后": Position.AFTERSALES,
    "售后工程师": Position.TECHNICIAN,
    "技术员": Position.TECHNICIAN,
    "仓库对接人": Position.WAREHOUSE,
    "仓库": Position.WAREHOUSE,
}


class Shop(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices, default=Platform.TMALL)
    active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "id"
    work_scope = "team"

    class Meta:
        ordering = ["name"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    shops = models.ManyToManyField(Shop, related_name="teams", blank=True, verbose_name=_("shops"))

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "id"
    work_scope = "team"

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Staff(models.Model):
    employee_no = models.CharField(_("employee no."), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    position = models.CharField(_("position"), max_length=16, choices=Position.choices)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name=_("team")
    )
    base_salary = models.DecimalField(_("base monthly salary"), max_digits=10, decimal_places=2, default=Decimal("0"))
    dingtalk_user_id = models.CharField(_("DingTalk user id"), max_length=64, blank=True, db_index=True)
    phone = models.CharField(_("work phone"), max_length=32, blank=True)  # told to customers (field service)
    # R-CARE-2: the weight of the agent's skill when customers are spread over agents (1–5)
    care_skill = models.PositiveSmallIntegerField(_("customer care skill"), default=1)
    hire_date = models.DateField(_("hire date"), null=True, blank=True)
    # R-WF-18: the last day employed (离职日期); the person is inactive after it and their roster ends
    leave_date = models.DateField(_("leaving date"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="staff"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_team_path = "team_id"
    work_scope = "team"  # colleagues' names; pay stays with whom it concerns

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the secret is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # the owner's session hash when the token was made (Django's HMAC of the password hash): a
    # password change makes it differ and the token stops, as the person's sessions do
    auth_hash = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
