"""Field service (SPEC §6): service requests on the shared workflow core, spare parts with a stock
ledger that never goes negative. A request carries the site contact (name, phone, address) as the
customer gave it, linked to the platform customer and order when they are known."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kefu.commerce.models import Customer, Order
from kefu.core.ledger import LedgerModel, LedgerQuerySet
from kefu.core.scoping import READ, RestrictedQuerySet, Scope
from kefu.org.models import Shop, Staff
from kefu.workflow.models import WorkItem


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")
    WECHAT = "wechat", _("WeChat")
    PLAN = "plan", _("Service plan")


class ServiceKind(models.TextChoices):
    """What the work order is for (服务项统计)."""

    REPAIR = "repair", _("Repair")
    MAINTENANCE = "maintenance", _("Maintenance")
    SERVICE = "service", _("Yearly service")
    RETURN_VISIT = "return_visit", _("Return visit")
    REPLACEMENT = "replacement", _("Replacement")


class Billing(models.TextChoices):
    ONCE = "once", _("Once")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class Agreement(models.Model):
    """A service agreement (服务协议) with a project or contract customer: covered products, the
    fee and its billing plan, discounts on parts and labour, the warranty it grants (R-SVC-1) and
    the visits it promises (the plan)."""

    number = models.CharField(_("agreement no."), max_length=24, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    customer_name = models.CharField(_("customer"), max_length=100)
    contact_name = models.CharField(_("contact"), max_length=64)
    contact_phone = models.CharField(_("phone"), max_length=32)
    address = models.CharField(_("service address"), max_length=200, blank=True)
    products = models.JSONField(_("covered products"), default=list)  # [{"product", "serial_no"}]
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    fee = models.DecimalField(_("fee"), max_digits=12, decimal_places=2)
    billing = models.CharField(_("billing"), max_length=10, choices=Billing.choices)
    parts_discount = models.DecimalField(_("parts discount %"), max_digits=5, decimal_places=2, default=0)
    labour_discount = models.DecimalField(_("labour discount %"), max_digits=5, decimal_places=2, default=0)
    warranty_months = models.PositiveSmallIntegerField(_("warranty months"), null=True, blank=True)
    visits = models.JSONField(_("visit schedule"), default=dict)  # kind → every N months (0 = none)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    # SPEC §6.1: the supervisor reviews (审核) an agreement before it takes effect
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "shop_id"

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="agreement_dates")]
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")

    def __str__(self) -> str:
        return self.number


class AgreementBill(models.Model):
    """A receivable from an agreement's billing plan (服务协议结算): due, then paid once."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="bills")
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "agreement__shop_id"

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "due_on"], name="agreement_bill_once")]
        verbose_name = _("agreement bill")
        verbose_name_plural = _("agreement bills")

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.due_on}"


class PlanState(models.TextChoices):
    DRAFT = "draft", _("To review")
    REVIEWED = "reviewed", _("Reviewed")
    RELEASED = "released", _("Released as a work order")
    SKIPPED = "skipped", _("Skipped")


