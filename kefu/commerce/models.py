"""Commerce data mirrored from the shop platforms (SPEC §2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kefu.core.scoping import RestrictedQuerySet, Scope
from kefu.org.models import Platform, Shop, Staff


def money(verbose_name: Any) -> models.DecimalField[Decimal, Decimal]:
    """A CNY amount: Decimal with two places (never float)."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, default=Decimal("0.00"))


class OrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid, awaiting shipment")
    SHIPPED = "shipped", _("Shipped")
    FINISHED = "finished", _("Received / finished")
    CLOSED = "closed", _("Closed")


class Flag(models.IntegerChoices):
    GREY = 0, _("Grey")
    RED = 1, _("Red")
    YELLOW = 2, _("Yellow")
    GREEN = 3, _("Green")
    BLUE = 4, _("Blue")
    PURPLE = 5, _("Purple")


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="products", verbose_name=_("shop"))
    sku = models.CharField(_("SKU"), max_length=64)
    title = models.CharField(_("title"), max_length=255)
    category = models.CharField(_("category"), max_length=64, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    price = money(_("price"))
    cost_price = money(_("cost price"))
    warranty_unit_months = models.PositiveSmallIntegerField(_("unit warranty (months)"), null=True, blank=True)
    warranty_accessory_months = models.PositiveSmallIntegerField(
        _("accessory warranty (months)"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    # SPEC §8 knowledge search: title, SKU, category and "name:value" of each parameter, lowercased;
    # searched by substring (Chinese has no spaces to split words on), a trigram index on PostgreSQL
    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "shop_id"
    work_scope = "team"  # the catalogue: no customer's facts

    class Meta:
        ordering = ["shop_id", "sku"]
        constraints = [models.UniqueConstraint(fields=["shop", "sku"], name="product_shop_sku_unique")]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} {self.title}"

    def searchable(self) -> str:
        return searchable(self.title, self.sku, self.category, self.parameters)


def searchable(title: str, sku: str, category: str, parameters: Any) -> str:
    """What knowledge search matches a product on (see ``Product.search_text``)."""
    pairs = [f"{k}:{v}" for k, v in (parameters or {}).items()] if isinstance(parameters, dict) else []
    return " | ".join([title or "", sku or "", category or "", *pairs]).lower()


class Customer(models.Model):
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    nick = models.CharField(_("buyer nick"), max_length=100)
    name = models.CharField(_("name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    member_level = models.CharField(_("member level"), max_length=32, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    assigned_agent = models.ForeignKey(
        Staff,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        verbose_name=_("assigned agent"),
    )
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    # the shop a customer first came to without an order (a complaint by phone): in that shop's scope
    home_shop = models.ForeignKey(
        "org.Shop", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("first seen in")
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "nick"], name="customer_platform_nick_unique")]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.nick

    @staticmethod
    def restrict_queryset(qs: RestrictedQuerySet[Any], scope: Scope, action: str) -> RestrictedQuerySet[Any]:
        # A customer is in scope when they have an order in one of the actor's shops, or first came
        # to one of them without an order (a complaint by phone).
        in_scope = Order.objects.filter(customer_id=OuterRef("pk"), shop_id__in=scope.shop_ids)
        return qs.filter(Q(Exists(in_scope)) | Q(home_shop_id__in=scope.shop_ids))


class Order(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders", verbose_name=_("shop"))
    order_no = models.CharField(_("order no."), max_length=40)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    buyer_nick = models.CharField(_("buyer nick"), max_length=100, blank=True)
    receiver_name = models.CharField(_("receiver"), max_length=64, blank=True)
    receiver_phone = models.CharField(_("receiver phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    province = models.CharField(_("province"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices)
    platform_status = models.CharField(_("platform status"), max_length=40, blank=True)
    goods_amount = money(_("goods amount"))
    postage = money(_("postage"))
    total_amount = money(_("total"))
    paid_amount = money(_("paid"))
    refunded_amount = money(_("refunded"))
    ordered_at = models.DateTimeField(_("ordered at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    courier = models.CharField(_("courier"), max_length=40, blank=True)
    tracking_no = models.CharField(_("tracking no."), max_length=64, blank=True)
    flag = models.PositiveSmallIntegerField(_("flag"), choices=Flag.choices, default=Flag.GREY)
    memo = models.CharField(_("seller memo"), max_length=1000, blank=True)
    memo_valid = models.BooleanField(_("memo follows R-COM-1"), default=True)
    buyer_message = models.CharField(_("buyer message"), max_length=500, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=64, blank=True)
    items_title = models.CharField(_("items"), max_length=500, blank=True)
    item_count = models.PositiveIntegerField(_("item count"), default=0)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "shop_id"

    class Meta:
        ordering = ["-ordered_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "order_no"], name="order_shop_no_unique")]
        indexes = [
            models.Index(fields=["-ordered_at", "-id"], name="order_recent_idx"),
            models.Index(fields=["shop", "-ordered_at", "-id"], name="order_shop_recent_idx"),
            models.Index(fields=["status", "-ordered_at", "-id"], name="order_status_recent_idx"),
            models.Index(fields=["shop", "status", "-ordered_at", "-id"], name="order_shop_status_idx"),
            models.Index(fields=["status", "province", "-ordered_at", "-id"], name="order_status_prov_idx"),
            models.Index(fields=["order_no"], name="order_no_idx"),
            models.Index(fields=["buyer_nick"], name="order_buyer_idx"),
            models.Index(fields=["tracking_no"], name="order_tracking_idx"),
        ]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self) -> str:
        return self.order_no


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    line_key = models.CharField(_("sub-order no."), max_length=40)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="lines", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    title = models.CharField(_("title"), max_length=255)
    attributes = models.CharField(_("attributes"), max_length=300, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    price = money(_("price"))
    cost_price = money(_("cost price"))
    paid_amount = money(_("paid"))
    refund_status = models.CharField(_("refund status"), max_length=32, blank=True)
    refunded_amount = money(_("refunded"))
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_shop_path = "order__shop_id"

    class Meta:
        ordering = ["order_id", "line_key"]
        constraints = [models.UniqueConstraint(fields=["order", "line_key"], name="orderline_order_key_unique")]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_key} {self.title}"
