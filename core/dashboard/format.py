"""How the dashboard writes numbers, money, changes, date ranges and times (no Streamlit here)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "UAH": "₴", "BYN": "Br", "GBP": "£", "CNY": "¥"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NONE = "—"


def count(value: int | None) -> str:
    """A count with thousands separators: 1447 -> "1,447"."""
    return _NONE if value is None else f"{int(value):,}"


def money(amount: Decimal | str | float | int | None, currency: str | None) -> str:
    """Money rounded to whole units with the currency sign: "1,234,568 ₽"; unknown codes are written out."""
    if amount is None:
        return _NONE
    rounded = Decimal(str(amount)).quantize(Decimal("1"))
    sign = CURRENCY_SIGNS.get((currency or "").upper(), currency or "")
    return f"{rounded:,} {sign}".rstrip()


def signed_count(value: int | None) -> str:
    """A change in a count: "+284", "-12", "0"."""
    if value is None:
        return _NONE
    return f"+{value:,}" if value > 0 else (f"-{abs(value):,}" if value < 0 else "0")


def signed_money(amount: Decimal | str | float | int | None, currency: str | None) -> str:
    """A change in money: "+1,234 ₽", "-56 ₽"."""
    if amount is None:
        return _NONE
    value = Decimal(str(amount))
    text = money(abs(value), currency)
    return text if text.startswith("0 ") or text == "0" else ("+" if value > 0 else "-") + text


def percent(value: float | None) -> str:
    """A relative change given in percent: 24.42 -> "+24.4%"; None (no base) -> "—"."""
    if value is None:
        return _NONE
    rounded = round(float(value), 1)
    if rounded == 0:
        return "0.0%"
    return f"{'+' if rounded > 0 else '-'}{abs(rounded):,.1f}%"


def change(delta: int | None, delta_pct: float | None) -> str:
    """A count change with its percentage: "+284 (+24.4%)"."""
    if delta is None:
        return _NONE
    return f"{signed_count(delta)} ({percent(delta_pct)})" if delta_pct is not None else signed_count(delta)


def day_range(first: date, last: date) -> str:
    """An inclusive range of days, as short as it stays unambiguous: "1-15 Nov 2025", "1 Nov 2025"."""
    if first == last:
        return f"{first.day} {_MONTHS[first.month - 1]} {first.year}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}-{last.day} {_MONTHS[last.month - 1]} {last.year}"
    if first.year == last.year:
        return f"{first.day} {_MONTHS[first.month - 1]} - {last.day} {_MONTHS[last.month - 1]} {last.year}"
    return f"{first.day} {_MONTHS[first.month - 1]} {first.year} - {last.day} {_MONTHS[last.month - 1]} {last.year}"


def span(start: datetime, end: datetime) -> str:
    """A half-open local range `[start, end)` written as its inclusive days."""
    return day_range(start.date(), (end - timedelta(microseconds=1)).date())


def month_name(year: int, month: int) -> str:
    """ "Nov 2025"."""
    return f"{_MONTHS[month - 1]} {year}"


def timestamp(moment: datetime | None) -> str:
    """A date-time to the minute, "2025-11-15 14:03"; "never" when missing."""
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def duration(seconds: float | None) -> str:
    """A short duration: "850 ms", "12.3 s", "4 min 05 s", "2 h 07 min", "3 d 4 h"."""
    if seconds is None:
        return _NONE
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def utc_to_local(moment: datetime | None, timezone: str) -> datetime | None:
    """A naive UTC bookkeeping time as naive local time of `timezone`."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
