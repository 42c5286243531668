"""After-sales cases (SPEC §5): cases with configurable status labels over fixed categories, evidence,
append-only money lines, courier claims, agent charges (R-AS-8) and negative reviews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.commerce.models import Customer, Order, Product
from kefu.core.ledger import LedgerModel, LedgerQuerySet, ScopedLedgerQuerySet
from kefu.core.models import AppendOnlyError
from kefu.core.scoping import RestrictedQuerySet
from kefu.org.models import Shop, Staff
from kefu.workflow.models import Attachment, WorkItem


class CaseType(models.TextChoices):
    LOGISTICS_EXCEPTION = "logistics_exception", _("Logistics exception")
    LOST_PARCEL = "lost_parcel", _("Lost parcel")
    MISSING_ITEM = "missing_item", _("Missing item")
    WRONG_ITEM = "wrong_item", _("Wrong item shipped")
    DEFECT = "defect", _("Defect")
    QUALITY = "quality", _("Quality problem")
    AGENT_ERROR = "agent_error", _("Agent error")
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")
    REFUND_ONLY = "refund_only", _("Refund only")
    DISPUTE = "dispute", _("Dispute / appeal")
    NEGATIVE_REVIEW = "negative_review", _("Negative review")


class Category(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING_BUYER = "waiting_buyer", _("Waiting on buyer")
    WAITING_WAREHOUSE = "waiting_warehouse", _("Waiting on warehouse")
    WAITING_COURIER = "waiting_courier", _("Waiting on courier")
    WAITING_PLATFORM = "waiting_platform", _("Waiting on platform")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", pgettext_lazy("case category", "Closed")


class Responsibility(models.TextChoices):
    OURS_AGENT = "ours_agent", _("Ours: agent")
    OURS_WAREHOUSE = "ours_warehouse", _("Ours: warehouse")
    OURS_PRODUCT = "ours_product", _("Ours: product")
    COURIER = "courier", _("Courier")
    BUYER = "buyer", _("Buyer")
    UNDETERMINED = "undetermined", _("Undetermined")


class Case(WorkItem):
    workflow_key = "aftersales.case"

    case_type = models.CharField(_("type"), max_length=24, choices=CaseType.choices)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="cases", verbose_name=_("shop"))
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name=_("order")
    )
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="cases")
    buyer_nick = models.CharField(_("buyer nick"), max_length=100, blank=True)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", verbose_name=_("product")
    )
    owner = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", verbose_name=_("owner")
    )
    responsibility = models.CharField(
        _("responsibility"), max_length=16, choices=Responsibility.choices, default=Responsibility.UNDETERMINED
    )
    responsible_staff = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("responsible agent")
    )
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    facts = models.JSONField(_("facts"), default=dict, blank=True)
    resolution = models.CharField(_("chosen resolution"), max_length=40, blank=True)
    platform_deadline = models.DateTimeField(_("platform deadline"), null=True, blank=True)
    # the buyer's conversation the case was opened from (the desk's id; no foreign key across modules)
    conversation_ref = models.PositiveBigIntegerField(_("conversation"), null=True, blank=True)
    external_ref = models.CharField(_("platform refund id"), max_length=64, blank=True)

    scope_shop_path = "shop_id"

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_ref"], condition=~models.Q(external_ref=""), name="case_external_ref_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["-opened_at", "-id"], name="case_recent_idx"),
            models.Index(fields=["status", "-opened_at", "-id"], name="case_status_idx"),
            models.Index(fields=["shop", "status", "-opened_at", "-id"], name="case_shop_status_idx"),
            models.Index(fields=["owner", "status", "-opened_at", "-id"], name="case_owner_status_idx"),
            models.Index(fields=["case_type", "-opened_at", "-id"], name="case_type_idx"),
            models.Index(fields=["buyer_nick"], name="case_buyer_idx"),
        ]
        verbose_name = _("after-sales case")
        verbose_name_plural = _("after-sales cases")

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return self.number_for(self.pk)

    @staticmethod
    def number_for(pk: int | None) -> str:
        """The case number people quote ("AS0000042"), also for a list's plain rows."""
        return f"AS{pk or 0:07d}"


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    WAYBILL = "waybill", _("Waybill")
    WEIGHT = "weight", _("Parcel weight")
    CHAT = "chat", _("Chat excerpt")
    VOUCHER = "voucher", _("Purchase voucher / authorisation")
    OTHER = "other", _("Other")


