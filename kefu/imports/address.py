"""Province and city from a Chinese receiver address (``省 市 区 详细地址(邮编)``)."""

from __future__ import annotations

from kefu.policies.regions import _BY_PREFIX, PROVINCES

__all__ = ["PROVINCES", "province_of"]


def province_of(address: str) -> tuple[str, str]:
    """(province short name, city) of an address; ("", "") when no province is recognised."""
    text = (address or "").strip()
    for form, short in _BY_PREFIX:
        if text.startswith(form):
            rest = text[len(form) :].strip()
            city = rest.split()[0] if rest.split() else ""
            if short in {"北京", "天津", "上海", "重庆"} and (not city or not city.endswith("市")):
                city = PROVINCES[short][0]
            return short, city[:32]
    return "", ""
