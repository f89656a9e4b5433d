"""Period texts the pages ask the core for: KPI pairs, the trend window, weekday alignment, drill ranges.

Only period *texts* in the core's own grammar (`core.periods`) are built here; the core resolves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from core.analytics.answers import PeriodInfo

TREND_MONTHS = 24
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def month_text(year: int, month: int) -> str:
    """ "2025-11"."""
    return f"{year:04d}-{month:02d}"


def day_range_text(first: date, last: date) -> str:
    """An inclusive range of days in the core's grammar: "2025-11-01..2025-11-15"."""
    return f"{first.isoformat()}..{last.isoformat()}"


def parse_month(text: str) -> tuple[int, int] | None:
    """(year, month) of a "YYYY-MM" text, else None."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return int(match.group(1)), int(match.group(2))


def parse_day_range(text: str) -> tuple[date, date] | None:
    """The days of a "YYYY-MM-DD..YYYY-MM-DD" text, else None."""
    match = _DAY_RANGE.match(text.strip())
    if not match:
        return None
    try:
        first, last = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
    except ValueError:
        return None
    return (first, last) if first <= last else None


def shift_months(year: int, month: int, months: int) -> tuple[int, int]:
    """The month `months` away (negative: earlier)."""
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def months_between(first: date, last: date) -> list[str]:
    """Every month from `first`'s to `last`'s, newest first ("2025-11", "2025-10", ...)."""
    months = []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        months.append(month_text(year, month))
        year, month = shift_months(year, month, -1)
    return months


def trend_period(today: date, months: int = TREND_MONTHS) -> str:
    """The last `months` months up to and including the current one: "2024-12..2026-11"."""
    first = shift_months(today.year, today.month, -(months - 1))
    return f"{month_text(*first)}..{month_text(today.year, today.month)}"


@dataclass(frozen=True)
class KpiPair:
    """One KPI tile: the current period against the same period a year earlier."""

    title: str
    current: str
    previous: str


def kpi_pairs(today: date) -> list[KpiPair]:
    """Month to date, last month and year to date, each against the same period a year earlier.

    Running periods are given whole; the core cuts both sides to the same elapsed time.
    """
    last_year, last_month = shift_months(today.year, today.month, -1)
    return [
        KpiPair("Month to date", month_text(today.year, today.month), month_text(today.year - 1, today.month)),
        KpiPair("Last month", month_text(last_year, last_month), month_text(last_year - 1, last_month)),
        KpiPair("Year to date", str(today.year), str(today.year - 1)),
    ]


def weekday_aligned_start(previous_first: date, current_first: date) -> date:
    """The day nearest to `previous_first` (within 3 days) on the same weekday as `current_first`.

    For a period one year back that is the 364-day shift: Mondays line up with Mondays.
    """
    offset = (current_first.weekday() - previous_first.weekday()) % 7
    return previous_first + timedelta(days=offset - 7 if offset > 3 else offset)


def aligned_previous(previous: PeriodInfo, current: PeriodInfo) -> str:
    """The previous period's days shifted to line up weekdays with the current period, as a day range."""
    first = weekday_aligned_start(previous.start.date(), current.start.date())
    return day_range_text(first, first + (previous.last_day - previous.start.date()))


def drill_period(period: PeriodInfo) -> str:
    """The period text that lists exactly the days behind a figure (a cut period becomes its days)."""
    if period.unit in ("month", "year", "quarter", "day") and period.text[:1].isdigit() and ".." not in period.text:
        return period.text
    return day_range_text(period.start.date(), period.last_day)
