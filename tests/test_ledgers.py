"""Ledgers cannot change (write path §3): every ledger refuses update and delete through the model,
the queryset and — on PostgreSQL — raw SQL (a trigger); foreign keys into them protect them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from kefu.aftersales import services as aftersales
from kefu.aftersales.models import AgentCharge, Case, MoneyLine
from kefu.core import clock
from kefu.core.events import SystemActor, event_record
from kefu.core.models import AppendOnlyError, Event, PolicyVersion
from kefu.core.policy_store import policy_save
from kefu.org.models import Staff
from kefu.policies import handbook
from kefu.workforce import services as workforce
from kefu.workforce.models import PointEntry, RedPacket, RedPacketEntry

from .conftest import World

pytestmark = pytest.mark.django_db
SYSTEM = SystemActor(label="test")


def _money_line(world: World) -> MoneyLine:
    case = aftersales.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a)
    return aftersales.money_post(actor=world.agent_a, case=case, kind="reship_cost", amount=Decimal("12.00"))


def _agent_charge(world: World) -> AgentCharge:
    case = aftersales.case_open(
        actor=world.agent_a, case_type="missing_item", order=world.order_a, facts={"remark_ok": False}
    )
    agent = Staff.objects.get(user=world.agent_a)
    aftersales.case_set_responsible_staff(actor=world.lead_a, case=case, staff=agent)
    aftersales.resolution_choose(actor=world.lead_a, case=case, code="reship_missing_agent")
    return AgentCharge.objects.get(case=case)


def _red_packet_entry(world: World) -> RedPacketEntry:
    packet = RedPacket.objects.create(
        staff=Staff.objects.get(user=world.agent_a),
        incident_date=dt.date(2026, 11, 2),
        kind="late",
        amount=Decimal("10.00"),
        due_date=dt.date(2026, 11, 9),
        rule="R-WF-5",
    )
    return RedPacketEntry.objects.create(packet=packet, kind="due", amount=Decimal("10.00"), at=clock.now())


def _point_entry(world: World) -> PointEntry:
    return workforce.points_record(
        actor=world.supervisor, staff=Staff.objects.get(user=world.agent_a), item_code="noise"
    )


def _policy_version(world: World) -> PolicyVersion:
    doc = handbook.load_preset()
    return policy_save(actor=SYSTEM, document=doc, effective_from=dt.date(2027, 1, 1))


def _event(world: World) -> Event:
    return event_record(actor=None, verb="auth.login", data={"n": 1})


LEDGERS: dict[str, Callable[[World], Any]] = {
    "money line": _money_line,
    "agent charge": _agent_charge,
    "red-packet entry": _red_packet_entry,
    "points entry": _point_entry,
    "policy version": _policy_version,
    "event": _event,
}


@pytest.mark.parametrize("name", list(LEDGERS))
def test_the_model_refuses_edit_and_delete(world: World, name: str) -> None:
    row = LEDGERS[name](world)
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


@pytest.mark.parametrize("name", list(LEDGERS))
def test_the_queryset_refuses_update_delete_and_bulk_update(world: World, name: str) -> None:
    row = LEDGERS[name](world)
    qs = type(row)._default_manager.filter(pk=row.pk)
    with pytest.raises(AppendOnlyError):
        qs.update(pk=row.pk)
    with pytest.raises(AppendOnlyError):
        qs.delete()
    field = next(f.name for f in row._meta.concrete_fields if not f.primary_key)
    with pytest.raises(AppendOnlyError), transaction.atomic():
        type(row)._default_manager.bulk_update([row], [field])
    assert type(row)._default_manager.filter(pk=row.pk).exists()


@pytest.mark.postgresql
@pytest.mark.parametrize("name", list(LEDGERS))
def test_postgresql_refuses_raw_update_and_delete(world: World, name: str) -> None:
    row = LEDGERS[name](world)
    table = row._meta.db_table
    for sql in (f"UPDATE {table} SET id = id WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [row.pk])
    assert type(row)._default_manager.filter(pk=row.pk).exists()


@pytest.mark.parametrize("name", list(LEDGERS))
def test_djangos_internal_manager_refuses_too(world: World, name: str) -> None:
    """The review deleted ledger rows through ``_base_manager`` (Django's internal manager)."""
    row = LEDGERS[name](world)
    base = type(row)._base_manager.filter(pk=row.pk)
    with pytest.raises(AppendOnlyError):
        base.delete()
    with pytest.raises(AppendOnlyError):
        base.update(pk=row.pk)
    assert type(row)._default_manager.filter(pk=row.pk).exists()


@pytest.mark.postgresql
@pytest.mark.parametrize("name", list(LEDGERS))
def test_postgresql_refuses_truncate_outside_flush(world: World, name: str) -> None:
    row = LEDGERS[name](world)
    table = row._meta.db_table
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks of the rows just written
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {table} CASCADE")
    assert type(row)._default_manager.filter(pk=row.pk).exists()


def test_a_refund_decision_is_the_one_change_a_money_line_allows(world: World) -> None:
    case = aftersales.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a)
    line = aftersales.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("30.00"))
    aftersales.refund_approve(actor=world.supervisor, line=line)
    line.refresh_from_db()
    assert line.status == "approved"
    # decided once: a second decision changes nothing
    assert MoneyLine.objects.filter(pk=line.pk).decide(status="rejected", by=world.supervisor, at=clock.now()) == 0
    line.refresh_from_db()
    assert (line.amount, line.status) == (Decimal("30.00"), "approved")


