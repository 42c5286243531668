"""R-COM-1: the order remark is built from fields and checked on import."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.policies.remark import RemarkError, build_remark, parse_remark, remark_valid

part = st.text(
    alphabet=st.characters(blacklist_characters=",\uff0c\n\r", blacklist_categories=("Cs", "Cc", "Zs")), max_size=12
)


def test_worked_example() -> None:
    text = build_remark(
        shipping="顺丰", gift="赠品毛巾", special="周末送", author="张敏", at=dt.datetime(2026, 10, 5, 9, 30, 44)
    )
    assert text == "顺丰,赠品毛巾,周末送,张敏,2026-10-05 09:30"
    parsed = parse_remark(text)
    assert parsed.shipping == "顺丰" and parsed.author == "张敏" and parsed.at == dt.datetime(2026, 10, 5, 9, 30)


@given(
    part.filter(bool),
    part,
    part,
    part.filter(bool),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 1, 1)),
)
def test_build_then_parse_round_trips(shipping: str, gift: str, special: str, author: str, at: dt.datetime) -> None:
    text = build_remark(shipping=shipping, gift=gift, special=special, author=author, at=at)
    parsed = parse_remark(text)
    assert (parsed.shipping, parsed.gift, parsed.special, parsed.author) == (
        shipping.strip(),
        gift.strip(),
        special.strip(),
        author.strip(),
    )
    assert parsed.at == at.replace(second=0, microsecond=0)


@pytest.mark.parametrize("comma", [",", "\uff0c"])
def test_a_part_with_either_comma_is_refused(comma: str) -> None:
    # a full-width comma in a part would split it in two when the remark is read back
    with pytest.raises(RemarkError):
        build_remark(shipping="顺丰", gift=f"毛巾{comma}杯子", special="", author="张敏", at=dt.datetime(2026, 10, 5))


@pytest.mark.parametrize("text", ["顺丰 加急", "顺丰,,,张敏", ",无,无,张敏,2026-10-05 09:30", "顺丰,无,无,张敏,昨天"])
def test_bad_remarks_are_rejected(text: str) -> None:
    assert not remark_valid(text)


def test_full_width_commas_are_accepted_on_import() -> None:
    assert remark_valid("圆通,无,无,李婷,2026-10-05 09:30")


def test_a_comma_inside_a_field_is_refused() -> None:
    with pytest.raises(RemarkError):
        build_remark(shipping="顺丰,加急", gift="", special="", author="张敏", at=dt.datetime(2026, 1, 1))


def test_a_remark_typed_with_full_width_commas_parses() -> None:
    parsed = parse_remark("顺丰\uff0c无\uff0c无\uff0c张三\uff0c2026-11-28 10:00")
    assert (parsed.shipping, parsed.author) == ("顺丰", "张三")
