"""Load the deterministic demo: the seed organisation, staff, users and ~2,000 orders.

Everything goes through the real services and importers, so the demo also exercises them.
Running it twice within the hour changes nothing (the imports are idempotent; orders span the 80 days
before today).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from kefu.core.actions import OPERATOR, action
from kefu.core.actors import Actor
from kefu.core.events import SystemActor
from kefu.org.models import Shop, Staff, Team
from kefu.org.services import shop_create, staff_import, team_get_or_create, team_set_shops, user_create

from . import generate

DEMO_PASSWORD = "kefu-demo-2026"
TEAMS = {
    "扬州客服组": [("海盗船", "haidaochuan", "tmall"), ("亿果", "yiguo", "tmall"), ("亿境", "yijing", "taobao")],
    "海丰客服组": [("魔甲人", "mojiaren", "tmall"), ("乐泰思", "letaisi", "tmall")],
}
# 工号, 姓名, 岗位, 团队, 基本工资, 钉钉UserId, 入职日期, demo login (or "")
STAFF = [
    ("K001", "周主管", "客服主管", "", "9000", "ding001", "2019-03-01", "zhuguan"),
    ("K002", "吴副主管", "客服副主管", "", "7500", "ding002", "2020-05-11", "fuzhuguan"),
    ("K101", "王晓燕", "组长", "扬州客服组", "6000", "ding101", "2021-02-01", "yz_zuzhang"),
    ("K102", "李婷", "组长", "扬州客服组", "6000", "ding102", "2021-06-01", ""),
    ("K103", "张敏", "售前客服", "扬州客服组", "4500", "ding103", "2022-03-15", "yz_shouqian"),
    ("K104", "刘洋", "售前客服", "扬州客服组", "4500", "ding104", "2022-07-01", ""),
    ("K105", "陈静", "售前客服", "扬州客服组", "4300", "ding105", "2023-01-09", ""),
    ("K106", "杨帆", "售后客服", "扬州客服组", "4600", "ding106", "2021-11-20", "yz_shouhou"),
    ("K107", "黄磊", "售后客服", "扬州客服组", "4600", "ding107", "2022-09-01", ""),
    ("K108", "赵雪", "售后客服", "扬州客服组", "4400", "ding108", "2023-04-17", ""),
    ("K201", "孙丽", "组长", "海丰客服组", "6000", "ding201", "2020-08-01", "hf_zuzhang"),
    ("K202", "马超", "组长", "海丰客服组", "6000", "ding202", "2021-10-08", ""),
    ("K203", "朱琳", "售前客服", "海丰客服组", "4500", "ding203", "2022-02-14", "hf_shouqian"),
    ("K204", "胡月", "售前客服", "海丰客服组", "4300", "ding204", "2023-05-22", ""),
    ("K205", "郭强", "售后客服", "海丰客服组", "4600", "ding205", "2021-12-01", "hf_shouhou"),
    ("K206", "何佳", "售后客服", "海丰客服组", "4400", "ding206", "2023-08-08", ""),
    ("K207", "林峰", "售后客服", "海丰客服组", "4400", "ding207", "2024-01-03", ""),
    ("K301", "罗工", "售后工程师", "扬州客服组", "7000", "ding301", "2020-04-01", "jishu"),
    ("K302", "高工", "售后工程师", "海丰客服组", "7000", "ding302", "2021-04-01", "jishu2"),
    ("K401", "谢仓管", "仓库对接人", "扬州客服组", "5000", "ding401", "2019-09-01", "cangku"),
]
ORDERS_PER_SHOP = 400
PHONES = {"K301": "13905140301", "K302": "13905140302"}  # technicians' work phones, told to customers


def real_month_staff(today: dt.date) -> list[tuple[str, ...]]:
    """Two people who make last month a real one (issue 17): a hire on its 20th and a leaver after
    its 18th — as the staff file's rows (工号 … 入职日期, 离职日期)."""
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    hired = last_month.replace(day=20)
    left = last_month.replace(day=18)
    return [
        ("K109", "周琪", "售前客服", "扬州客服组", "4500", "ding109", hired.isoformat(), ""),
        ("K208", "邓凯", "售后客服", "海丰客服组", "4650", "ding208", "2023-03-01", left.isoformat()),
    ]