class PlanItem(models.Model):
    """One visit of an agreement's proactive plan (主动服务计划): generated, reviewed, released as
    a work order (a service request) once."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="plan")
    kind = models.CharField(_("kind"), max_length=16, choices=ServiceKind.choices)
    due_on = models.DateField(_("due on"))
    state = models.CharField(_("state"), max_length=10, choices=PlanState.choices, default=PlanState.DRAFT)
    request = models.OneToOneField(
        "ServiceRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="plan_item"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "agreement__shop_id"

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["agreement", "kind", "due_on"], name="plan_item_once")]
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.kind} {self.due_on}"


class PartKind(models.TextChoices):
    UNIT = "unit", _("The unit")
    ACCESSORY = "accessory", _("An accessory")


class Charge(models.TextChoices):
    FREE = "free", _("Free (warranty)")
    PAID = "paid", _("Paid repair")


class ProofKind(models.TextChoices):
    """R-SVC-9: what proves the purchase (003 提供购买凭证和产品序列号)."""

    INVOICE = "invoice", _("Invoice")
    ORDER = "order", _("Order no.")
    CARD = "card", _("Warranty card")


class RequestCategory(models.TextChoices):
    NEW = "new", _("To evaluate")
    SCHEDULED = "scheduled", _("Appointment made")
    ON_SITE = "on_site", _("On site")
    SIGNED = "signed", _("Accepted by the customer")
    SETTLED = "settled", _("Settled")
    CLOSED = "closed", pgettext_lazy("case category", "Closed")


class ServiceRequest(WorkItem):
    """A repair or service request (报修): intake → evaluation → appointment → on-site visit →
    signed report → settlement → return visit. R-SVC-6: ``sla_due_at`` is the on-site deadline."""

    workflow_key = "service.request"

    number = models.CharField(_("request no."), max_length=24, unique=True)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="+", verbose_name=_("shop"))
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    contact_name = models.CharField(_("contact"), max_length=64)
    contact_phone = models.CharField(_("phone"), max_length=32)
    channel = models.CharField(_("received by"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("service item"), max_length=16, choices=ServiceKind.choices, default=ServiceKind.REPAIR)
    agreement = models.ForeignKey(
        Agreement, null=True, blank=True, on_delete=models.PROTECT, related_name="requests", verbose_name=_("agreement")
    )
    # R-SVC-3/4: the replacement work order raised for a request (one per request)
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement",
        verbose_name=_("replaces request"),
    )
    product = models.CharField(_("product"), max_length=120)
    serial_no = models.CharField(_("serial no."), max_length=64, blank=True)
    part = models.CharField(_("what failed"), max_length=10, choices=PartKind.choices, default=PartKind.UNIT)
    purchase_date = models.DateField(_("purchase date"))
    purchase_channel = models.CharField(_("bought through"), max_length=64, blank=True)
    fault = models.TextField(_("fault"), max_length=2000)
    address = models.CharField(_("service address"), max_length=200, blank=True)
    owner = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("taken by")
    )
    technician = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("technician")
    )
    # evaluation (R-SVC-1 … R-SVC-5): the facts given and the verdict, as evaluated
    causes = models.JSONField(_("paid causes"), default=list, blank=True)
    agreement_months = models.PositiveSmallIntegerField(_("agreement warranty months"), null=True, blank=True)
    verdict = models.JSONField(_("warranty verdict"), default=dict, blank=True)
    charge = models.CharField(_("charge"), max_length=8, choices=Charge.choices, blank=True)
    replacement_due = models.BooleanField(_("replacement due"), default=False)
    warranty_ends = models.DateField(_("warranty ends"), null=True, blank=True)  # from the verdict
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    # appointment and visit
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    # R-SVC-6 (clarified): an appointment past the 24-hour commitment records the customer's reason,
    # or is a miss
    appointment_reason = models.CharField(_("reason for a later appointment"), max_length=200, blank=True)
    commitment_missed = models.BooleanField(_("24-hour commitment missed"), default=False)
    on_site_at = models.DateTimeField(_("arrived on site"), null=True, blank=True)
    diagnosis = models.TextField(_("diagnosis"), max_length=2000, blank=True)
    fault_cause = models.CharField(_("fault cause"), max_length=40, blank=True)  # policy service.fault_causes
    parts_consent_at = models.DateTimeField(_("customer agreed to parts at"), null=True, blank=True)
    # acceptance (客户服务报告) and settlement
    signed_by = models.CharField(_("signed by"), max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signature = models.TextField(_("signature"), blank=True)  # an SVG path drawn in the browser
    labour = models.DecimalField(_("labour"), max_digits=16, decimal_places=2, default=0)
    parts_amount = models.DecimalField(_("parts"), max_digits=16, decimal_places=2, default=0)
    discount = models.DecimalField(_("discount"), max_digits=16, decimal_places=2, default=0)
    amount_due = models.DecimalField(_("amount due"), max_digits=16, decimal_places=2, default=0)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # R-SVC-7: a repair that cannot be done on site — the unit taken to the service centre (with a
    # receipt of what was taken), the days it spends there, and the loaner or temporary solution
    brought_in_at = models.DateTimeField(_("taken to the service centre at"), null=True, blank=True)
    brought_in_items = models.CharField(_("what was taken"), max_length=300, blank=True)
    brought_back_at = models.DateTimeField(_("brought back at"), null=True, blank=True)
    loaner = models.CharField(_("loaner unit or temporary solution"), max_length=200, blank=True)
    loaner_out_at = models.DateTimeField(_("loaner given at"), null=True, blank=True)
    loaner_back_at = models.DateTimeField(_("loaner returned at"), null=True, blank=True)
    # R-SVC-8: outside the service area — referred to the sales point that serves it, followed up
    referred_to = models.CharField(_("referred to"), max_length=120, blank=True)
    referred_at = models.DateTimeField(_("referred at"), null=True, blank=True)
    referral_followed_at = models.DateTimeField(_("referral followed up at"), null=True, blank=True)
    referral_outcome = models.CharField(_("referral outcome"), max_length=300, blank=True)
    # R-SVC-9: proof of purchase, and the company receipt (统一收据) of a paid repair
    proof_kind = models.CharField(_("proof of purchase"), max_length=16, blank=True)  # invoice|order|card
    proof_ref = models.CharField(_("proof no."), max_length=64, blank=True)
    receipt_no = models.CharField(_("receipt no."), max_length=24, blank=True)
    # the return visit after the work (seed 003 3.1.10)
    visited_at = models.DateTimeField(_("return visit at"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)  # 1–5
    visit_notes = models.TextField(_("return visit notes"), max_length=2000, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-opened_at", "-id"], name="service_request_shop"),
            models.Index(fields=["technician", "appointment_at"], name="service_request_tech"),
            models.Index(fields=["-opened_at", "-id"], name="service_request_recent"),
            models.Index(fields=["status", "-opened_at", "-id"], name="service_request_status"),
            models.Index(fields=["shop", "status", "-opened_at", "-id"], name="service_request_shop_status"),
            models.Index(fields=["technician", "-opened_at", "-id"], name="service_request_tech_recent"),
            models.Index(fields=["serial_no"], name="service_request_serial"),
            models.Index(fields=["settled_at"], name="service_request_settled"),
            models.Index(fields=["warranty_ends"], name="service_request_warranty"),
        ]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def restrict_queryset(qs: models.QuerySet[Any], scope: Scope, action: str) -> models.QuerySet[Any]:
        """A technician works the requests assigned to them (in any shop); everyone else the
        requests of their team's shops."""
        if scope.position == "technician":
            return qs.filter(technician_id=scope.staff_id)
        if action == READ and scope.staff_id is not None:
            return qs.filter(Q(shop_id__in=scope.shop_ids) | Q(technician_id=scope.staff_id))
        return qs.filter(shop_id__in=scope.shop_ids)


