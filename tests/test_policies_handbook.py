"""The handbook policy document: preset, validation by the modules' typed schemas (SPEC principle 1),
R-AS-1 freight lookup."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kefu.core.rulebook import policy_problems
from kefu.imports.address import PROVINCES
from kefu.policies import handbook

PRESET = handbook.load_preset()


def test_preset_is_valid_and_holds_the_seed_numbers() -> None:
    assert policy_problems(PRESET) == []
    att = PRESET["attendance"]
    assert [(s["name"], s["start"], s["end"]) for s in att["shift_types"]] == [
        ("白班", "08:30", "17:30"),
        ("晚班", "17:00", "01:00"),
    ]  # R-WF-1
    assert [(t["min_minutes"], t["max_minutes"], t["red_packet"]) for t in att["late_tiers"]] == [
        (1, 10, "10.00"),
        (11, 20, "20.00"),
        (21, 30, "50.00"),
        (31, 0, "0.00"),
    ]  # R-WF-4
    assert att["late_tiers"][-1]["absence_days"] == "0.5"
    assert att["free_makeups_per_month"] == 3  # R-WF-6
    assert att["full_attendance_bonus"] == "200.00"  # R-WF-13
    assert [t["daily_wages"] for t in att["absence_tiers"]] == ["3", "5", "10", "0"]  # R-WF-12
    assert att["absence_tiers"][-1]["whole_month"] and att["absence_tiers"][-1]["dismissal"]
    assert PRESET["leave"]["rest_days_per_month"] == 2  # R-WF-8
    assert PRESET["leave"]["personal_leave_cap_days_per_year"] == 30  # R-WF-11
    assert PRESET["points"]["yuan_per_point"] == "2.00"  # R-WF-16
    points = {i["code"]: i["points"] for i in PRESET["points"]["items"]}
    assert points["praise_letter"] == 50 and points["noise"] == -2 and points["dress"] == -1  # R-WF-15
    assert PRESET["service"]["warranty_unit_months"] == 12 and PRESET["service"]["warranty_accessory_months"] == 6
    assert PRESET["aftersales"]["no_reason_return_days"] == 7  # R-AS-14


def test_freight_standard_r_as_1() -> None:
    for province in ("江苏", "浙江", "上海"):
        assert handbook.freight_for(PRESET, province) == Decimal("6.00")
    for province in ("新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南"):
        assert handbook.freight_for(PRESET, province) == Decimal("15.00")
    assert handbook.freight_for(PRESET, "广东") == Decimal("10.00")


@given(st.sampled_from(sorted(PROVINCES)))
def test_every_province_has_a_freight_between_6_and_15(province: str) -> None:
    assert Decimal("6") <= handbook.freight_for(PRESET, province) <= Decimal("15")


def test_toml_round_trip_is_lossless() -> None:
    assert handbook.parse_toml(handbook.dump_toml(PRESET)) == PRESET


def test_validation_names_each_problem_by_path() -> None:
    doc = copy.deepcopy(PRESET)
    doc["attendance"]["late_tiers"][1]["min_minutes"] = 12  # gap after tier 1
    doc["attendance"]["full_attendance_bonus"] = 200.5  # a float, not a money string
    doc["attendance"]["shift_types"][0]["start"] = "8:30"
    doc["aftersales"]["freight"][1]["provinces"].append("江苏")  # twice
    del doc["leave"]["rest_days_per_month"]
    problems = policy_problems(doc)
    joined = "\n".join(problems)
    assert "attendance.late_tiers[2].min_minutes" in joined
    assert "attendance.full_attendance_bonus" in joined
    assert "attendance.shift_types[1].start" in joined
    assert "aftersales.freight[2].provinces: 江苏 出现了两次" in joined
    assert "leave.rest_days_per_month: 缺失" in joined  # zh-Hans is the default language


def test_last_late_tier_must_be_open_ended() -> None:
    doc = copy.deepcopy(PRESET)
    doc["attendance"]["late_tiers"][-1]["max_minutes"] = 60
    assert any("不设上限" in p for p in policy_problems(doc))  # "open-ended"


@given(
    st.integers(min_value=-5, max_value=400),
    st.sampled_from(["leave.rest_days_per_month", "service.repair_max_days", "aftersales.exchange_days"]),
)
def test_whole_number_fields_accept_exactly_the_non_negative(value: int, path: str) -> None:
    doc = copy.deepcopy(PRESET)
    section, key = path.split(".")
    doc[section][key] = value
    problems = [p for p in policy_problems(doc) if p.startswith(path)]
    assert (problems == []) == (value >= 0)


@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=5, unique=True))
def test_contiguous_tiers_validate_and_gapped_ones_do_not(bounds: list[int]) -> None:
    bounds = sorted(bounds)
    tiers = []
    low = 1
    for i, high in enumerate(bounds):
        if high < low:
            continue
        tiers.append(
            {
                "tier": i + 1,
                "min_minutes": low,
                "max_minutes": high,
                "red_packet": "10.00",
                "packets": 5,
                "absence_days": "0",
            }
        )
        low = high + 1
    tiers.append(
        {"tier": 9, "min_minutes": low, "max_minutes": 0, "red_packet": "0.00", "packets": 0, "absence_days": "0.5"}
    )
    doc = copy.deepcopy(PRESET)
    doc["attendance"]["late_tiers"] = tiers
    assert [p for p in policy_problems(doc) if "late_tiers" in p] == []
    if len(tiers) > 1:
        tiers[1]["min_minutes"] += 1
        assert any("首尾相接" in p for p in policy_problems(doc))  # "without gaps"


def test_a_version_saved_before_the_warning_item_existed_gets_it_and_keeps_its_own_items() -> None:
    """R-WF-17 (clarified) added the on-the-spot warning to the preset's point items; a version saved
    before has a catalogue without any warning item. It gets the preset's warning item; its own items
    (here a changed dress penalty and a removed one) stay as saved."""
    old = copy.deepcopy(handbook.load_preset())
    old["points"]["items"] = [i for i in old["points"]["items"] if i["category"] != "warning"]
    old["points"]["items"][0]["points"] = -3
    removed = old["points"]["items"].pop(1)
    doc = handbook.with_defaults(old)
    codes = [i["code"] for i in doc["points"]["items"]]
    assert "warning_on_spot" in codes and removed["code"] not in codes
    assert doc["points"]["items"][0]["points"] == -3
    assert policy_problems(doc) == []
    # a version that already has a warning item is left as it is
    again = handbook.with_defaults(doc)
    assert [i["code"] for i in again["points"]["items"]] == codes
