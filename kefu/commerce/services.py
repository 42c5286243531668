"""Writes for commerce data. Imports are idempotent by (shop, order no.) and record every change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kefu.commerce.rules import Verb
from kefu.core import clock, imports
from kefu.core.actions import action, is_operator, require
from kefu.core.actors import Actor
from kefu.core.bulk import bulk_insert
from kefu.core.errors import ApplicationError
from kefu.core.events import event_record, event_record_bulk, event_record_many
from kefu.core.imports import ImportSummary, check_upload, import_run
from kefu.core.models import ImportRun
from kefu.core.outbox import outbox_put
from kefu.core.signals import payments_recorded
from kefu.imports.tabular import FileFormatError
from kefu.imports.taobao import LineRecord, OrderRecord, ParsedOrders, parse_order_json, parse_orders
from kefu.org.models import Shop, Staff
from kefu.policies.remark import build_remark, remark_valid

from .models import Customer, Order, OrderLine, Product, searchable

CHUNK = 2000
ORDER_FIELDS = (
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "address",
    "province",
    "city",
    "status",
    "platform_status",
    "goods_amount",
    "postage",
    "total_amount",
    "paid_amount",
    "refunded_amount",
    "ordered_at",
    "paid_at",
    "shipped_at",
    "received_at",
    "courier",
    "tracking_no",
    "flag",
    "memo",
    "buyer_message",
    "close_reason",
    "items_title",
    "item_count",
)
LINE_FIELDS = (
    "sku",
    "title",
    "attributes",
    "quantity",
    "price",
    "paid_amount",
    "refund_status",
    "refunded_amount",
    "status",
)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _localise(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for key, value in values.items():
        if isinstance(value, dt.datetime):
            out[key] = clock.make_aware(value)
    if "memo" in out:
        out["memo_valid"] = (not out["memo"]) or remark_valid(out["memo"])
    return out


def _operator_or(actor: Actor, capability: str) -> None:
    """The command line (a system actor) is the server's operator; a signed-in actor needs the capability."""
    if not is_operator(actor):
        require(actor, capability)


@action(capability="orders.import", scope=("shop",), atomic=False)
def orders_import(
    *, actor: Actor, shop: Shop, data: bytes, file_name: str, run_id: int | None = None, attempt: int | None = None
) -> ImportSummary:
    """Import a Taobao/Tmall order export into ``shop``; good rows kept, bad rows reported by number.
    ``run_id``/``attempt``: the queued run (``orders_import_queue``) and which attempt at it this is."""
    _operator_or(actor, "orders.import")
    check_upload(data, file_name)
    try:
        parsed = parse_orders(data)
    except FileFormatError as exc:
        raise ApplicationError("import_format", str(exc)) from exc
    return _import_parsed(
        actor=actor, shop=shop, parsed=parsed, file_name=file_name, data=data, run_id=run_id, attempt=attempt
    )


@action(capability="orders.import", scope=("shop",), atomic=False)
def orders_import_queue(*, actor: Actor, shop: Shop, chunks: Iterator[bytes], file_name: str) -> ImportRun:
    """A large export goes to the worker: stored, its run opened at once (the imports page shows it),
    queued after commit. A worker killed mid-import leaves a run the sweep takes up again or fails."""
    _operator_or(actor, "orders.import")
    run = imports.queue_file(kind="orders", file_name=file_name, chunks=chunks, actor=actor, params={"shop": shop.pk})
    from .tasks import orders_import_run_task

    transaction.on_commit(lambda: orders_import_run_task(run.pk))
    return run


@action(capability="orders.import", scope=("shop",), atomic=False)
def orders_push(
    *, actor: Actor, shop: Shop, orders: list[dict[str, Any]], source: str = "api-push.json"
) -> ImportSummary:
    """The JSON/REST push (SPEC §2) and the platform connectors' pages: the same pipeline as a file,
    records numbered from 1; ``source`` names the run on the imports page."""
    _operator_or(actor, "orders.import")
    parsed = parse_order_json(orders)
    data = json.dumps(orders, ensure_ascii=False, sort_keys=True, default=str).encode()
    return _import_parsed(actor=actor, shop=shop, parsed=parsed, file_name=source, data=data)


