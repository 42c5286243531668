"""After-sales decisions R-AS-1 … R-AS-14: the seed's worked examples and properties (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.imports.address import PROVINCES
from kefu.policies import handbook
from kefu.policies.aftersales import CAPPED, CASE_TYPES, OURS, RESPONSIBILITIES, CaseFacts, evaluate, facts_from_dict

POLICY = handbook.load_preset()


def codes(decision: object) -> list[str]:
    return [p.code for p in decision.proposals]  # type: ignore[attr-defined]


def by_code(decision: object, code: str):  # type: ignore[no-untyped-def]
    return next(p for p in decision.proposals if p.code == code)  # type: ignore[attr-defined]


def test_freight_standard_and_cap_r_as_1_r_as_7() -> None:
    assert evaluate(POLICY, CaseFacts("return", province="江苏")).freight == Decimal("6.00")
    assert evaluate(POLICY, CaseFacts("return", province="新疆")).freight == Decimal("15.00")
    d = evaluate(POLICY, CaseFacts("return", province="广东"))
    assert d.freight == Decimal("10.00") and d.partial_refund_cap == Decimal("20.00")


@pytest.mark.parametrize(
    ("responsibility", "payer"),
    [
        ("ours_agent", "us"),
        ("ours_warehouse", "us"),
        ("ours_product", "us"),
        ("courier", "us"),
        ("buyer", "buyer"),
        ("undetermined", None),
    ],
)
def test_responsibility_decides_who_pays_return_freight_r_as_2(responsibility: str, payer: str | None) -> None:
    assert evaluate(POLICY, CaseFacts("return", responsibility=responsibility)).return_freight_payer == payer


def test_wrong_item_worth_less_than_freight_keep_at_discount_or_reship_refund_with_approval_r_as_3() -> None:
    """The seed's decision: a wrongly shipped item worth less than the return freight."""
    d = evaluate(
        POLICY,
        CaseFacts(
            "wrong_item",
            province="广东",
            line_value=Decimal("39.00"),
            wrong_item_value=Decimal("8.00"),
            shipped_matches_order=False,
        ),
    )
    assert codes(d) == ["keep_discount", "reship_no_return", "refund_no_return"]
    keep = by_code(d, "keep_discount")
    assert not keep.needs_approval and keep.cost == Decimal("1.60")  # 20% of 8.00
    assert by_code(d, "reship_no_return").needs_approval and by_code(d, "refund_no_return").needs_approval
    assert by_code(d, "refund_no_return").cost == Decimal("39.00")
    assert d.responsibility == "ours_warehouse" and d.return_freight_payer == "us"


def test_wrong_item_worth_more_than_freight_is_returned_at_our_cost_r_as_3() -> None:
    d = evaluate(
        POLICY,
        CaseFacts(
            "wrong_item",
            province="江苏",
            line_value=Decimal("199.00"),
            wrong_item_value=Decimal("120.00"),
            shipped_matches_order=False,
        ),
    )
    assert codes(d) == ["keep_discount", "return_exchange_our_cost"]
    assert by_code(d, "keep_discount").cost == Decimal("12.00")  # capped at 2 × 6.00
    assert by_code(d, "return_exchange_our_cost").cost == Decimal("12.00")


def test_wrong_item_matching_the_order_means_the_buyer_ordered_wrong() -> None:
    d = evaluate(POLICY, CaseFacts("wrong_item", shipped_matches_order=True, line_value=Decimal("50")))
    assert codes(d)[0] == "explain" and d.responsibility == "buyer" and d.return_freight_payer == "buyer"


def test_defect_r_as_4() -> None:
    d = evaluate(POLICY, CaseFacts("defect", province="广东", line_value=Decimal("100")))
    assert codes(d) == ["coupon", "small_refund", "return_free_shipping"]
    assert by_code(d, "coupon").cost == Decimal("10.00") and by_code(d, "small_refund").cost == Decimal("10.00")
    assert codes(evaluate(POLICY, CaseFacts("defect", buyer_pays_freight=True)))[-1] == "return_buyer_freight"


