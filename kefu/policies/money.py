"""Money, once (issue 19): CNY amounts are Decimals with two places, bounded by what their column
holds, and typed amounts are read one way. Pure Python, so the rules, the file readers and the apps
share it (``kefu.core.params.amount_param`` reads a form's text through ``parse``).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def column_limit(digits: int) -> Decimal:
    """The largest amount a ``DecimalField(max_digits=digits, decimal_places=2)`` holds."""
    return Decimal(10) ** (digits - 2) - CENT


MONEY_MAX = column_limit(12)  # the ledgers' and orders' money columns
PRICE_MAX = column_limit(10)  # prices, salaries and the service amounts

_TYPED = re.compile(r"-?(?:[0-9]{1,13}|[0-9]{1,3}(?:,[0-9]{3}){1,4})(?:\.[0-9]{1,2})?")


def parse(text: str | None) -> Decimal | None:
    """An amount as people type it — full-width digits, a ¥, commas grouping thousands (1,250.00) —
    with at most two decimals; None when it is not one (never rounded or regrouped quietly: "12,50"
    is not 1,250)."""
    cleaned = unicodedata.normalize("NFKC", text or "").replace("¥", "").strip()
    if not _TYPED.fullmatch(cleaned):
        return None
    return Decimal(cleaned.replace(",", ""))


def cents(value: Decimal) -> Decimal:
    """Rounded half-up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def within(value: Decimal, top: Decimal = MONEY_MAX) -> bool:
    """A finite amount from 0 to ``top``."""
    return value.is_finite() and Decimal(0) <= value <= top