def _import_parsed(
    *,
    actor: Actor,
    shop: Shop,
    parsed: ParsedOrders,
    file_name: str,
    data: bytes,
    run_id: int | None = None,
    attempt: int | None = None,
) -> ImportSummary:
    with import_run(
        kind="orders",
        file_name=file_name,
        data=data,
        actor=actor,
        params={"shop": shop.pk},
        run_id=run_id,
        attempt=attempt,
    ) as summary:
        summary.fmt, summary.cells_of = parsed.fmt, parsed.cells_of
        for err in parsed.errors:
            summary.fail(err.row, err.reason, err.cells)
        now = clock.now()
        run_id = summary.run_id or 0
        customers = (
            _retrying(lambda: _customers_for(shop, parsed.orders, now)) if "buyer_nick" in parsed.order_fields else {}
        )
        lines_by_order: dict[str, list[LineRecord]] = {}
        for line in parsed.lines:
            lines_by_order.setdefault(line.order_no, []).append(line)
        if parsed.orders:
            total, done = len(parsed.orders), 0
            summary.progress(0, total)
            for chunk in _chunks(parsed.orders, CHUNK):
                _retrying(
                    lambda chunk=chunk: _import_order_chunk(
                        actor, shop, chunk, parsed, customers, lines_by_order, summary, run_id, now
                    ),
                    summary,
                )
                done += len(chunk)
                summary.progress(done, total)
        elif parsed.lines:
            # 宝贝报表: lines for orders that must already exist.
            order_nos = list(lines_by_order)
            total, done = len(order_nos), 0
            summary.progress(0, total)
            for chunk in _chunks(order_nos, CHUNK):
                _retrying(
                    lambda chunk=chunk: _import_line_only_chunk(
                        actor, shop, chunk, parsed, lines_by_order, summary, run_id, now
                    ),
                    summary,
                )
                done += len(chunk)
                summary.progress(done, total)
    return summary


def _retrying(step: Any, summary: ImportSummary | None = None) -> Any:
    """Run one chunk in its own durable transaction; when a concurrent import of the same orders
    committed first (a unique key collides), run it once more against what is now stored."""
    snapshot = summary.counts() if summary is not None else None
    for attempt in range(3):
        try:
            with transaction.atomic(durable=True):
                return step()
        except IntegrityError:
            if summary is not None and snapshot is not None:
                summary.restore(snapshot)
            if attempt == 2:
                raise
    return None


def _customers_for(shop: Shop, records: list[OrderRecord], now: dt.datetime) -> dict[str, int]:
    nicks = {r.values["buyer_nick"] for r in records if r.values.get("buyer_nick")}
    found: dict[str, int] = {}
    nick_list = sorted(nicks)
    for chunk in _chunks(nick_list, CHUNK):
        found.update(Customer.objects.filter(platform=shop.platform, nick__in=chunk).values_list("nick", "id"))
    missing = [n for n in nick_list if n not in found]
    if missing:
        bulk_insert(
            Customer,
            ["platform", "nick", "name", "phone", "member_level", "tags", "first_seen_at"],
            ((shop.platform, n, "", "", "", [], now) for n in missing),
            ignore_conflicts=True,
        )
        for chunk in _chunks(missing, CHUNK):
            found.update(Customer.objects.filter(platform=shop.platform, nick__in=chunk).values_list("nick", "id"))
    return found


def _products_for(shop: Shop, lines: Iterable[LineRecord]) -> dict[str, int]:
    by_sku: dict[str, LineRecord] = {}
    for line in lines:
        sku = line.values.get("sku")
        if sku and sku not in by_sku:
            by_sku[sku] = line
    if not by_sku:
        return {}
    found = dict(Product.objects.filter(shop=shop, sku__in=list(by_sku)).values_list("sku", "id"))
    missing = [sku for sku in by_sku if sku not in found]
    if missing:
        Product.objects.bulk_create(
            [
                Product(
                    shop=shop,
                    sku=sku,
                    title=(title := by_sku[sku].values.get("title", sku)[:255]),
                    price=by_sku[sku].values.get("price", 0),
                    search_text=searchable(title, sku, "", {}),
                )
                for sku in missing
            ],
            ignore_conflicts=True,
        )
        found.update(Product.objects.filter(shop=shop, sku__in=missing).values_list("sku", "id"))
    return found


