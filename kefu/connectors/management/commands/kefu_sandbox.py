"""``kefu sandbox``: the platforms' contract fakes as the demo's sandbox accounts (issue 21 §6).

Taobao's TOP router on ``KEFU_SANDBOX_PORT`` (8701), Pinduoduo's on +1, DingTalk's oapi on +2, filled
with the last hours' orders, refunds, ratings and traces, and DingTalk's people (the staff with a
工号), punches and leave of this week; then a few new orders and changes every 20 seconds, so the
demo's connectors (added by ``kefu demo``) are seen syncing live. ``kefu serve --sandbox`` runs it
beside the web server.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from contextlib import ExitStack
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kefu.connectors import sandbox
from kefu.connectors.sandbox.dingtalk import CHINA, DingTalkFake
from kefu.connectors.sandbox.http import served
from kefu.connectors.sandbox.pdd import PddFake
from kefu.connectors.sandbox.top import TopFake
from kefu.core import clock


def fill_dingtalk(fake: DingTalkFake, now: dt.datetime, rng: random.Random) -> None:
    from kefu.org.models import Staff

    people = list(Staff.objects.filter(active=True).exclude(employee_no="").order_by("employee_no"))
    for staff in people:
        fake.add_user(f"dt-{staff.employee_no}", staff.name, staff.employee_no)
    today = now.astimezone(CHINA).date()
    for staff in people:
        uid = f"dt-{staff.employee_no}"
        day = today - dt.timedelta(days=7)
        while day < today:
            late = rng.random() < 0.1
            on = dt.datetime(
                day.year,
                day.month,
                day.day,
                9 if late else 8,
                rng.randint(5, 40) if late else rng.randint(30, 59),
                tzinfo=CHINA,
            )
            off = dt.datetime(day.year, day.month, day.day, 18, rng.randint(0, 30), tzinfo=CHINA)
            fake.punch(uid, on, result="Late" if late else "Normal")
            fake.punch(uid, off, check="OffDuty")
            day += dt.timedelta(days=1)
    if len(people) > 2:
        away = people[2]
        trip_day = today - dt.timedelta(days=2)
        fake.add_trip(
            f"dt-{away.employee_no}",
            dt.datetime(trip_day.year, trip_day.month, trip_day.day, 13, tzinfo=CHINA),
            dt.datetime(trip_day.year, trip_day.month, trip_day.day, 18, tzinfo=CHINA),
        )
    if people:
        first = people[len(people) // 2]
        leave_day = today + dt.timedelta(days=2)
        fake.add_leave(
            f"dt-{first.employee_no}",
            dt.datetime(leave_day.year, leave_day.month, leave_day.day, 9, tzinfo=CHINA),
            dt.datetime(leave_day.year, leave_day.month, leave_day.day, 13, tzinfo=CHINA),
            percent=50,
        )


class Command(BaseCommand):
    help = "Serve the platforms' sandbox fakes for the demo's connectors"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=sandbox.PORT)
        parser.add_argument("--every", type=float, default=20.0, help="seconds between new records")

    def handle(self, *args: Any, **opts: Any) -> None:
        rng = random.Random(7)
        now = clock.now()
        top = TopFake(**sandbox.TOP, lenient=True)
        trades = top.add_trades(300, at=now, spread=dt.timedelta(hours=20))
        for n, trade in enumerate(trades[:4]):
            top.add_refund(f"SANDBOX-R{n}", trade["tid"], status="WAIT_SELLER_AGREE" if n % 2 == 0 else "SUCCESS")
        for trade in trades[4:7]:
            top.add_rate(trade["tid"], "bad", rng.choice(["发货太慢了", "和描述不符，颜色不对", "客服回复慢"]))
        shipped = [t for t in trades if t.get("consign_time") and t["status"] == "WAIT_BUYER_CONFIRM_GOODS"]
        for trade in shipped[:2]:
            top.touch(
                trade["tid"],
                at=now - dt.timedelta(hours=1),
                consign_time=(now - dt.timedelta(days=3)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            )
            top.set_trace(
                trade["tid"], [(now - dt.timedelta(days=3), "已揽收"), (now - dt.timedelta(hours=60), "到达转运中心")]
            )
        pdd = PddFake(
            client_id=sandbox.PDD["app_key"], client_secret=sandbox.PDD["app_secret"], tokens={sandbox.PDD["session"]}
        )
        orders = pdd.add_orders(120, at=now, spread=dt.timedelta(hours=20))
        pdd.add_refund(orders[0]["order_sn"], status=3)
        ding = DingTalkFake(app_key=sandbox.DINGTALK["app_key"], app_secret=sandbox.DINGTALK["app_secret"])
        fill_dingtalk(ding, now, rng)
        stop = threading.Event()
        port = opts["port"]
        with ExitStack() as stack:
            for fake, offset in ((top, 0), (pdd, 1), (ding, 2)):
                url = stack.enter_context(served(fake, port=port + offset))
                self.stdout.write(f"sandbox {type(fake).__name__} on {url}")
            self.stdout.write(f"sandbox: serving; new records every {opts['every']:.0f} s (Ctrl-C stops)")
            next_tid = max(trades, key=lambda t: t["tid"])["tid"] + 1
            try:
                while not stop.wait(opts["every"]):
                    top.add_trades(rng.randint(1, 3), start_tid=next_tid, spread=dt.timedelta(seconds=10))
                    next_tid += 3
                    changed = rng.choice(trades)
                    top.touch(changed["tid"], status=rng.choice(["WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED"]))
                    pdd.add_orders(1, spread=dt.timedelta(seconds=10))
            except KeyboardInterrupt:
                pass
