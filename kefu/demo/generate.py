"""Deterministic generators of real-format export files (pure Python) for the demo and benchmarks."""

from __future__ import annotations

import datetime as dt
import io
import random
import zlib
from decimal import Decimal
from typing import Any

LEGACY_HEADER = [
    "订单编号",
    "买家会员名",
    "买家支付宝账号",
    "买家应付货款",
    "买家应付邮费",
    "买家支付积分",
    "总金额",
    "返点积分",
    "买家实际支付金额",
    "买家实际支付积分",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址 ",
    "运送方式",
    "联系电话 ",
    "联系手机",
    "订单创建时间",
    "订单付款时间 ",
    "宝贝标题 ",
    "宝贝种类 ",
    "物流单号 ",
    "物流公司",
    "订单备注",
    "宝贝总数量",
    "店铺Id",
    "店铺名称",
    "订单关闭原因",
    "发货时间",
    "确认收货时间",
    "退款金额",
]
DETAIL_HEADER = [
    "订单编号",
    "标题",
    "价格",
    "购买数量",
    "外部系统编号",
    "商品属性",
    "套餐信息",
    "备注",
    "订单状态",
    "商家编码",
    "买家实付金额",
]
STATUSES = [
    ("等待买家付款", 0.06),
    ("买家已付款，等待卖家发货", 0.14),
    ("卖家已发货，等待买家确认", 0.25),
    ("交易成功", 0.45),
    ("交易关闭", 0.10),
]
ADDRESSES = [
    ("江苏省", "南京市", "建邺区"),
    ("江苏省", "扬州市", "邗江区"),
    ("浙江省", "杭州市", "西湖区"),
    ("上海", "上海市", "浦东新区"),
    ("广东省", "广州市", "越秀区"),
    ("广东省", "深圳市", "南山区"),
    ("北京", "北京市", "朝阳区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"),
    ("山东省", "青岛市", "市南区"),
    ("河南省", "郑州市", "金水区"),
    ("福建省", "厦门市", "思明区"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
    ("西藏自治区", "拉萨市", "城关区"),
    ("内蒙古自治区", "呼和浩特市", "新城区"),
    ("海南省", "海口市", "美兰区"),
    ("甘肃省", "兰州市", "城关区"),
    ("青海省", "西宁市", "城中区"),
    ("宁夏回族自治区", "银川市", "兴庆区"),
    ("广西壮族自治区", "南宁市", "青秀区"),
    ("云南省", "昆明市", "五华区"),
    ("辽宁省", "沈阳市", "和平区"),
]
COURIERS = ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


# what each demo shop sells, with a plausible price range in fen
KINDS: list[tuple[str, int, int]] = [
    ("扫地机器人", 99900, 299900),
    ("空气净化器", 59900, 199900),
    ("电热水壶", 5900, 19900),
    ("雪平锅", 4900, 15900),
    ("蓝牙耳机", 9900, 59900),
    ("电动牙刷", 9900, 39900),
    ("加湿器", 7900, 29900),
    ("吸尘器", 39900, 159900),
    ("破壁机", 29900, 99900),
    ("台灯", 3900, 19900),
]


# Parameters a customer asks about, per kind: (name, choices); a product takes one of each.
PARAMETERS: dict[str, list[tuple[str, list[str]]]] = {
    "扫地机器人": [
        ("吸力", ["2700Pa", "3000Pa", "4000Pa"]),
        ("续航", ["120分钟", "150分钟", "180分钟"]),
        ("尘盒容量", ["400ml", "450ml"]),
        ("噪音", ["≤60dB", "≤65dB"]),
        ("颜色", ["白色", "黑色"]),
    ],
    "空气净化器": [
        ("CADR", ["300m³/h", "400m³/h", "500m³/h"]),
        ("适用面积", ["20-35㎡", "30-50㎡"]),
        ("滤网", ["H13 HEPA", "H11 HEPA"]),
        ("噪音", ["≤35dB", "≤40dB"]),
        ("颜色", ["白色", "灰色"]),
    ],
    "电热水壶": [
        ("容量", ["1.5L", "1.7L"]),
        ("功率", ["1500W", "1800W"]),
        ("材质", ["304不锈钢", "316不锈钢"]),
        ("保温", ["有", "无"]),
    ],
    "雪平锅": [
        ("直径", ["16cm", "18cm", "20cm"]),
        ("材质", ["铝合金", "不锈钢"]),
        ("适用炉灶", ["燃气灶", "电磁炉通用"]),
    ],
    "蓝牙耳机": [
        ("续航", ["6小时", "8小时"]),
        ("蓝牙版本", ["5.2", "5.3"]),
        ("降噪", ["主动降噪", "无"]),
        ("防水", ["IPX4", "IPX5"]),
        ("颜色", ["白色", "黑色"]),
    ],
    "电动牙刷": [
        ("续航", ["30天", "60天"]),
        ("模式", ["3档", "5档"]),
        ("防水", ["IPX7", "IPX8"]),
        ("颜色", ["白色", "粉色"]),
    ],
    "加湿器": [("容量", ["3L", "4.5L", "6L"]), ("雾量", ["300ml/h", "400ml/h"]), ("噪音", ["≤30dB", "≤35dB"])],
    "吸尘器": [
        ("吸力", ["18000Pa", "22000Pa"]),
        ("续航", ["40分钟", "60分钟"]),
        ("功率", ["400W", "500W"]),
        ("尘杯", ["0.5L", "0.6L"]),
    ],
    "破壁机": [
        ("功率", ["1200W", "1500W"]),
        ("容量", ["1.2L", "1.75L"]),
        ("转速", ["35000转", "42000转"]),
        ("噪音", ["≤70dB", "≤75dB"]),
    ],
    "台灯": [
        ("功率", ["8W", "12W"]),
        ("色温", ["3000-5000K", "2700-6500K"]),
        ("显色指数", ["Ra90", "Ra95"]),
        ("供电", ["USB", "插电"]),
    ],
}


def product_parameters(title: str, sku: str) -> dict[str, str]:
    """A generated product's parameters (stable per SKU), plus its warranty."""
    rng = random.Random(f"params-{sku}")
    kind = product_category(title)
    params = {name: rng.choice(choices) for name, choices in PARAMETERS.get(kind, [])}
    params["电压"] = "220V"
    params["保修"] = "整机1年"
    return params


def product_category(title: str) -> str:
    """The category of a generated title ("海盗船扫地机器人 Pro" → "扫地机器人")."""
    return next((kind for kind, _low, _high in KINDS if kind in title), "")


def products_for(shop_code: str, brand: str = "", count: int = 8, seed: int = 7) -> list[tuple[str, str, Decimal]]:
    """A shop's catalogue: (SKU, title as the platform shows it, price). ``brand`` (the shop's
    Chinese name) heads each title, as on Tmall."""
    rng = random.Random(f"{seed}-{shop_code}")
    out = []
    for i in range(count):
        kind, low, high = KINDS[(i + len(shop_code)) % len(KINDS)]
        price = Decimal(rng.randrange(low, high) // 1000 * 10 + 9)  # whole yuan ending in 9: ¥69, ¥2,499
        out.append(
            (
                f"{shop_code.upper()}-{i + 1:03d}",
                f"{brand or shop_code}{kind} {rng.choice(['标准版', '升级版', 'Pro'])}",
                price,
            )
        )
    return out


def order_rows(
    *,
    shop_code: str,
    shop_name: str,
    count: int,
    seed: int = 2026,
    start_no: int = 1,
    start: dt.datetime = dt.datetime(2026, 9, 1, 8, 0),
    agents: list[str] | None = None,
    until: dt.datetime | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """Legacy 订单报表 rows and their 宝贝报表 lines (header excluded)."""
    rng = random.Random(f"{seed}-{shop_code}-{start_no}")
    products = products_for(shop_code, shop_name)
    status_names = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    base_no = 3515313147329 * 10000 + (zlib.crc32(shop_code.encode()) % 997) * 1_000_000  # distinct per shop
    orders: list[list[str]] = []
    lines: list[list[str]] = []
    span = 80 * 24 * 60
    for i in range(count):
        order_no = str(base_no + start_no + i)
        status = rng.choices(status_names, weights)[0]
        created = start + dt.timedelta(minutes=rng.randrange(span))
        paid_at = created + dt.timedelta(minutes=rng.randrange(1, 90)) if status != "等待买家付款" else None
        shipped = status in {"卖家已发货，等待买家确认", "交易成功"}
        shipped_at = paid_at + dt.timedelta(hours=rng.randrange(2, 40)) if shipped and paid_at else None
        received_at = (
            shipped_at + dt.timedelta(days=rng.randrange(2, 6)) if status == "交易成功" and shipped_at else None
        )
        if until is not None:  # nothing happens after "now": a recent order is not yet shipped or received
            if paid_at is not None and paid_at > until:
                status, paid_at, shipped, shipped_at, received_at = "等待买家付款", None, False, None, None
            if shipped_at is not None and shipped_at > until:
                status, shipped, shipped_at, received_at = "买家已付款，等待卖家发货", False, None, None
            if received_at is not None and received_at > until:
                status, received_at = "卖家已发货，等待买家确认", None
        prov, city, district = rng.choice(ADDRESSES)
        items = rng.sample(products, rng.choice([1, 1, 1, 2, 3]))
        goods = Decimal("0")
        titles = []
        total_qty = 0
        for sku, title, price in items:
            qty = rng.choice([1, 1, 1, 2])
            goods += price * qty
            total_qty += qty
            titles.append(title)
            lines.append(
                [
                    f'="{order_no}"',
                    title,
                    f"{price:.2f}",
                    str(qty),
                    "",
                    "颜色分类：默认;规格：标准",
                    "",
                    "",
                    status,
                    sku,
                    f"{price * qty:.2f}" if status != "等待买家付款" else "0.00",
                ]
            )
        postage = Decimal("0.00") if goods > 99 else Decimal("8.00")
        total = goods + postage
        closed = status == "交易关闭"
        refund = total if closed and paid_at else Decimal("0")
        nick = f"tb{rng.randrange(10**6, 10**7)}"
        name = rng.choice(SURNAMES) + rng.choice("某甲乙丙丁")
        memo = ""
        if rng.random() < 0.3:
            memo = (
                f"{rng.choice(COURIERS)},{rng.choice(['无', '赠品毛巾', '赠品滤网'])},{rng.choice(['无', '加急', '周末送'])},"
                f"{rng.choice(agents) if agents else f'客服{rng.randrange(1, 9)}'},{created:%Y-%m-%d %H:%M}"
            )
        elif rng.random() < 0.05:
            memo = "顺丰 加急"  # not in the R-COM-1 format
        orders.append(
            [
                f'="{order_no}"',
                nick,
                f"{nick}@example.com",
                f"{goods:.2f}",
                f"{postage:.2f}",
                "0",
                f"{total:.2f}",
                "0",
                f"{total if paid_at else Decimal('0'):.2f}",
                "0",
                status,
                "",
                name,
                f"{prov} {city} {district} 某某路{rng.randrange(1, 999)}号(210000)",
                "快递",
                "",
                f"'138{rng.randrange(10**7, 10**8)}",
                f"{created:%Y-%m-%d %H:%M:%S}",
                f"{paid_at:%Y-%m-%d %H:%M:%S}" if paid_at else "",
                "；".join(titles),
                str(len(items)),
                f"{rng.randrange(10**11, 10**12)}" if shipped else "",
                rng.choice(COURIERS) if shipped else "",
                memo,
                str(total_qty),
                "0",
                shop_name,
                "退款" if refund else ("买家未付款" if closed else "订单未关闭"),
                f"{shipped_at:%Y-%m-%d %H:%M:%S}" if shipped_at else "",
                f"{received_at:%Y-%m-%d %H:%M:%S}" if received_at else "",
                f"{refund:.2f}",
            ]
        )
    return orders, lines


def to_csv(header: list[str], rows: list[list[str]], encoding: str = "gbk") -> bytes:
    """Write as the Taobao exporter does: every cell quoted, order numbers as the ="…" Excel guard."""

    def cell(value: str) -> str:
        if value.startswith('="') and value.endswith('"'):
            return value
        return '"' + value.replace('"', '""') + '"'

    out = io.StringIO()
    for row in [header, *rows]:
        out.write(",".join(cell(v) for v in row))
        out.write("\r\n")
    return out.getvalue().encode(encoding, errors="replace")


DAILY_HEADER_TOP = [
    "姓名",
    "考勤组",
    "部门",
    "工号",
    "职位",
    "UserId",
    "日期",
    "班次",
    "上班1打卡时间",
    "上班1打卡结果",
    "下班1打卡时间",
    "下班1打卡结果",
    "关联的审批单",
    "出勤天数",
    "休息天数",
    "工作时长",
    "迟到次数",
    "迟到时长",
    "请假",
    "",
    "",
    "旷工天数",
]
DAILY_HEADER_SUB = ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "事假", "病假", "年假", ""]
WEEKDAYS = "一二三四五六日"


def dingtalk_daily_rows(
    people: list[tuple[str, str, str]],
    year: int,
    month: int,
    seed: int = 11,
    rest_days: bool = True,
    until: dt.date | None = None,
) -> list[list[object]]:
    """Rows of a 每日统计 sheet (data part) for (name, UserId, 工号) people over a month.

    Mostly day shifts with two rest days a week, some night shifts, small deviations, a few late
    arrivals, early leaves, missing punches, certified make-ups and personal leave days.
    """
    import calendar

    rng = random.Random(f"{seed}-{year}-{month}")
    rows: list[list[object]] = []
    last = calendar.monthrange(year, month)[1]
    for index, (name, user_id, employee_no) in enumerate(people):
        night = index % 4 == 3
        for day in range(1, last + 1):
            date = dt.date(year, month, day)
            if until is not None and date >= until:
                break
            label = f"{date:%y-%m-%d} 星期{WEEKDAYS[date.weekday()]}"
            base = [name, "客服考勤组", "客服部", employee_no, "客服", user_id, label]
            if rest_days and (date.weekday() + index) % 7 in (5, 6):
                rows.append([*base, "休息", "", "休息", "", "休息", "", 0, 1, 0, 0, 0, "", "", "", 0])
                continue
            if night:
                shift, start, end = (
                    "晚班 17:00-次日01:00",
                    dt.datetime(year, month, day, 17, 0),
                    dt.datetime(year, month, day, 1, 0) + dt.timedelta(days=1),
                )
            else:
                shift, start, end = (
                    "白班 08:30-17:30",
                    dt.datetime(year, month, day, 8, 30),
                    dt.datetime(year, month, day, 17, 30),
                )
            roll = rng.random()
            on: dt.datetime | None = start - dt.timedelta(minutes=rng.randrange(1, 20))
            off: dt.datetime | None = end + dt.timedelta(minutes=rng.randrange(0, 40))
            on_result, off_result, approval, personal = "正常", "正常", "", ""
            if roll < 0.05:
                on = start + dt.timedelta(minutes=rng.choice([3, 12, 25, 45]))
                on_result = "迟到"
            elif roll < 0.08:
                off = end - dt.timedelta(minutes=rng.choice([5, 15]))
                off_result = "早退"
            elif roll < 0.10:
                off, off_result = None, "缺卡"
            elif roll < 0.12:
                on_result = "补卡审批通过"
            elif roll < 0.135:
                on = off = None
                on_result = off_result = "事假"
                approval = f"事假 {date:%m-%d} 08:30 到 {date:%m-%d} 17:30 1天"
                personal = "1"

            rows.append(
                [
                    *base,
                    shift,
                    _clock(on, date),
                    on_result,
                    _clock(off, date),
                    off_result,
                    approval,
                    1,
                    0,
                    540,
                    0,
                    0,
                    personal,
                    "",
                    "",
                    0,
                ]
            )
    return rows


def _clock(value: dt.datetime | None, day: dt.date) -> str:
    """A punch cell as DingTalk writes it: ``08:31``, or ``次日 00:58`` for the next day."""
    if value is None:
        return ""
    prefix = "次日 " if value.date() > day else ""
    return f"{prefix}{value:%H:%M}"


def dingtalk_daily_workbook(
    people: list[tuple[str, str, str]],
    year: int,
    month: int,
    seed: int = 11,
    rows: list[list[object]] | None = None,
    rest_days: bool = True,
) -> bytes:
    """A 每日统计 workbook as DingTalk exports it: title row, generated-at row, two header rows, data."""
    import calendar

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.create_sheet("每日统计", 0)
    wb.remove(wb.worksheets[1])
    last = calendar.monthrange(year, month)[1]
    ws.append([f"每日统计表 统计日期：{year}-{month:02d}-01 至 {year}-{month:02d}-{last:02d}"])
    ws.append([f"报表生成时间：{year}-{month:02d}-{last:02d} 09:00"])
    ws.append(DAILY_HEADER_TOP)
    ws.append(DAILY_HEADER_SUB)
    for row in rows if rows is not None else dingtalk_daily_rows(people, year, month, seed, rest_days):
        ws.append(row)
    wb.create_sheet("月度汇总").append(["姓名", "出勤天数"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def photo_png(width: int = 160, height: int = 120, rgb: tuple[int, int, int] = (210, 180, 140)) -> bytes:
    """A real (plain-coloured) PNG, the demo's stand-in for a buyer's photo or a waybill scan."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PRESALES_QUESTIONS = [
    ("在吗?这款有现货吗", "亲,在的~ 现货充足,今天下单今天发货哦"),
    ("这个和升级版有什么区别", "亲,升级版多了智能模式,功率也更大一些,日常用标准版就够啦"),
    ("能便宜点吗", "亲,现在已经是活动价了,还送赠品滤网,很划算的"),
    ("发什么快递?几天能到", "默认中通,江浙沪一般次日达,其他地区2-3天"),
    ("保修多久", "整机保修一年,配件半年,全国联保的"),
    ("可以开发票吗", "可以的亲,下单时备注抬头和税号就行"),
]
CANNED_REPLIES = [
    ("欢迎", "欢迎语", "亲,您好~ 欢迎光临,请问有什么可以帮您?"),
    ("物流", "发货时间", "亲,16点前付款当天发货,默认中通快递,江浙沪一般次日达。"),
    ("物流", "查询物流", "亲,已帮您查询物流,包裹正在派送中,请留意电话哦。"),
    ("保修", "保修政策", "整机保修一年,配件保修半年,全国联保,凭订单号即可。"),
    ("售后", "退换货", "亲,7天无理由退换,商品未使用不影响二次销售即可,在订单页申请就行。"),
    (
        "催付",
        "催付",
        "您好，是{称呼}吗？我是{平台}{店铺}的客服，您{下单时间}拍下的{商品}还没有付款哦，库存有限，付款后我们马上为您发货~",
    ),
]
AFTERSALES_QUESTIONS = [
    ("我的快递怎么三天没动了", "亲,已经帮您联系快递核实了,有进展第一时间告诉您"),
    ("收到的颜色不对", "非常抱歉亲,麻烦拍一下商品和快递面单,我们马上处理"),
    ("用了两天就不转了", "亲别着急,先试试长按电源键10秒重启,如果还不行我们安排售后"),
    ("少了一个配件", "抱歉亲,我们核实后马上给您补发"),
    ("想退货,还没拆封", "可以的亲,7天无理由,请在订单页申请退货"),
]


def chat_day(
    *,
    shop_code: str,
    day: dt.date,
    presales: list[str],
    aftersales: list[str],
    new_buyers: int,
    order_buyers: list[str],
    shipped_buyers: list[str],
    until: dt.datetime | None = None,
    seed: int = 2026,
    purchases: list[dict[str, Any]] | None = None,
    brand: str = "",
) -> list[dict[str, str | None]]:
    """A day of buyer conversations in one shop, as a chat platform would push them: questions,
    auto-replies, agents' answers after realistic delays (some late, some missing), follow-ups.
    Times are local (+08:00); nothing after ``until`` (a naive local time). About a third of the
    pre-sales buyers who were answered then pay: their orders are appended to ``purchases`` (the
    order push's JSON), so conversion has something true to count."""
    rng = random.Random(f"{seed}-{shop_code}-{day}")
    out: list[dict[str, str | None]] = []
    tz = "+08:00"
    counter = 0

    def add(buyer: str, when: dt.datetime, direction: str, kind: str, agent: str | None, text: str) -> None:
        nonlocal counter
        if until is not None and when > until:
            return
        counter += 1
        out.append(
            {
                "external_id": f"{shop_code}-{day:%Y%m%d}-{counter:05d}",
                "shop": shop_code,
                "buyer": buyer,
                "direction": direction,
                "kind": kind,
                "agent": agent,
                "sent_at": when.strftime("%Y-%m-%dT%H:%M:%S") + tz,
                "text": text,
            }
        )

    people = [(f"tb{rng.randrange(10**6, 10**7)}", "pre") for _ in range(new_buyers)]
    people += [(b, "pre") for b in order_buyers] + [(b, "after") for b in shipped_buyers]
    rng.shuffle(people)
    for buyer, role in people:
        agents = presales if role == "pre" else aftersales
        if not agents:
            continue
        agent = rng.choice(agents)
        script = PRESALES_QUESTIONS if role == "pre" else AFTERSALES_QUESTIONS
        t = dt.datetime.combine(day, dt.time(8, 30)) + dt.timedelta(minutes=rng.randrange(0, 14 * 60))
        for turn in range(rng.choice([1, 1, 2, 2, 3])):
            question, answer = rng.choice(script)
            add(buyer, t, "in", "text", None, question)
            if turn == 0 and rng.random() < 0.5:
                add(buyer, t + dt.timedelta(seconds=2), "out", "auto", None, "您好,欢迎光临,客服马上为您服务~")
            if rng.random() < 0.2:  # a second message before anyone answers: the same round
                t += dt.timedelta(seconds=rng.randrange(20, 120))
                add(buyer, t, "in", "text", None, "人呢?")
            if rng.random() < 0.08:  # never answered: the lead sees it waiting
                break
            delay = rng.choice([15, 30, 45, 60, 90, 120, 150, 200, 260, 420, 700])
            t += dt.timedelta(seconds=delay)
            add(buyer, t, "out", "text", agent, answer)
            t += dt.timedelta(minutes=rng.randrange(1, 25))
        if purchases is not None and role == "pre" and rng.random() < 0.35:
            paid = t + dt.timedelta(minutes=rng.randrange(5, 90))
            sku, title, amount = rng.choice(products_for(shop_code, brand))
            price = f"{amount:.2f}"
            if until is None or paid <= until:
                counter += 1
                purchases.append(
                    {
                        "order_no": f"{3600000000000000 + zlib.crc32(shop_code.encode()) % 997 * 10**10 + day.toordinal() % 10**5 * 10**4 + counter}",
                        "buyer_nick": buyer,
                        "status": "买家已付款，等待卖家发货",
                        "goods_amount": price,
                        "total_amount": price,
                        "paid_amount": price,
                        "items_title": title,
                        "lines": [
                            {
                                "line_key": "1",
                                "sku": sku,
                                "title": title,
                                "price": price,
                                "quantity": "1",
                                "paid_amount": price,
                            }
                        ],
                        "ordered_at": (paid - dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S"),
                        "paid_at": paid.strftime("%Y-%m-%dT%H:%M:%S"),
                    }
                )
    return out


# Issue 22: the share of a day's new sessions starting in each hour (a shop's chat: a morning peak,
# an afternoon and an evening one, nothing before 08:00), and the weekday weights (weekends busier).
HOUR_SHAPE = [0, 0, 0, 0, 0, 0, 0, 0, 3, 6, 9, 8, 5, 6, 8, 8, 7, 6, 5, 6, 8, 9, 7, 4]
WEEKDAY_WEIGHT = [1.0, 0.95, 0.95, 1.0, 1.1, 1.3, 1.25]
HISTORY_REPLIES_BAD = [  # what R-QA-1 finds, now and then
    "这个我也不清楚,你自己看详情页吧",
    "保证明天到,百分百没问题",
    "没办法,系统就是这样",
]


def history_day(
    *,
    shop_code: str,
    day: dt.date,
    agents: list[str],
    sessions: int,
    seed: int = 2026,
) -> list[dict[str, str | None]]:
    """A past day of desk history in one shop (issue 22's demo): ``sessions`` new buyer sessions
    spread over the hours by ``HOUR_SHAPE``, most answered within a minute or two with a greeting,
    some late, a few with words the quality inspection flags, a few never answered."""
    rng = random.Random(f"{seed}-{shop_code}-hist-{day}")
    out: list[dict[str, str | None]] = []
    counter = 0
    total = sum(HOUR_SHAPE)

    def add(buyer: str, when: dt.datetime, direction: str, agent: str | None, text: str) -> None:
        nonlocal counter
        counter += 1
        out.append(
            {
                "external_id": f"{shop_code}-h{day:%Y%m%d}-{counter:05d}",
                "shop": shop_code,
                "buyer": buyer,
                "direction": direction,
                "kind": "text",
                "agent": agent,
                "sent_at": when.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00",
                "text": text,
            }
        )

    for _ in range(sessions):
        pick = rng.uniform(0, total)
        hour = 0
        while pick > HOUR_SHAPE[hour]:
            pick -= HOUR_SHAPE[hour]
            hour += 1
        t = dt.datetime.combine(day, dt.time(hour)) + dt.timedelta(seconds=rng.randrange(0, 3600))
        buyer = f"h{rng.randrange(10**6, 10**7)}"
        agent = rng.choice(agents)
        script = PRESALES_QUESTIONS if rng.random() < 0.6 else AFTERSALES_QUESTIONS
        for turn in range(rng.choice([1, 2, 2, 3])):
            question, answer = rng.choice(script)
            add(buyer, t, "in", None, question)
            if rng.random() < 0.03:
                break  # never answered
            t += dt.timedelta(seconds=rng.choice([20, 35, 50, 70, 90, 120, 150, 160, 240]))
            if turn == 0 and not answer.startswith(("亲", "您好")) and rng.random() < 0.85:
                answer = "您好," + answer
            if rng.random() < 0.03:
                answer = rng.choice(HISTORY_REPLIES_BAD)
            add(buyer, t, "out", agent, answer)
            t += dt.timedelta(minutes=rng.randrange(1, 12))
    return out