def test_quality_rules_out_misuse_first_r_as_5() -> None:
    misuse = evaluate(POLICY, CaseFacts("quality", misuse=True))
    assert codes(misuse) == ["explain_misuse"] and misuse.responsibility == "buyer"
    real = evaluate(POLICY, CaseFacts("quality", misuse=False, province="上海"))
    assert codes(real) == ["return_exchange_our_cost"] and real.responsibility == "ours_product"
    assert by_code(real, "return_exchange_our_cost").cost == Decimal("12.00")


def test_agent_error_r_as_6() -> None:
    d = evaluate(POLICY, CaseFacts("agent_error", line_value=Decimal("300")))
    assert codes(d) == ["compensation", "return_exchange_our_cost"] and d.responsibility == "ours_agent"


def test_retention_before_return_r_as_7() -> None:
    """R-AS-7 (SPEC §5.1): the return is proposed only once the buyer declined the exchange or the
    price-difference refund; inside its window it needs no approval, outside (or unknown) it does."""
    asked = evaluate(POLICY, CaseFacts("return", province="广东", responsibility="buyer"))
    assert codes(asked) == ["offer_exchange", "price_difference"]
    assert any("R-AS-7" in line for line in asked.explanation)
    inside: dict[str, Any] = {
        "request_kind": "return_no_reason",
        "received_date": dt.date(2026, 11, 1),
        "request_date": dt.date(2026, 11, 5),
    }
    declined: dict[str, Any] = {"province": "广东", "responsibility": "buyer", "buyer_stance": "declines"}
    d = evaluate(POLICY, CaseFacts("return", **declined, **inside))
    assert codes(d) == ["offer_exchange", "price_difference", "accept_return"]
    assert by_code(d, "price_difference").cost == d.partial_refund_cap  # no price known: the cap
    assert by_code(d, "accept_return").cost == Decimal("0.00") and not by_code(d, "accept_return").needs_approval
    late: dict[str, Any] = {
        **inside,
        "request_date": dt.date(2026, 12, 2),
    }  # 31 days: past 7
    d = evaluate(POLICY, CaseFacts("return", **declined, **late))
    assert by_code(d, "accept_return").needs_approval and d.window == {
        "kind": "return_no_reason", "limit_days": 7, "days": 31, "within": False, "rule": "R-AS-14"
    }  # fmt: skip


def test_a_price_difference_never_exceeds_the_price_and_a_small_refund_keeps_the_margin() -> None:
    """A ¥5 item: the price-difference refund is 5.00, not the cap of 20.00 (R-AS-7, SPEC §5.1).
    A defect on an item priced 200.00 that cost 195.00: 10% would be 20.00 but the margin is 5.00,
    so the small refund is 5.00 (R-AS-4 "在保证利润的前提下")."""
    cheap = evaluate(POLICY, CaseFacts("return", province="广东", line_value=Decimal("5.00")))
    assert by_code(cheap, "price_difference").cost == Decimal("5.00")
    thin = evaluate(POLICY, CaseFacts("defect", province="广东", line_value=Decimal("200"), line_cost=Decimal("195")))
    assert by_code(thin, "small_refund").cost == Decimal("5.00")
    wide = evaluate(POLICY, CaseFacts("defect", province="广东", line_value=Decimal("200"), line_cost=Decimal("100")))
    assert by_code(wide, "small_refund").cost == Decimal("20.00")  # 10% of 200, within cap 20 and margin 100


def test_a_receipt_after_the_request_is_an_error() -> None:
    with pytest.raises(ValueError):
        facts_from_dict({"case_type": "return", "received_date": "2026-11-10", "request_date": "2026-11-05"})


