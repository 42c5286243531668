"""R-COM-1 order remark (插旗备注): ``物流方式,礼品,其他特殊要求,备注人,备注日期时间``.

The system builds remarks from fields, never free text, and checks imported remarks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SEPARATOR = ","
_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d %H:%M")


@dataclass(frozen=True)
class Remark:
    shipping: str
    gift: str
    special: str
    author: str
    at: dt.datetime

    def text(self) -> str:
        return SEPARATOR.join([self.shipping, self.gift, self.special, self.author, self.at.strftime("%Y-%m-%d %H:%M")])


class RemarkError(ValueError):
    pass


def _clean_part(name: str, value: str) -> str:
    value = (value or "").strip()
    if "," in value or "," in value:
        raise RemarkError(f"{name}: 不能包含逗号 (must not contain a comma)")
    return value


def build_remark(*, shipping: str, gift: str, special: str, author: str, at: dt.datetime) -> str:
    """Build the remark text from its fields (R-COM-1); shipping method and author are required."""
    shipping = _clean_part("物流方式", shipping)
    if not shipping:
        raise RemarkError("物流方式: 必填 (required)")
    author = _clean_part("备注人", author)
    if not author:
        raise RemarkError("备注人: 必填 (required)")
    return Remark(
        shipping=shipping,
        gift=_clean_part("礼品", gift),
        special=_clean_part("其他特殊要求", special),
        author=author,
        at=at.replace(second=0, microsecond=0),
    ).text()


def parse_remark(text: str) -> Remark:
    """Parse a remark; raise RemarkError naming what is wrong. Full-width commas are accepted."""
    parts = [part.strip() for part in (text or "").replace(",", ",").split(SEPARATOR)]
    if len(parts) != 5:
        raise RemarkError(f"需要5段(物流方式,礼品,其他特殊要求,备注人,备注日期时间),实际{len(parts)}段")
    shipping, gift, special, author, when = parts
    if not shipping:
        raise RemarkError("物流方式为空")
    if not author:
        raise RemarkError("备注人为空")
    for fmt in _FORMATS:
        try:
            at = dt.datetime.strptime(when, fmt)
            break
        except ValueError:
            continue
    else:
        raise RemarkError(f"备注日期时间无法识别: {when!r}")
    return Remark(shipping=shipping, gift=gift, special=special, author=author, at=at)


def remark_valid(text: str) -> bool:
    try:
        parse_remark(text)
    except RemarkError:
        return False
    return True