def staff_csv(today: dt.date | None = None) -> bytes:
    from kefu.core import clock

    out = io.StringIO()
    out.write("工号,姓名,岗位,团队,基本工资,钉钉UserId,入职日期,离职日期,工作电话\r\n")
    for row in STAFF:
        out.write(",".join([*row[:7], "", PHONES.get(row[0], "")]) + "\r\n")
    for extra in real_month_staff(today or clock.today()):
        out.write(",".join([*extra, ""]) + "\r\n")
    return out.getvalue().encode("utf-8-sig")


def _load_attendance(actor: SystemActor) -> None:
    """Last month and this month (until yesterday) through the real DingTalk importer, plus requests,
    inspections and the red packets of the weekly publication."""
    import datetime as dt

    from kefu.core import clock
    from kefu.workforce.models import LeaveRequest, PointEntry
    from kefu.workforce.publication import weekly_publish
    from kefu.workforce.services import attendance_import, points_record, request_create

    today = clock.today()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    people = [(row[1], row[5], row[0]) for row in STAFF if row[2] not in {"客服主管", "客服副主管"}]
    hire, leaver = real_month_staff(today)
    months = {last_month, today.replace(day=1), _holiday_month(today)}
    for first in sorted(months):
        rows = generate.dingtalk_daily_rows(people, first.year, first.month, until=today)
        if first == last_month:  # a real month: a hire from the 20th, a leaver to the 18th, a half day
            hired = dt.date.fromisoformat(hire[6])
            rows += [
                r
                for r in generate.dingtalk_daily_rows(
                    [(hire[1], hire[5], hire[0])], first.year, first.month, until=today
                )
                if _row_day(r) >= hired
            ]
            rows += generate.dingtalk_daily_rows(
                [(leaver[1], leaver[5], leaver[0])], first.year, first.month, until=dt.date.fromisoformat(leaver[7])
            )
            _half_day(rows, "K103")  # yz_shouqian, a demo login
        if rows:
            data = generate.dingtalk_daily_workbook([], first.year, first.month, rows=rows)
            attendance_import(actor=actor, data=data, file_name=f"每日统计-{first:%Y%m}.xlsx")
    user_model = get_user_model()
    supervisor = user_model.objects.get(username="zhuguan")
    if not PointEntry.objects.exists():
        for employee_no, item, note in [
            ("K103", "praise_letter", "客户来信表扬"),
            ("K106", "noise", "午休时间大声喧哗"),
            ("K203", "order_fix", "发现商品页价格错误"),
            ("K205", "dress", ""),
        ]:
            points_record(actor=supervisor, staff=Staff.objects.get(employee_no=employee_no), item_code=item, note=note)
    if not LeaveRequest.objects.filter(source="kefu").exists():
        agent = user_model.objects.get(username="yz_shouqian")
        day = today + dt.timedelta(days=5)
        request_create(
            actor=agent,
            staff=Staff.objects.get(employee_no="K103"),
            kind="rest",
            start_date=day,
            end_date=day,
            reason="家中有事",
        )
        agent = user_model.objects.get(username="hf_shouhou")
        day = today + dt.timedelta(days=3)
        request_create(
            actor=agent,
            staff=Staff.objects.get(employee_no="K205"),
            kind="personal",
            start_date=day,
            end_date=day,
            reason="办理证件",
        )
    weekly_publish(today=today)


def _row_day(row: list[object]) -> dt.date:
    from kefu.imports.dingtalk import parse_day

    return parse_day(str(row[6]))


def _holiday_month(today: dt.date) -> dt.date:
    """The latest month before this one with a statutory holiday in it (R-WF-20), so the demo shows
    holidays worked whatever the date."""
    from kefu.policies.attendance import statutory_holidays
    from kefu.policies.handbook import load_preset

    this_month = today.replace(day=1)
    past = sorted(d for d in statutory_holidays(load_preset()) if d < this_month)
    return past[-1].replace(day=1) if past else (this_month - dt.timedelta(days=1)).replace(day=1)


