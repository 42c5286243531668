"""Warranty verdicts R-SVC-1 … R-SVC-5: the seed's rules as worked examples, and properties (hypothesis)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.policies import handbook
from kefu.policies.warranty import CAUSES, Facts, Return, add_months, evaluate, facts_from_dict

POLICY = handbook.load_preset()
D = dt.date


def test_the_unit_is_covered_a_year_from_purchase_r_svc_1() -> None:
    """整机免费保修一年: bought 2026-01-10, covered to 2027-01-10 (the Civil Code's count: from the next
    day to the same day a year later); a request that day is free, the next day paid."""
    v = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2027, 1, 10)))
    assert (v.in_warranty, v.warranty_ends, v.charge, v.paid_reasons) == (True, D(2027, 1, 10), "free", [])
    assert v.rules == ["R-SVC-1"] and v.depreciation is None
    late = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2027, 1, 11)))
    assert (late.in_warranty, late.charge, late.paid_reasons) == (False, "paid", ["out_of_warranty"])
    assert late.rules == ["R-SVC-1", "R-SVC-2"]


def test_accessories_are_covered_half_a_year_r_svc_1() -> None:
    """附件免费保修半年 (连接线、遥控器): a remote bought 2026-01-10 is out of warranty on 2026-07-11."""
    assert evaluate(POLICY, Facts("accessory", D(2026, 1, 10), D(2026, 7, 10))).charge == "free"
    v = evaluate(POLICY, Facts("accessory", D(2026, 1, 10), D(2026, 7, 11)))
    assert v.warranty_ends == D(2026, 7, 10) and v.charge == "paid"


def test_a_project_agreement_extends_the_term_at_most_to_36_months_r_svc_1() -> None:
    """行业工程采购用户 per contract, 最高是3年; their accessories 一年; an agreement never shortens the term."""
    assert evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 1, 10), agreement_months=24)).months == 24
    capped = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 1, 10), agreement_months=60))
    assert capped.months == 36 and capped.warranty_ends == D(2029, 1, 10)
    assert evaluate(POLICY, Facts("accessory", D(2026, 1, 10), D(2026, 1, 10), agreement_months=36)).months == 12
    assert evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 1, 10), agreement_months=3)).months == 12


def test_a_month_end_purchase_ends_on_the_months_last_day() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    one_month = {**POLICY, "service": {**POLICY["service"], "warranty_unit_months": 1}}
    assert evaluate(one_month, Facts("unit", D(2026, 1, 31), D(2026, 2, 1))).warranty_ends == D(2026, 2, 28)
    assert evaluate(POLICY, Facts("unit", D(2024, 2, 29), D(2024, 3, 1))).warranty_ends == D(2025, 2, 28)


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_each_paid_cause_makes_a_repair_in_warranty_paid_r_svc_2(cause: str) -> None:
    """收费修理: 使用维护保管不当, 型号不符, 涂改, 不可抗拒力, 降价销售 — even inside the warranty."""
    v = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 3, 1), causes=(cause,), repairs_in_warranty=5))
    assert v.in_warranty and v.charge == "paid" and v.paid_reasons == [cause] and "R-SVC-2" in v.rules
    assert not v.replacement_due  # a paid repair is never a free replacement


def test_twice_repaired_and_still_failing_is_replaced_r_svc_3() -> None:
    """拆机修理两次后, 仍不能正常使用的, 免费更换同型号."""
    once = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 6, 1), repairs_in_warranty=1))
    assert not once.replacement_due
    twice = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 6, 1), repairs_in_warranty=2))
    assert twice.replacement_due and twice.replacement_reason == "repeated_repairs" and "R-SVC-3" in twice.rules
    out = evaluate(POLICY, Facts("unit", D(2025, 1, 10), D(2026, 6, 1), repairs_in_warranty=2))
    assert not out.replacement_due  # out of warranty: R-SVC-3 is a warranty promise


def test_not_repaired_within_60_days_is_replaced_r_svc_4() -> None:
    """在保修期内, 60天内未修复, 可为消费者更换同型号."""
    assert not evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 3, 1), request_open_days=59)).replacement_due
    v = evaluate(POLICY, Facts("unit", D(2026, 1, 10), D(2026, 3, 1), request_open_days=60))
    assert v.replacement_due and v.replacement_reason == "not_repaired_in_time" and v.rules[-1] == "R-SVC-4"


def test_a_return_after_use_pays_depreciation_less_repair_days_r_svc_5() -> None:
    """折旧费计算自开具发票之日起至退货之日, 扣除修理占用的时间: 60 days − 10 in repair = 50 days × 0.1% × ¥1,000."""
    ret = Return(D(2026, 1, 1), D(2026, 3, 2), Decimal("1000.00"), repair_days=10, category="投影机")
    v = evaluate(POLICY, Facts("unit", D(2026, 1, 1), D(2026, 3, 2), return_=ret))
    assert v.depreciation == Decimal("50.00") and "R-SVC-5" in v.rules
    assert v.as_dict()["depreciation"] == "50.00"
    # the category's own rate wins over the default row
    policy = copy.deepcopy(POLICY)
    policy["service"]["depreciation"].append({"category": "投影机", "percent_per_day": "0.25"})
    assert evaluate(policy, Facts("unit", D(2026, 1, 1), D(2026, 3, 2), return_=ret)).depreciation == Decimal("125.00")
    # never more than the price
    long = Return(D(2020, 1, 1), D(2026, 3, 2), Decimal("1000.00"))
    worn = evaluate(POLICY, Facts("unit", D(2020, 1, 1), D(2026, 3, 2), return_=long))
    assert worn.depreciation == Decimal("1000.00")


def test_facts_from_a_body_are_checked() -> None:
    good = {"part": "unit", "purchase_date": "2026-01-10", "request_date": "2026-02-01", "causes": ["misuse"]}
    assert facts_from_dict(good).causes == ("misuse",)
    zero = {**good, "return": {"invoice_date": "2026-01-10", "return_date": "2026-02-01", "price": "-0"}}
    ret = facts_from_dict(zero).return_
    assert ret is not None and str(ret.price) == "0.00"  # never "-0.00"
    for bad in (
        {**good, "part": "lamp"},
        {**good, "purchase_date": "2026-13-01"},
        {**good, "request_date": "2025-12-31"},
        {**good, "causes": ["weather"]},
        {**good, "causes": "misuse"},
        {**good, "repairs_in_warranty": -1},
        {**good, "request_open_days": "x"},
        {**good, "return": {"invoice_date": "2026-01-10", "return_date": "2026-01-01", "price": "10"}},
        {**good, "return": {"invoice_date": "2026-01-10", "return_date": "2026-02-01", "price": "1e30"}},
        {**good, "return": {"invoice_date": "2026-01-10", "return_date": "2026-02-01", "price": "NaN"}},
        {**good, "return": {"invoice_date": "2026-01-10", "return_date": "2026-02-01", "price": "1_000"}},
        {**good, "return": {"invoice_date": "2026-01-10", "return_date": "2026-02-01", "price": "-1"}},
    ):
        with pytest.raises(ValueError):
            facts_from_dict(bad)


dates = st.dates(min_value=D(2015, 1, 1), max_value=D(2035, 12, 31))
facts = st.builds(
    Facts,
    part=st.sampled_from(["unit", "accessory"]),
    purchase_date=dates,
    request_date=dates,
    agreement_months=st.none() | st.integers(1, 120),
    causes=st.lists(st.sampled_from(sorted(CAUSES)), max_size=3).map(tuple),
    repairs_in_warranty=st.integers(0, 5),
    request_open_days=st.integers(0, 200),
)


@settings(max_examples=300)
@given(facts, st.integers(1, 2000))
def test_a_later_request_never_turns_paid_into_free(f: Facts, later_days: int) -> None:
    before = evaluate(POLICY, f)
    after = evaluate(POLICY, Facts(**{**f.__dict__, "request_date": f.request_date + dt.timedelta(days=later_days)}))
    if before.charge == "paid":
        assert after.charge == "paid"
    assert not (after.in_warranty and not before.in_warranty)


@settings(max_examples=300)
@given(facts, st.sampled_from(sorted(CAUSES)))
def test_a_paid_cause_always_makes_it_paid_and_never_a_replacement(f: Facts, cause: str) -> None:
    v = evaluate(POLICY, Facts(**{**f.__dict__, "causes": (*f.causes, cause)}))
    assert v.charge == "paid" and cause in v.paid_reasons and not v.replacement_due


@settings(max_examples=300)
@given(facts)
def test_free_means_in_warranty_without_cause_and_the_term_stays_in_bounds(f: Facts) -> None:
    v = evaluate(POLICY, f)
    assert (v.charge == "free") == (v.in_warranty and not f.causes)
    assert 6 <= v.months <= 36 and v.warranty_ends >= f.purchase_date


@settings(max_examples=200)
@given(
    st.decimals(min_value=0, max_value=100000, places=2),
    st.integers(0, 3000),
    st.integers(0, 3000),
    st.integers(0, 400),
)
def test_depreciation_is_between_zero_and_the_price_and_grows_with_use(
    price: Decimal, used: int, more: int, repair: int
) -> None:
    start = D(2026, 1, 1)

    def dep(days: int) -> Decimal:
        ret = Return(start, start + dt.timedelta(days=days), price, repair_days=repair)
        v = evaluate(POLICY, Facts("unit", start, start + dt.timedelta(days=days), return_=ret))
        assert v.depreciation is not None
        return v.depreciation

    first = dep(used)
    assert Decimal(0) <= first <= price
    assert dep(used + more) >= first