@pytest.mark.postgresql
def test_postgresql_allows_only_the_decision_on_a_money_line(world: World) -> None:
    case = aftersales.case_open(actor=world.agent_a, case_type="lost_parcel", order=world.order_a)
    line = aftersales.money_post(actor=world.agent_a, case=case, kind="refund", amount=Decimal("30.00"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE aftersales_moneyline SET amount = 1, status = 'approved' WHERE id = %s", [line.pk])
    aftersales.refund_approve(actor=world.supervisor, line=line)  # the allowed transition passes the trigger
    for sql in (
        "UPDATE aftersales_moneyline SET amount = 1 WHERE id = %s",
        "UPDATE aftersales_moneyline SET status = 'requested' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [line.pk])
    line.refresh_from_db()
    assert (line.amount, line.status) == (Decimal("30.00"), "approved")


def test_foreign_keys_protect_the_ledgers(world: World) -> None:
    line = _money_line(world)
    with pytest.raises(Exception, match=r"protected|PROTECT|append-only"):
        Case.objects.filter(pk=line.case_id).delete()
    entry = _point_entry(world)
    with pytest.raises(Exception, match=r"protected|PROTECT"):
        Staff.objects.filter(pk=entry.staff_id).delete()
    packet_entry = _red_packet_entry(world)
    with pytest.raises(Exception, match=r"protected|PROTECT"):
        RedPacket.objects.filter(pk=packet_entry.packet_id).delete()
    for field in (MoneyLine._meta.get_field("case"), PointEntry._meta.get_field("staff")):
        assert field.remote_field.on_delete.__name__ == "PROTECT"


def test_red_packet_sent_amount_is_computed_in_the_insert(world: World) -> None:
    entry = _red_packet_entry(world)
    RedPacketEntry.objects.create(packet=entry.packet, kind="doubled", amount=Decimal("10.00"), at=clock.now())
    workforce.red_packet_mark_sent(actor=world.agent_a, packet=entry.packet)
    assert RedPacketEntry.objects.get(packet=entry.packet, kind="sent").amount == Decimal("20.00")
    with pytest.raises(Exception, match="已标记发出"):
        workforce.red_packet_mark_sent(actor=world.agent_a, packet=entry.packet)