def _half_day(rows: list[list[object]], employee_no: str) -> None:
    """R-WF-22: one afternoon of 事假 (DingTalk's 0.5天), the morning worked, out at 13:02."""
    for row in rows:
        if row[3] == employee_no and str(row[7]).startswith("白班") and row[9] == "正常" and _row_day(row).day >= 3:
            day = _row_day(row)
            row[10], row[11] = "13:02", "事假"
            row[12] = f"事假 {day:%m-%d} 13:00 到 {day:%m-%d} 17:30 0.5天"
            row[18] = "0.5天"
            return


@action(capability=OPERATOR)
def _organisation(*, actor: Actor) -> None:
    """The demo's teams and shops, in one action."""
    for team_name, shops in TEAMS.items():
        team = team_get_or_create(actor=actor, name=team_name)
        members = []
        for name, code, platform in shops:
            shop = Shop.objects.filter(name=name).first() or shop_create(
                actor=actor, name=name, code=code, platform=platform
            )
            members.append(shop)
        if set(team.shops.all()) != set(members):
            team_set_shops(actor=actor, team=team, shops=members)


def load_demo(*, orders_per_shop: int = ORDERS_PER_SHOP) -> list[tuple[str, str, str]]:
    """Load the demo; returns the demo logins as (username, password, description)."""
    from kefu.commerce.services import orders_import

    actor = SystemActor(label="demo")
    _organisation(actor=actor)
    staff_import(actor=actor, data=staff_csv(), file_name="demo-staff.csv")
    logins = []
    user_model = get_user_model()
    for row in STAFF:
        username = row[7]
        if not username:
            continue
        if not user_model.objects.filter(username=username).exists():
            user_create(actor=actor, username=username, password=DEMO_PASSWORD, position=row[2], employee_no=row[0])
        staff = Staff.objects.select_related("team").get(employee_no=row[0])
        logins.append(
            (
                username,
                DEMO_PASSWORD,
                f"{staff.get_position_display()} {staff.name}{' · ' + staff.team.name if staff.team else ''}",
            )
        )
    _load_attendance(actor)
    from kefu.core import clock

    # 80 days of orders up to today, remarks signed by the shop team's pre-sales agents (R-COM-1)
    now = clock.now().astimezone(clock.local_tz()).replace(tzinfo=None, second=0, microsecond=0)
    start = now.replace(minute=0) - dt.timedelta(days=80)
    for shop in Shop.objects.prefetch_related("teams").order_by("pk"):
        team_names = {t.name for t in shop.teams.all()}
        agents = [row[1] for row in STAFF if row[2] == "售前客服" and row[3] in team_names]
        orders, lines = generate.order_rows(
            shop_code=shop.code, shop_name=shop.name, count=orders_per_shop, start=start, agents=agents, until=now
        )
        orders_import(
            actor=actor,
            shop=shop,
            data=generate.to_csv(generate.LEGACY_HEADER, orders),
            file_name=f"ExportOrderList-{shop.code}.csv",
        )
        orders_import(
            actor=actor,
            shop=shop,
            data=generate.to_csv(generate.DETAIL_HEADER, lines),
            file_name=f"ExportOrderDetailList-{shop.code}.csv",
        )
        from kefu.commerce.models import Product
        from kefu.commerce.services import product_knowledge_set

        supervisor = get_user_model().objects.get(username="zhuguan")
        for sku, title, price in generate.products_for(shop.code, shop.name):
            Product.objects.filter(shop=shop, sku=sku, cost_price=0).update(
                cost_price=(price * Decimal("0.55")).quantize(Decimal("0.01"))
            )
            for product in Product.objects.filter(shop=shop, sku=sku, parameters={}):
                product_knowledge_set(
                    actor=supervisor,
                    product=product,
                    category=generate.product_category(title),
                    parameters=generate.product_parameters(title, sku),
                )
    _load_aftersales()
    _load_desk_history()
    _load_desk()
    _load_staffing_and_quality()
    from .field import load_care, load_field_service

    load_field_service()
    load_care()
    _load_connectors(actor)
    assert Team.objects.count() >= 2
    return logins


