"""Field service (SPEC §6): service requests on the shared workflow core, spare parts with a stock
ledger that never goes negative. A request carries the site contact (name, phone, address) as the
customer gave it, linked to the platform customer and order when they are known."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.commerce.models import Customer, Order
from kefu.core.ledger import LedgerModel, LedgerQuerySet
from kefu.core.scoping import READ, RestrictedQuerySet, Scope
from kefu.org.models import Shop, Staff
from kefu.workflow.models import WorkItem


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")
    WECHAT = "wechat", _("WeChat")


class PartKind(models.TextChoices):
    UNIT = "unit", _("The unit")
    ACCESSORY = "accessory", _("An accessory")


class Charge(models.TextChoices):
    FREE = "free", _("Free (warranty)")
    PAID = "paid", _("Paid")


class RequestCategory(models.TextChoices):
    NEW = "new", _("To evaluate")
    SCHEDULED = "scheduled", _("Appointment made")
    ON_SITE = "on_site", _("On site")
    SIGNED = "signed", _("Accepted by the customer")
    SETTLED = "settled", _("Settled")
    CLOSED = "closed", _("Closed")


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
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    # appointment and visit
    appointment_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    on_site_at = models.DateTimeField(_("arrived on site"), null=True, blank=True)
    diagnosis = models.TextField(_("diagnosis"), max_length=2000, blank=True)
    parts_consent_at = models.DateTimeField(_("customer agreed to parts at"), null=True, blank=True)
    # acceptance (客户服务报告) and settlement
    signed_by = models.CharField(_("signed by"), max_length=64, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signature = models.TextField(_("signature"), blank=True)  # an SVG path drawn in the browser
    labour = models.DecimalField(_("labour"), max_digits=12, decimal_places=2, default=0)
    parts_amount = models.DecimalField(_("parts"), max_digits=12, decimal_places=2, default=0)
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=0)
    amount_due = models.DecimalField(_("amount due"), max_digits=12, decimal_places=2, default=0)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-opened_at", "-id"], name="service_request_shop"),
            models.Index(fields=["technician", "appointment_at"], name="service_request_tech"),
            models.Index(fields=["-opened_at", "-id"], name="service_request_recent"),
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


class StockKind(models.TextChoices):
    RECEIVED = "received", _("Received")
    ISSUED = "issued", _("Issued")
    RETURNED = "returned", _("Returned")


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
        ordering = ["at", "id"]
        verbose_name = _("stock entry")
        verbose_name_plural = _("stock entries")

    def __str__(self) -> str:
        return f"{self.part_id} {self.kind} {self.quantity}"
