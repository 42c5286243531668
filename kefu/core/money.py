"""CNY amounts as Decimal with two places; never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: object) -> Decimal:
    """Parse a money value (str, int, Decimal) into a 2-place Decimal; raise ValueError otherwise."""
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    try:
        amount = Decimal(str(value).replace(",", "").replace("¥", "").strip() or "0")
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(amount: Decimal) -> str:
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"