def _load_connectors(actor: Any) -> None:
    """The sandbox accounts ``kefu serve --sandbox`` serves (issue 21 §6): a Taobao shop, a Pinduoduo
    shop and the DingTalk organisation, syncing every minute from a day ago."""
    from kefu.connectors import sandbox
    from kefu.connectors.models import Connector
    from kefu.connectors.services import connector_add
    from kefu.core import clock

    gateways = sandbox.gateways()
    shops = list(Shop.objects.order_by("pk"))
    wanted = [
        ("天猫沙箱", "taobao", shops[0] if shops else None, sandbox.TOP, ""),
        ("拼多多沙箱", "pinduoduo", shops[1] if len(shops) > 1 else None, sandbox.PDD, ""),
        ("钉钉沙箱", "dingtalk", None, {**sandbox.DINGTALK, "session": ""}, "dt-" + STAFF[0][0]),
    ]
    for name, platform, shop, keys, admin in wanted:
        if Connector.objects.filter(name=name).exists() or (platform != "dingtalk" and shop is None):
            continue
        connector_add(
            actor=actor,
            platform=platform,
            name=name,
            shop=shop,
            app_key=keys["app_key"],
            app_secret=keys["app_secret"],
            session=keys["session"],
            session_expires_at=clock.now() + dt.timedelta(days=30) if keys["session"] else None,
            gateway=gateways[platform],
            interval_minutes=1,
            start_from=clock.now() - dt.timedelta(days=7 if platform == "dingtalk" else 1),
            admin_user=admin,
            trip_process_code="PROC-TRIP" if platform == "dingtalk" else "",
        )


def _load_aftersales() -> None:
    """A few cases of each kind on demo orders, through the after-sales services (once)."""
    import datetime as dt

    from kefu.aftersales import services as aftersales
    from kefu.aftersales.models import Case
    from kefu.aftersales.selectors import case_status_named
    from kefu.commerce.models import Order
    from kefu.core import clock

    if Case.objects.exists():
        return
    user_model = get_user_model()
    agents = {
        "扬州客服组": user_model.objects.get(username="yz_shouhou"),
        "海丰客服组": user_model.objects.get(username="hf_shouhou"),
    }
    supervisor = user_model.objects.get(username="zhuguan")
    plans: list[tuple[str, dict[str, object], str, str]] = [
        ("wrong_item", {"wrong_item_value": "8.00", "shipped_matches_order": False}, "keep_discount", "发错颜色"),
        ("wrong_item", {"wrong_item_value": "129.00", "shipped_matches_order": False}, "", "发错型号"),
        ("lost_parcel", {}, "refund", "快递丢件"),
        ("defect", {}, "coupon", "外观划痕"),
        ("quality", {"misuse": False}, "return_exchange_our_cost", "无法开机"),
        ("missing_item", {"warehouse_error": True}, "reship_missing", "少发配件"),
        ("return", {"request_kind": "return_no_reason"}, "", "不想要了"),
        ("logistics_exception", {}, "", "物流三天未更新"),
        ("dispute", {"at_fault": False}, "", "买家申请平台介入"),
    ]
    # the shops take turns, so both teams have cases
    per_shop = [
        list(
            Order.objects.filter(shop=shop, status__in=["shipped", "finished"])
            .select_related("shop")
            .prefetch_related("shop__teams")
            .order_by("-ordered_at")[: len(plans)]
        )
        for shop in Shop.objects.order_by("pk")
    ]
    shipped = [order for turn in zip(*per_shop, strict=False) for order in turn][: len(plans) * 2]
    for index, order in enumerate(shipped):
        case_type, facts, resolution, reason = plans[index % len(plans)]
        team = order.shop.teams.all()[0].name
        agent = agents[team]
        deadline = clock.now() + dt.timedelta(hours=4 if index % 3 == 0 else 48)
        case = aftersales.case_open(
            actor=agent,
            case_type=case_type,
            order=order,
            facts=dict(facts),
            summary=reason,
            reason=reason,
            platform_deadline=deadline,
        )
        if case_type in {"wrong_item", "defect", "quality", "missing_item", "lost_parcel"}:
            # the buyer's photo (or the courier's waybill) that the refund approver looks at
            kind, name = ("waybill", "快递面单.png") if case_type == "lost_parcel" else ("photo", "买家实拍.png")
            aftersales.evidence_add(
                actor=agent, case=case, kind=kind, name=name, data=generate.photo_png(), note=reason
            )
        if resolution:
            aftersales.resolution_choose(actor=agent, case=case, code=resolution)
        if case_type == "lost_parcel":
            aftersales.claim_open(actor=agent, case=case)
        case.refresh_from_db()
        waiting = case_status_named("待买家回复")
        if index % 4 == 1 and waiting is not None and case.category == "open":
            aftersales.case_transition(actor=agent, case=case, status=waiting)
    first = shipped[0]
    aftersales.review_record(
        actor=supervisor,
        shop=first.shop,
        content="颜色和图片不一样,客服回复慢",
        rating=1,
        buyer_nick=first.buyer_nick,
        order=first,
    )
    aftersales.deadlines_escalate()
    _load_shop_health(supervisor)