class Part(models.Model):
    """A spare part kept in stock. ``on_hand`` changes only with a stock entry, by a conditional
    UPDATE that refuses to go below zero (and a check constraint behind it)."""

    code = models.CharField(_("part code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    on_hand = models.IntegerField(_("on hand"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(on_hand__gte=0), name="service_part_never_negative")]
        verbose_name = _("spare part")
        verbose_name_plural = _("spare parts")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @staticmethod
    def restrict_queryset(qs: models.QuerySet[Any], scope: Scope, action: str) -> models.QuerySet[Any]:
        return qs  # the parts catalogue and stock are the department's (changes need a capability)

    work_scope = "team"


class StockKind(models.TextChoices):
    RECEIVED = "received", _("Received into stock")
    ISSUED = "issued", _("Issued to a request")
    RETURNED = "returned", _("Returned to stock")


class StockEntry(LedgerModel):
    """The stock ledger of a part: received (+), issued to a request (−), returned from one (+)."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="entries", verbose_name=_("part"))
    kind = models.CharField(_("kind"), max_length=10, choices=StockKind.choices)
    quantity = models.IntegerField(_("quantity"))  # signed: issued is negative
    balance = models.IntegerField(_("balance after"))
    request = models.ForeignKey(
        ServiceRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="parts", verbose_name=_("request")
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2, default=0)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        base_manager_name = "objects"  # Django's internal manager refuses changes too
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["at"], name="service_stock_at")]
        verbose_name = _("stock entry")
        verbose_name_plural = _("stock entries")

    def __str__(self) -> str:
        return f"{self.part_id} {self.kind} {self.quantity}"
