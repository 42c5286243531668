"""After-sales decisions of the handbook (SPEC §5, R-AS-1 … R-AS-14), pure Python.

From a case's facts and the policy document, ``evaluate`` returns the freight standard for the
province (R-AS-1), who pays return freight (R-AS-2), whether the request is inside its window
(R-AS-14), the partial-refund cap (R-AS-7) and the proposed resolutions in the seed's order for the
case type (R-AS-3 … R-AS-10), each with its cost to us, whether it needs supervisor approval and the
rule it comes from. Nothing is stored; the same facts always give the same decision.

Readings taken (beyond SPEC's own):
- The cost of a return/exchange at our cost is return freight + reship freight (both at the R-AS-1
  standard); the goods come back, so they are not a cost. A refund without taking the goods back
  costs the line value; a reship costs freight + the goods (cost price when known, else the value).
- "Keep it at a discount" and "small partial refund" offers are priced by policy percentages of the
  affected value, never above the cap.
- Any proposal that costs more than the cap needs supervisor approval (R-AS-7 generalised), and so
  does every proposal the seed marks as needing it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .regions import province_short

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

CASE_TYPES = (
    "logistics_exception",
    "lost_parcel",
    "missing_item",
    "wrong_item",
    "defect",
    "quality",
    "agent_error",
    "return",
    "exchange",
    "refund_only",
    "dispute",
    "negative_review",
)
OURS = ("ours_agent", "ours_warehouse", "ours_product")
RESPONSIBILITIES = (*OURS, "courier", "buyer", "undetermined")

PLAYBOOKS: dict[str, list[tuple[str, str]]] = {
    "logistics_exception": [  # R-AS-10, seed 002: the six steps
        ("calm", "安抚买家情绪"),
        ("record", "记录问题"),
        ("reassure", "让买家放心,确认收货地址和电话"),
        ("compare_address", "核对平台地址与面单地址"),
        ("ask_courier", "联系快递查询并记录"),
        ("report_back", "回复买家处理结果"),
    ],
    "lost_parcel": [  # R-AS-9
        ("confirm_loss", "与快递确认丢件"),
        ("reship_or_refund", "先为买家补发或退款"),
        ("open_claim", "向快递发起理赔(货值+运费)"),
        ("track_claim", "跟踪理赔直至到账或核销"),
    ],
    "missing_item": [  # R-AS-8
        ("check_warehouse", "与仓库核实"),
        ("check_remark", "核对订单备注(R-COM-1)"),
        ("decide_responsibility", "判定责任(客服/仓库)"),
        ("reship_missing", "补发缺少的部分"),
    ],
    "wrong_item": [  # R-AS-3
        ("compare_order", "核对发出商品与订单是否一致"),
        ("verify_photo", "买家照片"),
        ("verify_waybill", "面单"),
        ("verify_weight", "包裹重量"),
        ("compare_value", "比较错发商品价值与退回运费"),
        ("offer_discount", "建议买家折价留下"),
        ("record_weekly", "登记,计入售后周报"),
    ],
    "defect": [  # R-AS-4
        ("apologise", "致歉"),
        ("offer_coupon", "提供下次购物优惠券或小额补偿"),
        ("ask_freight", "如坚持退换,先询问买家是否承担运费"),
    ],
    "quality": [  # R-AS-5
        ("usage", "询问并记录使用情况,排除使用不当"),
        ("confirm_quality", "确认质量问题"),
        ("quality_mark", "商品记入质量反馈"),
    ],
    "agent_error": [  # R-AS-6
        ("negotiate", "协商补偿"),
        ("apologise", "致歉"),
        ("record_agent", "记录客服责任"),
    ],
    "return": [
        ("retain", "先建议换货或补差价(R-AS-7)"),
        ("check_window", "核对退货期限(R-AS-14)"),
        ("receive_return", "收到退货并验货"),
    ],
    "exchange": [
        ("check_window", "核对换货期限(R-AS-14)"),
        ("receive_return", "收到退货并验货"),
        ("reship", "发出换货"),
    ],
    "refund_only": [("check_status", "核对订单与物流状态"), ("refund", "退款")],
    "dispute": [  # R-AS-12
        ("predict", "预判平台判定结果"),
        ("settle_privately", "我方有责则私下协商"),
        ("vouchers", "准备进货凭证/品牌授权"),
        ("reason", "撰写申诉理由"),
        ("chat_excerpts", "截取有利的聊天记录"),
        ("submit_appeal", "在平台时限内提交申诉"),
    ],
    "negative_review": [  # R-AS-13
        ("read", "查看差评内容"),
        ("explain", "发布解释回复"),
        ("product_feedback", "如属商品问题,登记商品反馈"),
    ],
}


@dataclass(frozen=True)
class CaseFacts:
    case_type: str
    province: str = ""
    responsibility: str = "undetermined"
    line_value: Decimal = ZERO  # value of the affected line(s)
    line_cost: Decimal | None = None  # our cost price of it, when known
    wrong_item_value: Decimal | None = None  # R-AS-3: value of what was shipped by mistake
    shipped_matches_order: bool | None = None  # R-AS-3
    received_date: dt.date | None = None
    request_date: dt.date | None = None
    request_kind: str = ""  # return_no_reason | return_quality | exchange (R-AS-14)
    buyer_stance: str = ""  # "" | accepts | declines | insists
    buyer_pays_freight: bool | None = None  # R-AS-4
    misuse: bool | None = None  # R-AS-5
    remark_ok: bool | None = None  # R-AS-8: was the order remark there and right?
    warehouse_error: bool | None = None  # R-AS-8
    seized: bool = False  # R-AS-10
    at_fault: bool | None = None  # R-AS-12
    repairs: int = 0


@dataclass(frozen=True)
class Proposal:
    code: str
    label: str
    cost: Decimal
    needs_approval: bool
    rule: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "cost": f"{self.cost:.2f}",
            "needs_approval": self.needs_approval,
            "rule": self.rule,
            "note": self.note,
        }


@dataclass
class Decision:
    freight: Decimal
    return_freight_payer: str | None  # us | buyer | None (undetermined)
    window: dict[str, Any] | None
    partial_refund_cap: Decimal
    proposals: list[Proposal] = field(default_factory=list)
    checklist: list[tuple[str, str]] = field(default_factory=list)
    responsibility: str = "undetermined"
    explanation: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "freight": f"{self.freight:.2f}",
            "return_freight_payer": self.return_freight_payer,
            "window": self.window,
            "partial_refund_cap": f"{self.partial_refund_cap:.2f}",
            "responsibility": self.responsibility,
            "proposals": [p.as_dict() for p in self.proposals],
            "checklist": [{"code": c, "label": label} for c, label in self.checklist],
            "explanation": list(self.explanation),
        }


# The largest amount a case fact may carry (the money columns hold 12 digits with 2 places).
AMOUNT_LIMIT = Decimal("9999999999.99")


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def freight_for(policy: dict[str, Any], province: str) -> Decimal:
    """R-AS-1: the freight standard for a province, named in any form (``浙江``, ``浙江省``,
    ``新疆维吾尔自治区``, a whole address); no province → the default; an unknown one is an error."""
    short = province_short(province)
    if short is None:
        if (province or "").strip():
            raise ValueError(f"unknown province {province!r}")
        return Decimal(policy["aftersales"]["freight_default"])
    for row in policy["aftersales"]["freight"]:
        if short in {province_short(p) for p in row["provinces"]}:
            return Decimal(row["amount"])
    return Decimal(policy["aftersales"]["freight_default"])


def freight_payer(responsibility: str) -> str | None:
    """R-AS-2: ours (or the courier's, which we then claim) → we pay; the buyer's → the buyer pays."""
    if responsibility in OURS or responsibility == "courier":
        return "us"
    if responsibility == "buyer":
        return "buyer"
    return None


def window(policy: dict[str, Any], facts: CaseFacts) -> dict[str, Any] | None:
    """R-AS-14: is the request inside its window (days from receipt)?"""
    limits = {
        "return_no_reason": int(policy["aftersales"]["no_reason_return_days"]),
        "return_quality": int(policy["aftersales"]["quality_return_days"]),
        "exchange": int(policy["aftersales"]["exchange_days"]),
    }
    if facts.request_kind not in limits:
        return None
    limit = limits[facts.request_kind]
    if facts.received_date is None or facts.request_date is None:
        return {"kind": facts.request_kind, "limit_days": limit, "days": None, "within": None, "rule": "R-AS-14"}
    days = (facts.request_date - facts.received_date).days
    return {"kind": facts.request_kind, "limit_days": limit, "days": days, "within": days <= limit, "rule": "R-AS-14"}


def partial_refund_cap(policy: dict[str, Any], province: str) -> Decimal:
    """R-AS-7: a partial refund may not exceed the exchange cost (return + reship freight) without approval."""
    return _money(2 * freight_for(policy, province))


def evaluate(policy: dict[str, Any], facts: CaseFacts) -> Decision:
    if facts.case_type not in CASE_TYPES:
        raise ValueError(f"unknown case type {facts.case_type!r}")
    if facts.responsibility not in RESPONSIBILITIES:
        raise ValueError(f"unknown responsibility {facts.responsibility!r}")
    a = policy["aftersales"]
    freight = freight_for(policy, facts.province)
    cap = partial_refund_cap(policy, facts.province)
    exchange_cost = _money(2 * freight)
    goods = facts.line_cost if facts.line_cost is not None else facts.line_value
    percent = Decimal(a.get("discount_offer_percent", "20")) / 100
    small = Decimal(a.get("defect_refund_percent", "10")) / 100
    coupon = Decimal(a.get("coupon_amount", "10.00"))
    decision = Decision(
        freight=freight,
        return_freight_payer=None,
        window=window(policy, facts),
        partial_refund_cap=cap,
        checklist=list(PLAYBOOKS[facts.case_type]),
        responsibility=facts.responsibility,
    )
    p = decision.proposals
    note = decision.explanation
    t = facts.case_type

    if t == "wrong_item":
        if facts.shipped_matches_order:
            decision.responsibility = "buyer"
            note.append("发出商品与订单一致:买家拍错,向买家解释 (R-AS-3)")
            p.append(Proposal("explain", "向买家解释:按订单发货,属买家拍错", ZERO, False, "R-AS-3"))
            p.append(Proposal("return_buyer_freight", "买家承担运费退换", ZERO, False, "R-AS-2"))
        else:
            if decision.responsibility == "undetermined":
                decision.responsibility = "ours_warehouse"
            value = facts.wrong_item_value if facts.wrong_item_value is not None else facts.line_value
            discount = _money(min(cap, value * percent))
            p.append(Proposal("keep_discount", "建议买家折价留下错发商品", discount, False, "R-AS-3"))
            if value > freight:
                note.append(f"错发商品价值 {value} > 退回运费 {freight}:买家不接受则我方承担运费退换 (R-AS-3)")
                p.append(
                    Proposal(
                        "return_exchange_our_cost", "买家不接受:退换货,运费由我方承担", exchange_cost, False, "R-AS-3"
                    )
                )
            else:
                note.append(
                    f"错发商品价值 {value} ≤ 退回运费 {freight}:买家不接受则经主管批准补发或直接退款,不退回 (R-AS-3)"
                )
                p.append(
                    Proposal(
                        "reship_no_return",
                        "经主管批准:补发正确商品,错发商品不退回",
                        _money(freight + goods),
                        True,
                        "R-AS-3",
                    )
                )
                p.append(
                    Proposal(
                        "refund_no_return",
                        "经主管批准:直接退款,错发商品不退回",
                        _money(facts.line_value),
                        True,
                        "R-AS-3",
                    )
                )
    elif t == "defect":
        p.append(Proposal("coupon", "致歉并赠送下次购物优惠券", coupon, False, "R-AS-4"))
        p.append(
            Proposal("small_refund", "小额补偿(部分退款)", _money(min(cap, facts.line_value * small)), False, "R-AS-4")
        )
        if facts.buyer_pays_freight and facts.responsibility not in OURS:
            # R-AS-4 asks first whether the buyer pays; once the fault is ours R-AS-2 decides: we pay.
            p.append(Proposal("return_buyer_freight", "买家坚持退换:买家承担运费", ZERO, False, "R-AS-4"))
        else:
            p.append(
                Proposal(
                    "return_free_shipping",
                    "买家坚持退换:包邮退换",
                    exchange_cost,
                    False,
                    "R-AS-4",
                    "先询问买家是否承担运费",
                )
            )
    elif t == "quality":
        if facts.misuse:
            decision.responsibility = "buyer"
            note.append("使用不当,不属质量问题 (R-AS-5)")
            p.append(Proposal("explain_misuse", "说明使用不当,不属质量问题", ZERO, False, "R-AS-5"))
        else:
            if decision.responsibility == "undetermined" and facts.misuse is False:
                decision.responsibility = "ours_product"
            p.append(
                Proposal(
                    "return_exchange_our_cost",
                    "质量问题:退换货,运费由我方承担",
                    exchange_cost,
                    False,
                    "R-AS-5",
                    "商品记入质量反馈",
                )
            )
    elif t == "agent_error":
        decision.responsibility = "ours_agent"
        p.append(Proposal("compensation", "协商补偿", _money(min(cap, facts.line_value * small)), False, "R-AS-6"))
        p.append(Proposal("return_exchange_our_cost", "买家不接受:免费退换并致歉", exchange_cost, False, "R-AS-6"))
    elif t in {"return", "exchange"}:
        p.append(Proposal("offer_exchange", "挽留:建议换货", exchange_cost, False, "R-AS-7"))
        p.append(
            Proposal(
                "price_difference",
                "挽留:补差价(部分退款)",
                cap,
                False,
                "R-AS-7",
                f"部分退款上限 {cap}(退回+补发运费),超出需主管批准",
            )
        )
        payer = freight_payer(facts.responsibility)
        cost = exchange_cost if payer == "us" else ZERO
        p.append(
            Proposal(
                "accept_return" if t == "return" else "accept_exchange",
                "同意退货" if t == "return" else "同意换货",
                cost,
                False,
                "R-AS-2",
                "运费:" + {"us": "我方承担", "buyer": "买家承担", None: "待定责任"}[payer],
            )
        )
    elif t == "missing_item":
        if facts.warehouse_error:
            decision.responsibility = "ours_warehouse"
            p.append(
                Proposal("reship_missing", "仓库漏发:立即补发缺少的部分", _money(freight + goods), False, "R-AS-8")
            )
        elif facts.remark_ok is False:
            decision.responsibility = "ours_agent"
            p.append(
                Proposal(
                    "reship_missing_agent",
                    "备注缺失/错误:补发,运费记入接单客服",
                    _money(freight + goods),
                    False,
                    "R-AS-8",
                    f"客服承担补发运费 {freight}",
                )
            )
        else:
            p.append(Proposal("check_warehouse", "先与仓库核实", ZERO, False, "R-AS-8"))
    elif t == "lost_parcel":
        decision.responsibility = "courier" if decision.responsibility == "undetermined" else decision.responsibility
        p.append(Proposal("reship", "先为买家补发", _money(freight + goods), False, "R-AS-9", "随后向快递理赔"))
        p.append(Proposal("refund", "先为买家退款", _money(facts.line_value), False, "R-AS-9", "随后向快递理赔"))
        note.append(f"理赔金额:货值 {facts.line_value} + 运费 {freight} (R-AS-9)")
    elif t == "logistics_exception":
        if facts.seized:
            note.append("被安检扣留:先与快递确定责任,再为买家退款或补发 (R-AS-10)")
            p.append(
                Proposal("settle_courier_then_refund", "与快递定责后退款", _money(facts.line_value), False, "R-AS-10")
            )
            p.append(
                Proposal("settle_courier_then_reship", "与快递定责后补发", _money(freight + goods), False, "R-AS-10")
            )
        else:
            p.append(
                Proposal(
                    "follow_playbook",
                    "按六步处理:安抚、记录、确认地址电话、核对地址、问快递、回复",
                    ZERO,
                    False,
                    "R-AS-10",
                )
            )
    elif t == "refund_only":
        p.append(Proposal("refund", "仅退款", _money(facts.line_value), False, "R-AS-2"))
    elif t == "dispute":
        if facts.at_fault:
            p.append(
                Proposal(
                    "settle_privately", "我方有责:私下协商解决", _money(min(cap, facts.line_value)), False, "R-AS-12"
                )
            )
        else:
            p.append(Proposal("appeal", "整理申诉材料:凭证、授权、理由、聊天记录", ZERO, False, "R-AS-12"))
    elif t == "negative_review":
        p.append(Proposal("explain_reply", "发布解释回复", ZERO, False, "R-AS-13"))
        p.append(Proposal("product_feedback", "登记商品反馈", ZERO, False, "R-AS-13"))

    decision.return_freight_payer = freight_payer(decision.responsibility)
    if decision.window is not None and decision.window["within"] is False:
        note.append(f"已超过{decision.window['limit_days']}天期限 (R-AS-14)")
    # R-AS-7 generalised: anything above the cap needs the supervisor.
    decision.proposals = [
        prop
        if prop.needs_approval or prop.cost <= cap
        else Proposal(
            prop.code,
            prop.label,
            prop.cost,
            True,
            prop.rule,
            (prop.note + ";" if prop.note else "") + "超出上限需主管批准",
        )
        for prop in p
    ]
    return decision


def late_shipment(
    *,
    paid_at: dt.datetime | None,
    shipped_at: dt.datetime | None,
    promised_at: dt.datetime | None,
    chased_at: list[dt.datetime],
    now: dt.datetime,
) -> dict[str, Any] | None:
    """R-AS-11: an order shipped (or still unshipped) after its promised time makes the agent responsible,
    unless the agent chased the warehouse before the promise ran out (追问记录) — then the warehouse is."""
    if paid_at is None or promised_at is None:
        return None
    actual = shipped_at or now
    late = actual > promised_at
    minutes = max(0, int((actual - promised_at).total_seconds() // 60))
    chased = sorted(c for c in chased_at if c <= promised_at)
    responsible = None
    if late:
        responsible = "ours_warehouse" if chased else "ours_agent"
    basis = f"承诺 {promised_at:%m-%d %H:%M} 前发货," + (
        f"{'实际' if shipped_at else '至今未'}发货{'' if not shipped_at else f' {shipped_at:%m-%d %H:%M}'}"
    )
    if late:
        basis += f",超时 {minutes // 60} 小时 {minutes % 60} 分钟;" + (
            f"客服已于 {chased[0]:%m-%d %H:%M} 追问仓库,责任在仓库" if chased else "无及时追问记录,责任在接单客服"
        )
    return {
        "late": late,
        "minutes_late": minutes,
        "responsible": responsible,
        "promised_at": promised_at,
        "chased_in_time": bool(chased),
        "rule": "R-AS-11",
        "basis": basis,
    }


def facts_from_dict(data: dict[str, Any]) -> CaseFacts:
    """Build facts from JSON-ish input (strings for money and dates); raise ValueError on bad input."""

    def money(key: str) -> Decimal | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            raise ValueError(f"{key} must be an amount") from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"{key} must be an amount ≥ 0")
        if amount > AMOUNT_LIMIT:
            raise ValueError(f"{key} may not exceed {AMOUNT_LIMIT}")
        return amount

    def date(key: str) -> dt.date | None:
        value = data.get(key)
        return dt.date.fromisoformat(str(value)) if value else None

    province = str(data.get("province") or "").strip()
    if province and province_short(province) is None:
        raise ValueError(f"unknown province {province!r} (R-AS-1)")
    return CaseFacts(
        case_type=str(data.get("case_type", "")),
        province=province_short(province) or "",
        responsibility=str(data.get("responsibility") or "undetermined"),
        line_value=money("line_value") or ZERO,
        line_cost=money("line_cost"),
        wrong_item_value=money("wrong_item_value"),
        shipped_matches_order=data.get("shipped_matches_order"),
        received_date=date("received_date"),
        request_date=date("request_date"),
        request_kind=str(data.get("request_kind") or ""),
        buyer_stance=str(data.get("buyer_stance") or ""),
        buyer_pays_freight=data.get("buyer_pays_freight"),
        misuse=data.get("misuse"),
        remark_ok=data.get("remark_ok"),
        warehouse_error=data.get("warehouse_error"),
        seized=bool(data.get("seized", False)),
        at_fault=data.get("at_fault"),
        repairs=int(data.get("repairs") or 0),
    )
