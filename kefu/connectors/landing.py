"""Where a stream's records land: the import services files and pushes use (issue 21 §1: a connector
adds no second write path). Each function returns what became of the records, and the reference of
each record the service refused with its reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from kefu.core.errors import ApplicationError

from .base import Context, Landed
from .transport import MALFORMED, malformed


def _source(ctx: Context, stream: str) -> str:
    return f"{ctx.connector.platform}:{ctx.connector.name}:{stream}"


def converted(
    ctx: Context,
    records: list[dict[str, Any]],
    convert: Callable[[dict[str, Any]], dict[str, Any]],
    ref: Callable[[dict[str, Any]], str],
    sink: Callable[[Context, list[dict[str, Any]]], Landed],
) -> Landed:
    """A platform's records in the import's shape (``convert``), landed by ``sink``; a record the
    platform sent wrong is one failed record under its reference, the rest land."""
    good, failures = [], []
    for record in records:
        try:
            good.append(convert(record))
        except MALFORMED as exc:
            failures.append((ref(record) or "?", malformed(exc)))
    landed = sink(ctx, good)
    landed.failures += failures
    return landed


def orders(ctx: Context, records: list[dict[str, Any]]) -> Landed:
    from kefu.commerce.services import orders_push

    summary = orders_push(actor=ctx.actor, shop=ctx.connector.shop, orders=records, source=_source(ctx, "orders"))
    failures = []
    for failure in summary.failed:
        row = int(failure.get("row") or 0)
        ref = str(records[row - 1].get("order_no", "")) if 0 < row <= len(records) else ""
        failures.append((ref or f"#{row}", str(failure.get("reason", ""))))
    return Landed(summary.created, summary.updated, summary.unchanged, failures)


def refunds(ctx: Context, records: list[dict[str, Any]]) -> Landed:
    from kefu.aftersales.services import refund_sync

    out = Landed()
    for record in records:
        ref = str(record.get("refund_id") or "")
        try:
            _case, outcome = refund_sync(actor=ctx.actor, shop=ctx.connector.shop, record=record)
        except ApplicationError as exc:
            out.failures.append((ref or "?", str(exc.message)))
            continue
        except MALFORMED as exc:
            out.failures.append((ref or "?", malformed(exc)))
            continue
        setattr(out, outcome, getattr(out, outcome) + 1)
    return out


def reviews(ctx: Context, records: list[dict[str, Any]]) -> Landed:
    from kefu.aftersales.services import review_sync

    out = Landed()
    for record in records:
        ref = f"{record.get('tid', '')}:{record.get('oid', '')}"
        try:
            _review, outcome = review_sync(actor=ctx.actor, shop=ctx.connector.shop, record=record)
        except ApplicationError as exc:
            out.failures.append((ref, str(exc.message)))
            continue
        except MALFORMED as exc:
            out.failures.append((ref, malformed(exc)))
            continue
        setattr(out, outcome, getattr(out, outcome) + 1)
    return out


def traces(ctx: Context, records: list[dict[str, Any]]) -> Landed:
    from kefu.aftersales.services import trace_check
    from kefu.commerce.models import Order

    orders = {
        o.order_no: o
        for o in Order.objects.filter(shop=ctx.connector.shop, order_no__in=[r["order_no"] for r in records])
    }
    out = Landed()
    for record in records:
        order = orders.get(record["order_no"])
        if order is None:
            out.failures.append((record["order_no"], _("No such order in this shop.")))
            continue
        try:
            _case, outcome = trace_check(
                actor=ctx.actor,
                order=order,
                steps=record["steps"],
                company=record["company"],
                tracking_no=record["tracking_no"],
            )
        except ApplicationError as exc:
            out.failures.append((record["order_no"], str(exc.message)))
            continue
        except MALFORMED as exc:
            out.failures.append((record["order_no"], malformed(exc)))
            continue
        setattr(out, outcome, getattr(out, outcome) + 1)
    return out
