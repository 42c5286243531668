"""Shop health (SPEC §5.1, FORMATS §3): per shop, the period's DSR (the latest ratings recorded) and
the platform's two refund rates over the 30 days that end with the period:

- 纠纷退款率: platform refunds the platform intervened in (客服介入, ``cs_status`` 2–6) and that went
  to the buyer (``SUCCESS``), divided by the paid sub-orders;
- 品质退款率: successful platform refunds for quality reasons (描述不符, 质量, 变质, 保质期, 破损),
  divided by the paid sub-orders.

Refunds are the cases the platform's refund records opened (``refund_sync``), counted by the day the
buyer asked (the record's ``created``; else the day it arrived); sub-orders are order lines of
orders paid in the window."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.commerce.models import OrderLine
from kefu.core.actors import Actor
from kefu.core.reports import INT, Column, Filters, Report, Result, day_span, register
from kefu.org.models import Shop

from .models import Case, ShopRating

WINDOW_DAYS = 30
QUALITY_WORDS = ("描述不符", "质量", "变质", "保质期", "破损")
INTERVENED = ("2", "3", "4", "5", "6")


def _rate(part: int, whole: int) -> Decimal | None:
    """A percentage with four places (the platforms show rates such as 0.0500 %)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _moment(text: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def shop_health(actor: Actor, f: Filters) -> Result:
    _start, end = day_span(f.first, f.last)
    window_start = end - dt.timedelta(days=WINDOW_DAYS)
    shops = Shop.objects.restrict(actor).order_by("name")
    if f.shop:
        shops = shops.filter(pk=f.shop)
    if f.team:
        shops = shops.filter(teams__id=f.team)
    shop_list = list(shops)
    ids = [s.pk for s in shop_list]
    lines = dict(
        OrderLine.objects.filter(order__shop_id__in=ids, order__paid_at__gte=window_start, order__paid_at__lt=end)
        .values_list("order__shop_id")
        .annotate(n=Count("id"))
        .values_list("order__shop_id", "n")
    )
    # refunds by the day the buyer asked (the record's ``created``), else the day the record arrived;
    # an old refund pushed late does not count in today's window
    disputed: dict[int, int] = {}
    quality_n: dict[int, int] = {}
    for shop_id, opened_at, facts in (
        Case.objects.filter(shop_id__in=ids, opened_at__gte=window_start, facts__platform_status="SUCCESS")
        .exclude(external_ref="")
        .values_list("shop_id", "opened_at", "facts")
    ):
        asked = _moment(facts.get("refund_at")) or opened_at
        if not window_start <= asked < end:
            continue
        if str(facts.get("cs_status", "")) in INTERVENED:
            disputed[shop_id] = disputed.get(shop_id, 0) + 1
        if any(word in str(facts.get("reason", "")) for word in QUALITY_WORDS):
            quality_n[shop_id] = quality_n.get(shop_id, 0) + 1
    latest: dict[int, ShopRating] = {}
    for entry in ShopRating.objects.filter(shop_id__in=ids, day__gte=f.first, day__lte=f.last).order_by("day"):
        latest[entry.shop_id] = entry
    rows: list[dict[str, Any]] = []
    for shop in shop_list:
        paid = lines.get(shop.pk, 0)
        rating = latest.get(shop.pk)
        rows.append(
            {
                "shop": shop.name,
                "dsr_description": rating.description if rating else None,
                "dsr_service": rating.service if rating else None,
                "dsr_logistics": rating.logistics if rating else None,
                "paid_lines": paid,
                "dispute_refunds": disputed.get(shop.pk, 0),
                "dispute_rate": _rate(disputed.get(shop.pk, 0), paid),
                "quality_refunds": quality_n.get(shop.pk, 0),
                "quality_rate": _rate(quality_n.get(shop.pk, 0), paid),
            }
        )
    paid = sum(lines.get(shop.pk, 0) for shop in shop_list)
    d = sum(disputed.get(shop.pk, 0) for shop in shop_list)
    q = sum(quality_n.get(shop.pk, 0) for shop in shop_list)
    total = {
        "shop": _("In all"),
        "paid_lines": paid,
        "dispute_refunds": d,
        "dispute_rate": _rate(d, paid),
        "quality_refunds": q,
        "quality_rate": _rate(q, paid),
    }
    return Result(rows, total)


def register_health() -> None:
    register(
        Report(
            "shop-health",
            gettext_lazy("Shop health"),
            (
                Column("shop", gettext_lazy("Shop")),
                Column("dsr_description", gettext_lazy("DSR: item as described")),
                Column("dsr_service", gettext_lazy("DSR: service attitude")),
                Column("dsr_logistics", gettext_lazy("DSR: logistics")),
                Column("paid_lines", gettext_lazy("Paid sub-orders (30 days)"), INT),
                Column("dispute_refunds", gettext_lazy("Disputed refunds to the buyer"), INT),
                Column("dispute_rate", gettext_lazy("Dispute refund rate (%)")),
                Column("quality_refunds", gettext_lazy("Quality refunds"), INT),
                Column("quality_rate", gettext_lazy("Quality refund rate (%)")),
            ),
            shop_health,
            gettext_lazy(
                "DSR as last recorded in the period; the platform's dispute and quality refund rates over the "
                "30 days that end with the period (refunds from the platform's refund records)."
            ),
            chart=("shop", "dispute_rate"),
            rule="R-AS-15",
            order=25,
        )
    )