class Evidence(Attachment):
    """A file on a case (the shared core's safe attachment)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("kind"), max_length=10, choices=EvidenceKind.choices)

    scope_shop_path = "case__shop_id"

    class Meta(Attachment.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.original_name}"


class MoneyKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    COMPENSATION = "compensation", _("Compensation")
    COUPON = "coupon", _("Coupon")
    FREIGHT_BORNE = "freight_borne", _("Freight we bear")
    RESHIP_COST = "reship_cost", _("Reship cost")
    CLAIM_RECOVERED = "claim_recovered", _("Claim recovered")


class MoneyStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    POSTED = "posted", _("Posted")


class MoneyLineQuerySet(ScopedLedgerQuerySet):
    def decide(self, *, status: str, by: Any, at: Any) -> int:
        """The one change a money line allows: requested → approved/rejected, once (a conditional
        UPDATE; ADR 0007). The PostgreSQL trigger permits exactly this transition."""
        if status not in {MoneyStatus.APPROVED, MoneyStatus.REJECTED}:
            raise AppendOnlyError("a money line is only ever approved or rejected")
        return self.filter(status=MoneyStatus.REQUESTED)._raw_update(status=status, decided_by=by, decided_at=at)


class MoneyLine(LedgerModel):
    """Append-only: the amount never changes; a refund's status moves once, requested → approved/rejected."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="money")
    kind = models.CharField(_("kind"), max_length=16, choices=MoneyKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=MoneyStatus.choices)
    needs_supervisor = models.BooleanField(_("needs the supervisor"), default=False)
    rule = models.CharField(max_length=16, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A browser form or API client's key: the same key posts one line however often it is sent.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = MoneyLineQuerySet.as_manager()
    scope_shop_path = "case__shop_id"

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="money_status_idx")]
        verbose_name = _("money line")
        verbose_name_plural = _("money lines")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} ¥{self.amount} {self.status}"


class AgentCharge(LedgerModel):
    """R-AS-8: reship freight charged to the agent who took the order (append-only ledger)."""

    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="charges")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="agent_charges")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=200)
    at = models.DateTimeField()

    objects = LedgerQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["case", "staff"], name="agent_charge_once_per_case")]
        verbose_name = _("agent charge")
        verbose_name_plural = _("agent charges")

    def __str__(self) -> str:
        return f"{self.staff_id} ¥{self.amount}"


class ClaimStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    ANSWERED = "answered", _("Answered")
    PAID = "paid", pgettext_lazy("courier claim", "Paid")
    REJECTED = "rejected", _("Rejected")
    WRITTEN_OFF = "written_off", _("Written off")


class CourierClaim(models.Model):
    """R-AS-9: a claim against the courier for a lost or damaged parcel."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="claim")
    courier = models.CharField(_("courier"), max_length=40)
    tracking_no = models.CharField(_("tracking no."), max_length=64, blank=True)
    amount = models.DecimalField(_("claimed"), max_digits=12, decimal_places=2)
    recovered = models.DecimalField(_("recovered"), max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(_("status"), max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.FILED)
    filed_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "case__shop_id"

    class Meta:
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_no} ¥{self.amount}"


class ShipmentChase(models.Model):
    """R-AS-11: the agent chased the warehouse about an order's shipment (追问记录)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="chases")
    staff = models.ForeignKey(Staff, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "order__shop_id"

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.at:%Y-%m-%d %H:%M}"


class NegativeReview(models.Model):
    """R-AS-13: a negative review, its explanation reply and any product feedback."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="negative_reviews")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    buyer_nick = models.CharField(_("buyer nick"), max_length=100, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), default=1)
    content = models.TextField(_("review"))
    reviewed_at = models.DateTimeField(_("reviewed at"))
    reply = models.TextField(_("explanation reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)
    feedback_reason = models.CharField(_("product feedback"), max_length=100, blank=True)
    # the platform's own reference of a review read by a connector (its rating's order line): a review
    # read again is the same review
    external_ref = models.CharField(_("platform reference"), max_length=64, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "shop_id"

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        indexes = [models.Index(fields=["reviewed_at"], name="review_day_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "external_ref"], condition=~models.Q(external_ref=""), name="review_external_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.buyer_nick} {self.rating}★"


class RefundApprover(models.Model):
    """R-AS-7 (issue 18): the supervisor grants a person the refund-approval permission up to an amount.
    One grant per person; a new grant replaces the limit, a revoked grant keeps its row (timeline)."""

    staff = models.OneToOneField(
        Staff, on_delete=models.PROTECT, related_name="refund_grant", verbose_name=_("staff member")
    )
    limit = models.DecimalField(_("approval limit"), max_digits=12, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(_("granted at"))

    class Meta:
        verbose_name = _("refund approver")
        verbose_name_plural = _("refund approvers")
        constraints = [models.CheckConstraint(condition=models.Q(limit__gt=0), name="refund_grant_limit_positive")]

    def __str__(self) -> str:
        return f"{self.staff} ≤ ¥{self.limit}"


class ShopRating(models.Model):
    """The platform's shop ratings (DSR: 描述相符, 服务态度, 物流服务, each out of 5) of one day, as the
    platform shows or pushes them (FORMATS §3); the shop-health report reads the period's latest."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    day = models.DateField(_("date"))
    description = models.DecimalField(_("item as described"), max_digits=3, decimal_places=2)
    service = models.DecimalField(_("service attitude"), max_digits=3, decimal_places=2)
    logistics = models.DecimalField(_("logistics service"), max_digits=3, decimal_places=2)
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "shop_id"

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "day"], name="shop_rating_day"),
            models.CheckConstraint(
                condition=models.Q(description__gte=0, description__lte=5, service__gte=0, service__lte=5)
                & models.Q(logistics__gte=0, logistics__lte=5),
                name="shop_rating_range",
            ),
        ]
        verbose_name = _("shop rating")
        verbose_name_plural = _("shop ratings")

    def __str__(self) -> str:
        return f"{self.shop_id} {self.day}: {self.description}/{self.service}/{self.logistics}"