def test_missing_items_r_as_8() -> None:
    agent = evaluate(POLICY, CaseFacts("missing_item", remark_ok=False, line_value=Decimal("5"), province="江苏"))
    assert codes(agent) == ["reship_missing_agent"] and agent.responsibility == "ours_agent"
    warehouse = evaluate(POLICY, CaseFacts("missing_item", warehouse_error=True, line_value=Decimal("5")))
    assert codes(warehouse) == ["reship_missing"] and warehouse.responsibility == "ours_warehouse"
    assert codes(evaluate(POLICY, CaseFacts("missing_item"))) == ["check_warehouse"]


def test_lost_parcel_reship_or_refund_then_claim_r_as_9() -> None:
    d = evaluate(POLICY, CaseFacts("lost_parcel", line_value=Decimal("300"), province="广东"))
    assert codes(d) == ["reship", "refund"] and d.responsibility == "courier"
    # "reship or refund first" (R-AS-9): no supervisor's wait, though 310 / 300 are above the cap 20
    assert not any(p.needs_approval for p in d.proposals)
    assert any("理赔" in line for line in d.explanation)


def test_logistics_exception_six_steps_and_seizure_r_as_10() -> None:
    d = evaluate(POLICY, CaseFacts("logistics_exception"))
    assert [c for c, _ in d.checklist] == [
        "calm",
        "record",
        "reassure",
        "compare_address",
        "ask_courier",
        "report_back",
    ]
    seized = evaluate(POLICY, CaseFacts("logistics_exception", seized=True, line_value=Decimal("10")))
    assert codes(seized) == ["settle_courier_then_refund", "settle_courier_then_reship"]


@pytest.mark.parametrize(
    ("kind", "days", "within"),
    [
        ("return_no_reason", 7, True),
        ("return_no_reason", 8, False),
        ("return_quality", 30, True),
        ("return_quality", 31, False),
        ("exchange", 90, True),
        ("exchange", 91, False),
    ],
)
def test_return_windows_r_as_14(kind: str, days: int, within: bool) -> None:
    received = dt.date(2026, 10, 1)
    d = evaluate(
        POLICY,
        CaseFacts(
            "exchange" if kind == "exchange" else "return",
            request_kind=kind,
            received_date=received,
            request_date=received + dt.timedelta(days=days),
        ),
    )
    assert d.window is not None and d.window["within"] is within and d.window["rule"] == "R-AS-14"


def test_the_window_follows_the_case_type_whatever_kind_was_typed() -> None:
    """Re-review of issue 18: clearing the request kind switched the window off, and a return case
    named "exchange" took the 90 days. A return case has the 7-day window (or the quality one it
    names); an exchange case the 90 days; an unknown kind is refused; outside it, the retention
    offers need the supervisor too."""
    received = dt.date(2026, 8, 1)
    late = {"received_date": received, "request_date": dt.date(2026, 12, 1), "buyer_stance": "declines"}
    for typed in ("", "exchange"):
        d = evaluate(POLICY, CaseFacts("return", request_kind=typed, **late))  # type: ignore[arg-type]
        assert d.window is not None and (d.window["kind"], d.window["within"]) == ("return_no_reason", False)
        assert all(p.needs_approval for p in d.proposals if p.code in {"accept_return", "offer_exchange"})
    swap = evaluate(POLICY, CaseFacts("exchange", request_kind="", **late))  # type: ignore[arg-type]
    assert swap.window is not None and swap.window["kind"] == "exchange" and swap.window["days"] == 122
    with pytest.raises(ValueError):
        facts_from_dict({"case_type": "return", "request_kind": "bogus"})


def test_dispute_r_as_12() -> None:
    assert codes(evaluate(POLICY, CaseFacts("dispute", at_fault=True, line_value=Decimal("5")))) == ["settle_privately"]
    assert codes(evaluate(POLICY, CaseFacts("dispute", at_fault=False))) == ["appeal"]