def _load_shop_health(supervisor: Any) -> None:
    """Shop health on the reports: a week of the platform's DSR per shop and a few platform refund
    records — one the platform intervened in and ruled for the buyer, one for quality (FORMATS §3)."""
    import datetime as dt

    from kefu.aftersales import services as aftersales
    from kefu.commerce.models import Order
    from kefu.core import clock

    today = clock.today()
    for i, shop in enumerate(Shop.objects.order_by("pk")):
        ratings = [
            {
                "day": (today - dt.timedelta(days=d)).isoformat(),
                "description": f"{4.80 + i * 0.03 + d * 0.001:.2f}",
                "service": f"{4.85 - i * 0.02:.2f}",
                "logistics": f"{4.78 + d * 0.002:.2f}",
            }
            for d in range(7)
        ]
        aftersales.shop_ratings_record(actor=supervisor, shop=shop, ratings=ratings)
        paid = list(Order.objects.filter(shop=shop, paid_at__isnull=False).order_by("-paid_at")[:3])
        records = [
            ("SUCCESS", "4", "未按约定时间发货"),
            ("SUCCESS", "1", "质量问题"),
            ("WAIT_SELLER_AGREE", "1", "描述不符"),
        ]
        for n, (order, (status, cs, reason)) in enumerate(zip(paid, records, strict=False)):
            aftersales.refund_sync(
                actor=supervisor,
                shop=shop,
                record={
                    "refund_id": f"DEMO-{shop.code}-{n}",
                    "tid": order.order_no,
                    "buyer_nick": order.buyer_nick,
                    "status": status,
                    "cs_status": cs,
                    "reason": reason,
                    "refund_fee": str(min(order.paid_amount, Decimal("30.00"))),
                },
            )


def _load_desk() -> None:
    """Yesterday's and today's buyer conversations in every shop, pushed through the desk's signed
    channel pipeline (once); the demo agents with logins are online."""
    import datetime as dt

    from kefu.commerce.models import Order
    from kefu.commerce.services import orders_push
    from kefu.core import clock
    from kefu.desk.models import Channel, Script
    from kefu.desk.services import channel_create, messages_ingest, presence_set

    if Script.objects.exists():
        return  # loaded before (the eight weeks of history before yesterday are loaded apart)
    actor = SystemActor(label="demo")
    user_model = get_user_model()
    qianniu = "qianniu"
    channel = Channel.objects.filter(code=qianniu).first() or channel_create(
        actor=user_model.objects.get(username="zhuguan"), code=qianniu, name="千牛工作台"
    )
    for username in ("yz_shouqian", "yz_shouhou", "hf_shouqian", "hf_shouhou"):
        presence_set(actor=user_model.objects.get(username=username), state="online")
    now = clock.now().astimezone(clock.local_tz()).replace(tzinfo=None)
    from kefu.desk.services import script_propose

    leads = {"扬州客服组": "yz_zuzhang", "海丰客服组": "hf_zuzhang"}
    for shop in Shop.objects.prefetch_related("teams").order_by("pk"):
        lead = user_model.objects.get(username=leads[shop.teams.all()[0].name])
        for category, title, text in generate.CANNED_REPLIES:
            script_propose(actor=lead, shop=shop, category=category, title=title, text=text)
    for shop in Shop.objects.prefetch_related("teams").order_by("pk"):
        teams = {t.name for t in shop.teams.all()}
        presales = [row[0] for row in STAFF if row[2] == "售前客服" and row[3] in teams]
        aftersales = [row[0] for row in STAFF if row[2] == "售后客服" and row[3] in teams]
        unpaid = list(
            Order.objects.filter(shop=shop, status="awaiting_payment").values_list("buyer_nick", flat=True)[:4]
        )
        shipped = list(Order.objects.filter(shop=shop, status="shipped").values_list("buyer_nick", flat=True)[:8])
        for day in (now.date() - dt.timedelta(days=1), now.date()):
            bought: list[dict[str, Any]] = []
            items = generate.chat_day(
                purchases=bought,
                brand=shop.name,
                shop_code=shop.code,
                day=day,
                presales=presales,
                aftersales=aftersales,
                new_buyers=10,
                order_buyers=unpaid,
                shipped_buyers=shipped,
                until=now,
            )
            for start in range(0, len(items), 200):
                messages_ingest(actor=actor, channel=channel, items=items[start : start + 200], place=True)
            if bought:
                orders_push(actor=actor, shop=shop, orders=bought)
        # R-DESK-6: two of the buyers who asked today left their order unpaid 40 minutes ago
        Order.objects.filter(shop=shop, status="awaiting_payment", buyer_nick__in=unpaid[:2]).update(
            ordered_at=clock.now() - dt.timedelta(minutes=40)
        )
    from kefu.desk.services import payment_chases_due

    payment_chases_due(actor=actor)
    _desk_logs(now=clock.now())