def _import_order_chunk(
    actor: Actor,
    shop: Shop,
    chunk: Sequence[OrderRecord],
    parsed: ParsedOrders,
    customers: dict[str, int],
    lines_by_order: dict[str, list[LineRecord]],
    summary: ImportSummary,
    run_id: int,
    now: dt.datetime,
) -> None:
    existing = {o.order_no: o for o in Order.objects.filter(shop=shop, order_no__in=[r.order_no for r in chunk])}
    new_records: list[tuple[OrderRecord, dict[str, Any]]] = []
    changed: list[tuple[Order, dict[str, Any], dict[str, Any]]] = []
    unchanged_orders: list[Order] = []
    update_fields: set[str] = set()
    for record in chunk:
        values = _localise(record.values)
        if record.values.get("buyer_nick"):
            values["customer_id"] = customers.get(record.values["buyer_nick"])
        order = existing.get(record.order_no)
        if order is None:
            if values.get("ordered_at") is None:
                summary.fail(record.row, _("The order creation time is blank."))
                continue
            new_records.append((record, values))
            continue
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for key, value in values.items():
            current = getattr(order, key)
            if current != value:
                before[key], after[key] = current, value
                setattr(order, key, value)
        if after:
            order.imported_at = now
            update_fields.update(after)
            changed.append((order, before, after))
        else:
            unchanged_orders.append(order)
    new_orders = _insert_orders(shop, new_records, now)
    if changed:
        Order.objects.bulk_update([c[0] for c in changed], sorted(update_fields | {"imported_at"}), batch_size=500)
    line_changes: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    if lines_by_order:
        orders: dict[str, Order | _NewOrder] = {o.order_no: o for o in new_orders}
        orders.update((o.order_no, o) for o in (*(c[0] for c in changed), *unchanged_orders))
        line_changes = _upsert_lines(shop, orders, lines_by_order, summary, parsed)
    # Orders whose only change is in their lines count as updated.
    new_ids = {o.pk for o in new_orders}
    changed.extend((order, {}, {}) for order in unchanged_orders if order.pk in line_changes)
    summary.created += len(new_orders)
    summary.updated += len(changed)
    summary.unchanged += len(unchanged_orders) - sum(1 for o in unchanged_orders if o.pk in line_changes)
    event_record_bulk(
        actor=actor,
        verb=Verb.ORDER_IMPORTED,
        model=Order,
        entries=((o.pk, o.order_no, None, {"status": o.status}) for o in new_orders),
        data={"import_run": run_id, "format": parsed.fmt},
        at=now,
    )
    event_record_many(
        actor=actor,
        verb=Verb.ORDER_UPDATED,
        items=[
            (o, {**b, **line_changes.get(o.pk, ({}, {}))[0]}, {**a, **line_changes.get(o.pk, ({}, {}))[1]})
            for o, b, a in changed
            if o.pk not in new_ids
        ],
        data={"import_run": run_id, "format": parsed.fmt},
        at=now,
    )
    # payments that count for conversion: new ones, and corrected ones at their old and new times
    # (a payment time moved or cleared, an amount or the buyer changed)
    paid = [values["paid_at"] for _record, values in new_records if values.get("paid_at")]
    for o, b, a in changed:
        if {"paid_at", "paid_amount", "buyer_nick"} & set(a):
            paid += [moment for moment in (o.paid_at, b.get("paid_at")) if moment]
    if paid:
        payments_recorded.send(sender=Order, shop_id=shop.pk, paid_at=paid)


_ORDER_COLUMNS = [f.name for f in Order._meta.concrete_fields if f.name not in {"id", "shop", "customer"}]
_ORDER_DEFAULTS = {f.name: f.get_default() for f in Order._meta.concrete_fields if f.name in _ORDER_COLUMNS}


@dataclass(frozen=True)
class _NewOrder:
    """What the rest of a chunk needs of a freshly inserted order (no model instance needed)."""

    pk: int
    order_no: str
    status: str


