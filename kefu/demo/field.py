"""Demo data for field service and customer care, through the real services: a week of each
technician's visits in every state, spare parts, a service agreement with its plan, complaints,
customer assignment and return visits. Past steps are replayed at their own time (``clock.at``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from kefu.core import clock
from kefu.org.models import Shop, Staff

PARTS = (
    ("LAMP-200", "投影灯泡 200W", "380.00", 12),
    ("RC-01", "遥控器", "45.00", 30),
    ("PSU-A", "电源板", "260.00", 10),
    ("FLT-3", "防尘滤网", "25.00", 40),
    ("HDMI-5", "HDMI 连接线 5 米", "35.00", 25),
    ("MB-X1", "主板 X1", "680.00", 8),
)
FAULTS = (
    ("投影机 X1", "unit", "开机后无画面, 指示灯闪烁", "lamp", "灯泡寿命到期, 更换灯泡", "LAMP-200"),
    ("投影机 X1", "accessory", "遥控器按键失灵", "component", "遥控器导电胶老化, 更换遥控器", "RC-01"),
    ("电动幕布 120 寸", "unit", "幕布无法降下", "board", "电机控制板损坏, 更换电源板", "PSU-A"),
    ("投影机 X2", "unit", "画面有黑点, 风扇噪音大", "environment", "灰尘进入光路, 清洁并更换滤网", "FLT-3"),
    ("投影机 X2", "accessory", "接电脑无信号", "no_fault", "电脑输出设置问题, 非本机故障", ""),
    ("交互平板 65 寸", "unit", "触摸失灵", "board", "主板故障, 更换主板", "MB-X1"),
)
CUSTOMERS = (
    ("王先生", "13812340001", "扬州市邗江区文昌西路 88 号"),
    ("李女士", "13812340002", "扬州市广陵区东关街 12 号"),
    ("扬州市实验小学", "0514-87340003", "扬州市汶河南路 30 号"),
    ("赵经理", "13812340004", "汕尾市海丰县海城镇二环路 6 号"),
    ("陈老师", "13812340005", "汕尾市城区香洲街道 18 号"),
    ("周先生", "13812340006", "扬州市江都区龙川北路 9 号"),
)
COMPLAINTS = (
    ("孙先生", "修了两次还是坏的, 什么破服务, 你们就是骗子!!", "quality", True),
    ("钱女士", "预约了上午来, 到现在还没到, 到底什么时候来? 我很急", "slow_repair", True),
    ("吴先生", "收了我 200 块上门费, 太失望了, 之前没说要收费", "charges", False),
    ("郑女士", "技术员态度很差, 听到没有, 叫你们领导来", "attitude", True),
)
SIGNATURE = "M40 120 L80 60 L120 130 L160 70 L220 110 L300 90"
RESOLUTION = "道歉并上门复检, 赠送一次免费保养"
WELCOME = "介绍了专属客服, 客户表示感谢"


def _tech_for(shop: Shop) -> Any:
    team = shop.teams.first()
    return (
        Staff.objects.filter(position="technician", team=team).first()
        or Staff.objects.filter(position="technician").first()
    )


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.local_tz())


def _done_by_now(moment: dt.datetime, minutes: int) -> dt.datetime:
    """A step of the replay never happens after the real time the demo is loaded."""
    return min(moment, clock.now() - dt.timedelta(minutes=minutes))


def load_field_service() -> None:
    from kefu.service import services
    from kefu.service.models import Part, ServiceRequest

    if ServiceRequest.objects.exists():
        return
    users = get_user_model().objects
    boss = users.get(username="zhuguan")
    leads = {"扬州客服组": users.get(username="yz_zuzhang"), "海丰客服组": users.get(username="hf_zuzhang")}
    today = clock.today()
    start = today - dt.timedelta(days=6)
    with clock.at(_local(start, 8, 30)):
        parts = {
            code: Part.objects.filter(code=code).first()
            or services.part_create(actor=boss, code=code, name=name, price=Decimal(price))
            for code, name, price, _n in PARTS
        }
        for code, _name, _price, n in PARTS:
            services.stock_receive(actor=boss, part=parts[code], quantity=n, note="期初库存", key=f"demo-stock-{code}")
    n = 0
    for shop in Shop.objects.prefetch_related("teams").order_by("pk"):
        team = shop.teams.first()
        lead = leads.get(team.name if team else "", boss)
        tech = _tech_for(shop)
        if tech is None or tech.user is None:
            continue
        for offset in range(8):  # a week of visits: the past six days, today, tomorrow
            day = start + dt.timedelta(days=offset)
            product, part, fault, cause, diagnosis, part_code = FAULTS[n % len(FAULTS)]
            name, phone, address = CUSTOMERS[n % len(CUSTOMERS)]
            n += 1
            opened = _done_by_now(_local(day - dt.timedelta(days=1), 16, 10 + offset), 120)
            with clock.at(opened):
                item = services.request_create(
                    actor=lead,
                    shop=shop,
                    channel=("phone", "online", "wechat")[n % 3],
                    contact_name=name,
                    contact_phone=phone,
                    address=address,
                    product=product,
                    serial_no=f"{shop.code.upper()}-{1000 + n % 5}",
                    part=part,
                    purchase_date=today - dt.timedelta(days=(90, 200, 420, 800)[n % 4]),
                    purchase_channel=shop.name,
                    fault=fault,
                )
                services.request_evaluate(actor=lead, item=item, causes=["misuse"] if n % 7 == 0 else [])
                visit_at = _local(day, 9 + offset % 6, 30)
                services.appointment_set(actor=lead, item=item, technician=tech, at=visit_at)
            if day > today:
                continue  # tomorrow's visit: booked
            arrival = _local(day, 9 + offset % 6, 50 if offset != 3 else 0) + dt.timedelta(days=offset == 3)
            with clock.at(_done_by_now(arrival, 30)):
                item = services.visit_arrive(actor=tech.user, item=item)  # one arrives a day late (R-SVC-6)
            with clock.at(_done_by_now(_local(day, 10 + offset % 6, 10) + dt.timedelta(days=offset == 3), 20)):
                for code in ("greet", "shoe_covers", "cloth", "verify", "diagnose", "consent", "clean_unit"):
                    services.visit_step(actor=tech.user, item=item, code=code, done=True)
                if offset == 1:  # R-SVC-2: misuse found on site — the free repair becomes a paid one
                    services.visit_diagnose(
                        actor=tech.user, item=item, diagnosis="机器受潮，属使用不当", findings=["misuse"]
                    )
                services.visit_diagnose(
                    actor=tech.user,
                    item=item,
                    diagnosis=diagnosis,
                    parts_consent=bool(part_code) or item.charge == "paid",  # the price agreed
                    fault_cause=cause,
                )
                if part_code:
                    services.parts_issue(actor=tech.user, item=item, part=parts[part_code], quantity=1)
                if day == today:
                    continue  # on site now
                for code in ("tidy", "work_order", "farewell", "nine_rules"):
                    services.visit_step(actor=tech.user, item=item, code=code, done=True)
                services.report_sign(
                    actor=tech.user,
                    item=item,
                    signed_by=name,
                    signature="M40 120 L80 60 L120 130 L160 70 L220 110 L300 90",
                )
            if offset >= 5:
                continue  # signed, waiting for the settlement
            with clock.at(_local(day, 17, 0) + dt.timedelta(days=offset == 3)):
                services.request_settle(
                    actor=lead, item=item, labour=Decimal("80.00") if item.charge == "paid" else Decimal("0")
                )
            if offset <= 2:
                with clock.at(_local(day + dt.timedelta(days=2), 10, 30)):
                    services.request_return_visit(
                        actor=lead, item=item, satisfaction=5 - offset % 2, notes="机器正常, 对服务满意"
                    )
        name, phone, address = CUSTOMERS[n % len(CUSTOMERS)]
        services.request_create(  # just called in: to evaluate
            actor=lead,
            shop=shop,
            channel="phone",
            contact_name=name,
            contact_phone=phone,
            address=address,
            product=FAULTS[0][0],
            serial_no=f"{shop.code.upper()}-2001",
            purchase_date=today - dt.timedelta(days=30),
            purchase_channel=shop.name,
            fault=FAULTS[0][2],
        )
    _bring_in_and_referral(leads, boss, today)
    with clock.at(_local(start, 9, 0)):
        _agreement(boss)
    services.replacements_sweep()
    from kefu.workflow.services import deadlines_sweep

    deadlines_sweep()  # the late arrival is flagged, as the worker would


def _bring_in_and_referral(leads: dict[str, Any], boss: Any, today: dt.date) -> None:
    """R-SVC-7: a repair taken to the service centre 12 days ago with a loaner still out; R-SVC-8: a
    request from 苏州, outside the service area, to refer."""
    from kefu.service import services

    shop = Shop.objects.prefetch_related("teams").order_by("pk").first()
    tech = _tech_for(shop) if shop else None
    if shop is None or tech is None or tech.user is None:
        return
    team = shop.teams.first()
    lead = leads.get(team.name if team else "", boss)
    day = today - dt.timedelta(days=12)
    with clock.at(_local(day, 9, 0)):
        item = services.request_create(
            actor=lead, shop=shop, channel="phone", contact_name="钱老师", contact_phone="13952700011",
            address="扬州市邗江区文汇西路 88 号", product="投影机 X1", serial_no=f"{shop.code.upper()}-BRING",
            purchase_date=today - dt.timedelta(days=150), purchase_channel=shop.name, fault="开机后自动关机",
            proof_kind="order", proof_ref=f"{shop.code.upper()}-ORDER-88",
        )  # fmt: skip
        services.request_evaluate(actor=lead, item=item)
        services.appointment_set(actor=lead, item=item, technician=tech, at=_local(day, 14, 0))
    with clock.at(_local(day, 14, 20)):
        services.visit_arrive(actor=tech.user, item=item)
        services.visit_diagnose(actor=tech.user, item=item, diagnosis="电源板故障，需返厂检测", fault_cause="board")
        services.bring_in(actor=tech.user, item=item, taken="主机、电源线、遥控器", loaner="备用投影机 BY-01")
    with clock.at(_local(today - dt.timedelta(days=1), 10, 0)):
        services.request_create(
            actor=lead, shop=shop, channel="online", contact_name="孙女士", contact_phone="13862100022",
            address="江苏省苏州市工业园区星湖街 1 号", product="投影机 X1", serial_no=f"{shop.code.upper()}-SZ",
            purchase_date=today - dt.timedelta(days=60), purchase_channel=shop.name, fault="画面偏色",
            proof_kind="invoice", proof_ref="FP-2026-7788",
        )  # fmt: skip


def _agreement(boss: Any) -> None:
    from kefu.service import services

    shop = Shop.objects.order_by("pk").first()
    if shop is None:
        return
    agreement = services.agreement_create(
        actor=boss,
        shop=shop,
        customer_name="扬州市实验小学",
        contact_name="陈老师",
        contact_phone="0514-87340003",
        address="扬州市汶河南路 30 号",
        products=[
            {"product": "投影机 X1", "serial_no": "SY-2026-01"},
            {"product": "投影机 X1", "serial_no": "SY-2026-02"},
            {"product": "交互平板 65 寸", "serial_no": "SY-2026-03"},
        ],
        starts_on=clock.today() - dt.timedelta(days=40),
        ends_on=clock.today() + dt.timedelta(days=325),
        fee=Decimal("3600.00"),
        billing="quarterly",
        parts_discount=Decimal("20"),
        labour_discount=Decimal("100"),
        warranty_months=36,
    )
    services.agreement_review(actor=boss, agreement=agreement)  # it takes effect once reviewed
    first = agreement.plan.order_by("due_on").first()
    if first is not None:
        services.plan_decide(actor=boss, item=first, state="reviewed")
        services.plan_release(actor=boss, item=first)
    bill = agreement.bills.order_by("due_on").first()
    if bill is not None:
        services.bill_pay(actor=boss, bill=bill)


def load_care() -> None:
    from kefu.care import services
    from kefu.care.models import Complaint
    from kefu.care.workflow import HANDLING_STEPS
    from kefu.commerce.models import Customer, Order

    if Complaint.objects.exists():
        return
    users = get_user_model().objects
    boss = users.get(username="zhuguan")
    agent_user = {"扬州客服组": users.get(username="yz_shouhou"), "海丰客服组": users.get(username="hf_shouhou")}
    today = clock.today()
    for i, (name, text, reason, resolve) in enumerate(COMPLAINTS):
        shop = Shop.objects.prefetch_related("teams").order_by("pk")[i % Shop.objects.count()]
        team = shop.teams.first()
        user = agent_user.get(team.name if team else "", boss)
        order = Order.objects.filter(shop=shop, customer__isnull=False).order_by("pk")[i : i + 1].first()
        day = today - dt.timedelta(days=5 - i)
        with clock.at(_local(day, 10, 15)):
            item = services.complaint_create(
                actor=user,
                shop=shop,
                contact_name=name,
                contact_phone=f"1371234{i:04d}",
                text=text,
                customer=order.customer if order else None,
                order=order,
            )
            if not resolve:
                continue
            for code, _label in HANDLING_STEPS:
                services.complaint_step(actor=user, item=item, code=code, done=True)
            services.complaint_resolve(
                actor=user,
                item=item,
                reason=reason,
                resolution="道歉并上门复检, 赠送一次免费保养",
                our_fault=i % 2 == 0,
            )
        if item.customer is not None:
            staff = Staff.objects.get(user=user)
            with clock.at(_local(day, 11, 0)):
                visit = services.visit_schedule(
                    actor=user,
                    customer=item.customer,
                    agent=staff,
                    at=_local(day + dt.timedelta(days=1), 15, 0),
                    topic="after_complaint",
                    complaint=item,
                )
            if i % 2 == 0:
                with clock.at(_local(day + dt.timedelta(days=1), 15, 10)):
                    services.visit_record(actor=user, visit=visit, opinion="问题已解决, 表示满意", satisfaction=4)
    # R-CARE-2: members given to agents by count and skill, some contacted, one overdue
    members = list(Customer.objects.order_by("pk")[:12])
    for c in members[::2]:
        Customer.objects.filter(pk=c.pk).update(member_level="VIP1")  # the shops' member list
    from kefu.care.selectors import assignment_proposal

    with clock.at(_local(today - dt.timedelta(days=9), 9, 0)):
        proposal = [pair for pair in assignment_proposal(actor=boss) if pair[0] in members]
        done = services.assignments_confirm(actor=boss, pairs=proposal)
    for i, a in enumerate(done[:-1]):
        if i % 3 == 2:
            continue  # not contacted yet: overdue after 7 days
        agent_login = a.agent.user or boss
        with clock.at(_local(today - dt.timedelta(days=8), 10, 0)):
            visit = services.visit_schedule(
                actor=agent_login,
                customer=a.customer,
                agent=a.agent,
                at=_local(today - dt.timedelta(days=7), 15, 30),
                topic="new_customer",
            )
        with clock.at(_local(today - dt.timedelta(days=7), 15, 40)):
            services.visit_record(
                actor=agent_login, visit=visit, opinion="介绍了专属客服, 客户表示感谢", satisfaction=5
            )
    # R-CARE-3: every member with an agent gets this month's return visit scheduled (as the worker would)
    services.member_visits_schedule(actor=boss)
