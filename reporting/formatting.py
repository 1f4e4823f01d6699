"""Numbers for people: thousands separators, percentages, money in the installation currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

# Symbols of the common currencies; any other ISO code is written after the amount.
CURRENCY_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
DASH = "–"  # shown where a value is missing (a rate whose denominator is 0)


def count(value: int | float | Decimal | None) -> str:
    """1234567 -> '1,234,567'; fractional counts (units by weight) keep one decimal."""
    if value is None:
        return DASH
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.1f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction in [0, 1] as a percentage: 0.1234 -> '12.3 %'."""
    if value is None:
        return DASH
    return f"{float(value) * 100:,.{digits}f} %"


def points(value: float | None) -> str:
    """A difference of two fractions in percentage points, signed: 0.012 -> '+1.2 pp'."""
    if value is None:
        return DASH
    return f"{float(value) * 100:+,.2f} pp"


def money(value: float | Decimal | None, currency: str, cents: bool = False) -> str:
    """An amount in `currency`: '₽1,234,568' (or '1,234,568 CHF' for a code without a symbol)."""
    if value is None:
        return DASH
    number = float(value)
    text = f"{abs(number):,.2f}" if cents else f"{abs(number):,.0f}"
    sign = "−" if number < 0 and text.strip("0.,") else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def p_value_in_words(p_value: float | None, lift_abs: float | None) -> str:
    """What a two-sided test at the 5 % level says, for someone who does not read p-values."""
    if p_value is None:
        return "not tested (no control group or no members)"
    if p_value >= 0.05:
        return f"no significant difference (p = {p_value:.2f})"
    direction = "higher" if (lift_abs or 0) > 0 else "lower"
    shown = "< 0.001" if p_value < 0.001 else f"= {p_value:.3f}"
    return f"significantly {direction} than control (p {shown})"


def when(value: datetime | date | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