def _insert_orders(shop: Shop, records: list[tuple[OrderRecord, dict[str, Any]]], now: dt.datetime) -> list[_NewOrder]:
    """INSERT the new orders of a chunk in one pass and return them with their ids."""
    if not records:
        return []
    columns = ["shop_id", "customer_id", *_ORDER_COLUMNS]
    rows = []
    for record, values in records:
        merged = {**_ORDER_DEFAULTS, **values, "order_no": record.order_no, "imported_at": now}
        rows.append([shop.pk, values.get("customer_id"), *(merged[c] for c in _ORDER_COLUMNS)])
    bulk_insert(Order, columns, rows)
    ids = dict(
        Order.objects.filter(shop=shop, order_no__in=[r.order_no for r, _ in records]).values_list("order_no", "id")
    )
    return [_NewOrder(ids[record.order_no], record.order_no, values.get("status", "")) for record, values in records]


def _upsert_lines(
    shop: Shop,
    orders: Mapping[str, Order | _NewOrder],
    lines_by_order: dict[str, list[LineRecord]],
    summary: ImportSummary,
    parsed: ParsedOrders,
) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    """Create or update the lines of the given orders; returns per order id the line changes."""
    wanted = [ln for no in orders for ln in lines_by_order.get(no, [])]
    if not wanted:
        return {}
    products = _products_for(shop, wanted)
    order_ids = [o.pk for o in orders.values()]
    existing = {(ln.order_id, ln.line_key): ln for ln in OrderLine.objects.filter(order_id__in=order_ids)}
    new_lines: list[OrderLine] = []
    updated: list[OrderLine] = []
    fields: set[str] = set()
    changes: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for record in wanted:
        order = orders[record.order_no]
        values = dict(record.values)
        if values.get("sku") in products:
            values["product_id"] = products[values["sku"]]
        line = existing.get((order.pk, record.line_key))
        if line is None:
            new_lines.append(OrderLine(order_id=order.pk, line_key=record.line_key, **values))
            changes.setdefault(order.pk, ({}, {}))[1][f"lines.{record.line_key}"] = "added"
            continue
        for key, value in values.items():
            current = getattr(line, key)
            if current != value:
                b, a = changes.setdefault(order.pk, ({}, {}))
                b[f"lines.{record.line_key}.{key}"] = current
                a[f"lines.{record.line_key}.{key}"] = value
                setattr(line, key, value)
                fields.add(key)
                if line not in updated:
                    updated.append(line)
    if new_lines:
        OrderLine.objects.bulk_create(new_lines, batch_size=CHUNK)
    if updated:
        OrderLine.objects.bulk_update(updated, sorted(fields), batch_size=500)
    return changes


def _import_line_only_chunk(
    actor: Actor,
    shop: Shop,
    order_nos: Sequence[str],
    parsed: ParsedOrders,
    lines_by_order: dict[str, list[LineRecord]],
    summary: ImportSummary,
    run_id: int,
    now: dt.datetime,
) -> None:
    orders = {o.order_no: o for o in Order.objects.filter(shop=shop, order_no__in=list(order_nos))}
    for order_no in order_nos:
        if order_no not in orders:
            for line in lines_by_order[order_no]:
                summary.fail(
                    line.row, _("Order %(no)s is not imported yet; import the order report first.") % {"no": order_no}
                )
    existing_keys = set(
        OrderLine.objects.filter(order_id__in=[o.pk for o in orders.values()]).values_list("order_id", "line_key")
    )
    changes = _upsert_lines(shop, orders, lines_by_order, summary, parsed)
    # Units for a lines-only file are lines.
    for order_no, order in orders.items():
        for line in lines_by_order[order_no]:
            key = (order.pk, line.line_key)
            if key not in existing_keys:
                summary.created += 1
            elif any(k.startswith(f"lines.{line.line_key}.") for k in changes.get(order.pk, ({}, {}))[1]):
                summary.updated += 1
            else:
                summary.unchanged += 1
    event_record_many(
        actor=actor,
        verb=Verb.ORDER_LINES_IMPORTED,
        items=[(o, *changes[o.pk]) for o in orders.values() if o.pk in changes],
        data={"import_run": run_id, "format": parsed.fmt},
        at=now,
    )


REMARK_WRITE_BACK = "order.remark_write_back"


