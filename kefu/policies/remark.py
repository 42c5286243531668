"""R-COM-1 order remark (插旗备注): ``物流方式,礼品,其他特殊要求,备注人,备注日期时间``.

The system builds remarks from fields, never free text, and checks imported remarks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .i18n import _, gettext_noop

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


SHIPPING = gettext_noop("Shipping method")
GIFT = gettext_noop("Gift")
SPECIAL = gettext_noop("Special requests")
AUTHOR = gettext_noop("Remark author")


def _clean_part(name: str, value: str) -> str:
    value = (value or "").strip()
    if "," in value or "\uff0c" in value:  # the ASCII or the full-width comma (parse_remark splits on both)
        raise RemarkError(_("%(field)s must not contain a comma") % {"field": _(name)})
    return value


def build_remark(*, shipping: str, gift: str, special: str, author: str, at: dt.datetime) -> str:
    """Build the remark text from its fields (R-COM-1); shipping method and author are required."""
    shipping = _clean_part(SHIPPING, shipping)
    if not shipping:
        raise RemarkError(_("%(field)s is required") % {"field": _(SHIPPING)})
    author = _clean_part(AUTHOR, author)
    if not author:
        raise RemarkError(_("%(field)s is required") % {"field": _(AUTHOR)})
    return Remark(
        shipping=shipping,
        gift=_clean_part(GIFT, gift),
        special=_clean_part(SPECIAL, special),
        author=author,
        at=at.replace(second=0, microsecond=0),
    ).text()


def parse_remark(text: str) -> Remark:
    """Parse a remark; raise RemarkError naming what is wrong. Full-width commas are accepted."""
    parts = [part.strip() for part in (text or "").replace("\uff0c", ",").split(SEPARATOR)]
    if len(parts) != 5:
        raise RemarkError(
            _("A remark has 5 parts (shipping method, gift, special requests, author, date and time); found %(n)s")
            % {"n": len(parts)}
        )
    shipping, gift, special, author, when = parts
    if not shipping:
        raise RemarkError(_("%(field)s is required") % {"field": _(SHIPPING)})
    if not author:
        raise RemarkError(_("%(field)s is required") % {"field": _(AUTHOR)})
    for fmt in _FORMATS:
        try:
            at = dt.datetime.strptime(when, fmt)
            break
        except ValueError:
            continue
    else:
        raise RemarkError(_("The remark's date and time cannot be read: %(value)s") % {"value": when[:40]})
    return Remark(shipping=shipping, gift=gift, special=special, author=author, at=at)


def remark_valid(text: str) -> bool:
    try:
        parse_remark(text)
    except RemarkError:
        return False
    return True