def test_facts_from_json_and_bad_input() -> None:
    facts = facts_from_dict(
        {
            "case_type": "wrong_item",
            "province": "广东",
            "line_value": "39.00",
            "wrong_item_value": "8",
            "shipped_matches_order": False,
            "received_date": "2026-10-01",
        }
    )
    assert facts.wrong_item_value == Decimal("8") and facts.received_date == dt.date(2026, 10, 1)
    with pytest.raises(ValueError):
        facts_from_dict({"case_type": "return", "line_value": "-1"})
    with pytest.raises(ValueError):
        evaluate(POLICY, CaseFacts("teleport"))


money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
facts_st = st.builds(
    CaseFacts,
    case_type=st.sampled_from(CASE_TYPES),
    province=st.sampled_from(sorted(PROVINCES)),
    responsibility=st.sampled_from(RESPONSIBILITIES),
    line_value=money,
    line_cost=st.none() | money,
    wrong_item_value=st.none() | money,
    shipped_matches_order=st.none() | st.booleans(),
    buyer_pays_freight=st.none() | st.booleans(),
    misuse=st.none() | st.booleans(),
    remark_ok=st.none() | st.booleans(),
    warehouse_error=st.none() | st.booleans(),
    seized=st.booleans(),
    at_fault=st.none() | st.booleans(),
)


@settings(max_examples=400)
@given(facts_st)
def test_no_proposal_costs_more_than_the_cap_without_needing_approval(facts: CaseFacts) -> None:
    d = evaluate(POLICY, facts)
    for proposal in d.proposals:
        assert proposal.cost >= 0
        if proposal.code in CAPPED and proposal.cost > d.partial_refund_cap:
            assert proposal.needs_approval
        if proposal.code == "price_difference" and facts.line_value:
            assert proposal.cost <= facts.line_value
        if proposal.code == "small_refund" and facts.line_cost is not None:
            assert proposal.cost <= max(Decimal(0), facts.line_value - facts.line_cost)


@settings(max_examples=400)
@given(facts_st)
def test_the_buyer_never_pays_freight_when_responsibility_is_ours(facts: CaseFacts) -> None:
    d = evaluate(POLICY, facts)
    if d.responsibility in OURS:
        assert d.return_freight_payer == "us"
        assert "return_buyer_freight" not in codes(d)


@given(facts_st)
def test_every_case_type_has_a_playbook_and_the_decision_is_deterministic(facts: CaseFacts) -> None:
    first, second = evaluate(POLICY, facts).as_dict(), evaluate(POLICY, facts).as_dict()
    assert first == second and first["checklist"] and first["proposals"]


# --- R-AS-1: provinces matched by short name whatever form arrives ---------------------------------

FORMS = [
    ("浙江", "6.00"),
    ("浙江省", "6.00"),
    ("上海市", "6.00"),
    ("江苏省 南京市 鼓楼区 中山路1号", "6.00"),
    ("新疆维吾尔自治区", "15.00"),
    ("内蒙古自治区", "15.00"),
    ("广西壮族自治区", "10.00"),
    ("广东省", "10.00"),
    ("", "10.00"),  # no province at all: the default
]


@pytest.mark.parametrize(("province", "freight"), FORMS)
def test_freight_by_province_in_any_form_r_as_1(province: str, freight: str) -> None:
    from kefu.policies.aftersales import freight_for

    assert freight_for(POLICY, province) == Decimal(freight)


def test_an_unknown_province_is_an_error_never_the_default_r_as_1() -> None:
    from kefu.policies.aftersales import freight_for

    with pytest.raises(ValueError, match="province"):
        freight_for(POLICY, "火星省")
    with pytest.raises(ValueError, match=r"province|省份"):
        facts_from_dict({"case_type": "return", "province": "Atlantis"})