@action(capability="orders.remark", scope=("order",))
def order_remark_set(*, actor: Actor, order: Order, shipping: str, gift: str, special: str, author: str) -> Order:
    """R-COM-1: build the order remark from its fields and record the change."""
    text = build_remark(
        shipping=shipping,
        gift=gift,
        special=special,
        author=author,
        at=clock.now().astimezone(clock.local_tz()).replace(tzinfo=None),
    )
    before = {"memo": order.memo}
    Order.objects.filter(pk=order.pk).update(memo=text, memo_valid=True)
    order.memo, order.memo_valid = text, True
    event_record(actor=actor, verb=Verb.ORDER_REMARK_SET, subject=order, before=before, after={"memo": text})
    # after commit, the shop's platform connector writes it to the seller memo (issue 21 §2)
    outbox_put(REMARK_WRITE_BACK, {"order": order.pk, "memo": text})
    return order


# --- product knowledge (SPEC §8) ------------------------------------------------------------------

MAX_PARAMETERS = 60


def parameters_parse(text: str) -> dict[str, str]:
    """Parameters written one per line as ``名称:值`` (a full-width or ASCII colon, or ``=``); a
    line without one is refused by its number, so nothing is half-saved."""
    out: dict[str, str] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        # the first separator in the line splits it (接口:USB：Type-C → 接口 / USB：Type-C)
        cut = min((i for i in (line.find(sep) for sep in ("\uff1a", ":", "=")) if i >= 0), default=-1)
        if cut >= 0:
            name, value = line[:cut], line[cut + 1 :]
        else:
            raise ApplicationError(
                "validation_error",
                _("Line %(n)s: write a parameter as name:value.") % {"n": number},
            )
        name, value = name.strip(), value.strip()
        if len(name) > 40 or len(value) > 200:
            raise ApplicationError(
                "validation_error",
                _("Line %(n)s: a name has at most 40 characters, a value at most 200.") % {"n": number},
            )
        if name in out:
            raise ApplicationError(
                "validation_error", _("Line %(n)s: %(name)s is given twice.") % {"n": number, "name": name}
            )
        if not name or not value:
            raise ApplicationError(
                "validation_error", _("Line %(n)s: the name and the value are both needed.") % {"n": number}
            )
        out[name] = value
    if len(out) > MAX_PARAMETERS:
        raise ApplicationError("validation_error", _("At most %(n)s parameters per product.") % {"n": MAX_PARAMETERS})
    return out


@action(capability="catalog.edit", scope=("product",))
def product_knowledge_set(
    *, actor: Actor, product: Product, parameters: Mapping[str, str], category: str | None = None
) -> Product:
    """Set a product's parameters (and category) — what knowledge search finds it by."""
    before = {"category": product.category, "parameters": product.parameters}
    product.parameters = dict(parameters)
    if category is not None:
        if len(category.strip()) > 64:
            raise ApplicationError("validation_error", _("A category has at most 64 characters."))
        product.category = category.strip()
    product.search_text = product.searchable()
    product.save(update_fields=["parameters", "category", "search_text"])
    event_record(
        actor=actor,
        verb=Verb.PRODUCT_KNOWLEDGE_CHANGED,
        subject=product,
        before=before,
        after={"category": product.category, "parameters": product.parameters},
    )
    return product


@action(capability="customers.record", scope=("shop",))
def customer_record(
    *, actor: Actor, shop: Shop, nick: str, name: str = "", phone: str = "", at: dt.datetime, source: str
) -> Customer:
    """A customer first met outside an order (a complaint, a call), kept in ``shop``'s team; the same
    customer created meanwhile (the unique platform and nick decide) is returned as it is."""
    try:
        with transaction.atomic():
            created = Customer.objects.create(
                platform=shop.platform, nick=nick, name=name, phone=phone, first_seen_at=at, home_shop=shop
            )
    except IntegrityError:
        return Customer.objects.get(platform=shop.platform, nick=nick)
    event_record(actor=actor, verb=Verb.CUSTOMER_CREATED, subject=created, after={"nick": nick, "from": source})
    return created


@action(capability="customers.assign", scope=("customer", "agent"))
def customer_assign(*, actor: Actor, customer: Customer, agent: Staff | None) -> Customer:
    """Give a customer to an agent (R-CARE-2; the care app keeps the assignment's contact duty)."""
    before = customer.assigned_agent.name if customer.assigned_agent else None
    Customer.objects.filter(pk=customer.pk).update(assigned_agent=agent)
    customer.assigned_agent = agent
    event_record(
        actor=actor,
        verb=Verb.CUSTOMER_ASSIGNED,
        subject=customer,
        before={"agent": before},
        after={"agent": agent.name if agent else None},
    )
    return customer