HISTORY_WEEKS = 8
HISTORY_SESSIONS_PER_DAY = 40  # per shop on an ordinary Monday


def _load_desk_history() -> None:
    """Issue 22: eight weeks of desk history before yesterday in every shop (sessions shaped by hour
    and weekday, campaign days busier by the policy's multipliers), so the forecast, its backtest
    and the requirement have something true to show. Once: skipped when history is there."""
    from kefu.core import clock
    from kefu.core.policy_store import policy_in_force
    from kefu.desk.models import Channel, Message
    from kefu.desk.services import channel_create, messages_ingest
    from kefu.policies import forecast

    today = clock.today()
    first = today - dt.timedelta(days=7 * HISTORY_WEEKS)
    if Message.objects.filter(sent_at__lt=clock.day_start(today - dt.timedelta(days=1))).exists():
        return
    actor = SystemActor(label="demo")
    qianniu = "qianniu"
    channel = Channel.objects.filter(code=qianniu).first() or channel_create(
        actor=get_user_model().objects.get(username="zhuguan"), code=qianniu, name="千牛工作台"
    )
    campaigns = {c.day: c.multiplier for c in policy_in_force(today).staffing.campaigns}
    for shop in Shop.objects.prefetch_related("teams").order_by("pk"):
        teams = {t.name for t in shop.teams.all()}
        agents = [row[0] for row in STAFF if row[2] in ("售前客服", "售后客服") and row[3] in teams]
        items: list[dict[str, Any]] = []
        day = first
        while day < today - dt.timedelta(days=1):
            rng = random.Random(f"{shop.code}-{day}")
            volume = HISTORY_SESSIONS_PER_DAY * generate.WEEKDAY_WEIGHT[day.weekday()] * rng.uniform(0.85, 1.15)
            volume *= float(forecast.multiplier(campaigns, day))
            items += generate.history_day(shop_code=shop.code, day=day, agents=agents, sessions=round(volume))
            day += dt.timedelta(days=1)
        for start in range(0, len(items), 500):
            messages_ingest(actor=actor, channel=channel, items=items[start : start + 500], place=True)


def _roster_ahead(actor: Any) -> None:
    """The rest of this month's roster (the DingTalk import ends today): each day as the same weekday
    of the last week imported, so tomorrow's requirement has a roster to stand against."""
    from kefu.core import clock
    from kefu.workforce.models import RosterEntry
    from kefu.workforce.services import roster_set

    today = clock.today()
    last = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    have = {
        (s, d): c
        for s, d, c in RosterEntry.objects.filter(date__gte=today - dt.timedelta(days=14)).values_list(
            "staff_id", "date", "shift_code"
        )
    }
    staff = {s.pk: s for s in Staff.objects.filter(pk__in={k[0] for k in have})}
    day = today
    while day <= last:
        for staff_id, member in staff.items():
            if (staff_id, day) in have:
                continue
            source = day - dt.timedelta(days=7)
            while source >= today:
                source -= dt.timedelta(days=7)
            code = have.get((staff_id, source))
            if code is not None and (member.leave_date is None or day <= member.leave_date):
                roster_set(actor=actor, staff=member, date=day, shift_code=code, source="demo")
                have[staff_id, day] = code
        day += dt.timedelta(days=1)