@given(st.sampled_from(sorted(PROVINCES)), st.sampled_from(["", "省", "市"]), st.text(max_size=20))
def test_every_form_of_a_province_gets_the_freight_of_its_short_name(short: str, suffix: str, tail: str) -> None:
    from kefu.policies.aftersales import freight_for

    for form in PROVINCES[short]:
        assert freight_for(POLICY, form + " " + tail) == freight_for(POLICY, short)
    assert facts_from_dict({"case_type": "return", "province": PROVINCES[short][0]}).province == short


def test_courier_queries_are_classed_with_the_sops_steps() -> None:
    """003 快递查询SOP: 正常件 / 疑难件 / 超区件 / 破损丢件 — a logistics case names its class and the
    checklist gains that class's steps (the six steps of R-AS-10 stay); an unknown class is refused."""
    plain = evaluate(POLICY, CaseFacts("logistics_exception"))
    lost = evaluate(POLICY, CaseFacts("logistics_exception", courier_class="damaged_lost"))
    codes_plain = [c for c, _ in plain.checklist]
    codes_lost = [c for c, _ in lost.checklist]
    assert codes_lost[: len(codes_plain)] == codes_plain
    assert codes_lost[len(codes_plain) :] == ["cq_evidence", "cq_settle_buyer", "cq_claim"]
    area = evaluate(POLICY, CaseFacts("lost_parcel", courier_class="out_of_area"))
    assert "cq_confirm_area" in [c for c, _ in area.checklist]
    with pytest.raises(ValueError):
        facts_from_dict({"case_type": "lost_parcel", "courier_class": "whatever"})
    assert facts_from_dict({"case_type": "lost_parcel", "courier_class": "difficult"}).courier_class == "difficult"


def test_yes_no_facts_read_as_meant_and_anything_else_is_an_error() -> None:
    """Review of issue 18: {"misuse": "false"} was read as misuse (a non-empty text is true)."""
    assert facts_from_dict({"case_type": "quality", "misuse": "false"}).misuse is False
    assert facts_from_dict({"case_type": "quality", "misuse": "yes"}).misuse is True
    assert facts_from_dict({"case_type": "quality", "misuse": False}).misuse is False
    assert facts_from_dict({"case_type": "logistics_exception", "seized": "false"}).seized is False
    with pytest.raises(ValueError):
        facts_from_dict({"case_type": "quality", "misuse": "maybe"})
    with pytest.raises(ValueError):
        facts_from_dict({"case_type": "quality", "repairs": "2x"})


# --- R-AS-10 from a courier's trace (issue 21 §2) ------------------------------------------------

_T0 = dt.datetime(2026, 11, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
_hours = st.integers(min_value=0, max_value=24 * 20)


@settings(max_examples=200, deadline=None)
@given(
    shipped=_hours,
    steps=st.lists(st.tuples(_hours, st.sampled_from(["运输中", "到达转运中心", "派送中", "已签收"])), max_size=5),
    now=_hours,
    later=st.integers(min_value=0, max_value=200),
    stall=st.integers(min_value=1, max_value=120),
)
def test_trace_exception_properties(
    shipped: int, steps: list[tuple[int, str]], now: int, later: int, stall: int
) -> None:
    from kefu.policies.aftersales import trace_exception

    def verdict(at: int) -> str | None:
        return trace_exception(
            shipped_at=_T0 + dt.timedelta(hours=shipped),
            steps=[(_T0 + dt.timedelta(hours=h), text) for h, text in steps],
            now=_T0 + dt.timedelta(hours=at),
            stall_hours=stall,
        )

    first = verdict(now)
    if any(text == "已签收" for _h, text in steps):
        assert first is None  # delivered is never an exception
    if first is not None:
        assert verdict(now + later) == first  # silence only grows: an exception stays one
    if steps:
        assert first != "no_tracking"
        assert (first == "delayed") == (
            not any(t == "已签收" for _h, t in steps) and now - max(h for h, _t in steps) > stall
        )
    else:
        assert (first == "no_tracking") == (now - shipped > stall)