def _load_staffing_and_quality() -> None:
    """Issue 22: the quality inspection of everything loaded, yesterday's sample drawn for each team
    (the team lead reviews it), and a roster proposal for next month for the first team."""
    from kefu.core import clock
    from kefu.quality.models import Sample
    from kefu.quality.services import inspect_due, sample_draw
    from kefu.staffing.models import RosterProposal
    from kefu.staffing.services import proposal_make

    actor = SystemActor(label="demo")
    _roster_ahead(actor)
    inspect_due(actor=actor)
    yesterday = clock.today() - dt.timedelta(days=1)
    leads = {"扬州客服组": "yz_zuzhang", "海丰客服组": "hf_zuzhang"}
    user_model = get_user_model()
    for team in Team.objects.order_by("pk"):
        lead = user_model.objects.filter(username=leads.get(team.name, "")).first()
        if lead is not None and not Sample.objects.filter(team=team, day=yesterday).exists():
            sample_draw(actor=lead, team=team, day=yesterday)
    first_team = Team.objects.order_by("pk").first()
    lead = user_model.objects.filter(username="yz_zuzhang").first()
    if first_team is not None and lead is not None and not RosterProposal.objects.exists():
        next_month = (clock.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        proposal_make(actor=lead, team=first_team, month=next_month, time_limit=8)


DEMO_QUESTIONS = [
    ("这款扫地机能扫长毛地毯吗?说明书里没写", "短毛地毯可以,长毛地毯建议关闭边刷后使用"),
    ("能开增值税专用发票吗?抬头是公司", ""),
    ("以旧换新的旧机需要自己寄回吗", "不用,快递上门取件,运费我们承担"),
]
DEMO_FOLLOWUPS = [  # today's (due tomorrow), yesterday's (due a few hours ago: overdue)
    ("发票信息已提交,等财务开票后告知买家", 30),
    ("到货后滤网有异味,约好今天上午回访", 20),
]


def _desk_logs(*, now: Any) -> None:
    """What the team lead's daily summary reads besides the figures (R-DESK-4/5/6/7), yesterday and
    today, through the services: difficult questions (some answered), follow-ups with due times
    (yesterday's now overdue), and a reason for no sale on one urging task per team."""
    from kefu.core import clock
    from kefu.desk.models import ChaseState, Conversation, PaymentChase
    from kefu.desk.services import chase_lost, followup_create, no_sale_reasons, question_answer, question_record

    user_model = get_user_model()
    agents = {"扬州客服组": "yz_shouqian", "海丰客服组": "hf_shouqian"}
    leads = {"扬州客服组": "yz_zuzhang", "海丰客服组": "hf_zuzhang"}
    reasons = list(no_sale_reasons())
    for team_name, username in agents.items():
        agent = user_model.objects.get(username=username)
        lead = user_model.objects.get(username=leads[team_name])
        staff = Staff.objects.get(user=agent)
        shop = Shop.objects.filter(teams__name=team_name).order_by("pk").first()
        if shop is None:
            continue
        buyers = list(Conversation.objects.filter(shop=shop).order_by("pk").values_list("buyer", flat=True)[:4])
        for back, moment in ((1, now - dt.timedelta(days=1)), (0, now - dt.timedelta(hours=1))):
            with clock.at(moment):
                for n, (question, answer) in enumerate(DEMO_QUESTIONS[back:]):
                    item = question_record(
                        actor=agent, shop=shop, question=question, buyer=buyers[n % len(buyers)] if buyers else ""
                    )
                    if answer:
                        question_answer(actor=lead, item=item, answer=answer)
                problem, hours = DEMO_FOLLOWUPS[back]
                followup_create(
                    actor=agent,
                    shop=shop,
                    buyer=buyers[back % len(buyers)] if buyers else "buyer",
                    problem=problem,
                    owner=staff,
                    due_at=moment + dt.timedelta(hours=hours),
                )
        chase = PaymentChase.objects.filter(shop__teams__name=team_name, state=ChaseState.OPEN).order_by("pk").first()
        if chase is not None and reasons:
            chase_lost(actor=agent, chase=chase, reason=reasons[0], note="买家说再比较一下")
