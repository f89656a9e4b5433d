"""Periods as people say them ("2025-11", "last_month", "2024-Q4..2025-Q1"), resolved to local ranges.

A period is a half-open range `[start, end)` of naive date-times in the account's time zone, the same
convention as the stored orders, so "November 2025" is `[2025-11-01 00:00, 2025-12-01 00:00)` whatever
the machine's time zone is. Relative forms ("today", "last_7_days") are resolved against "now" in the
account's time zone; `last_N_days` is the N calendar days ending today, today included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PeriodUnit = Literal["year", "quarter", "month", "day", "range", "rolling"]

ACCEPTED_FORMS = (
    "YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD, A..B (a range of any two of these, inclusive), "
    "today, yesterday, this_month, last_month, this_year, last_year, last_N_days"
)
MAX_ROLLING_DAYS = 3660

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-[qQ](\d+)$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ROLLING = re.compile(r"^last_(\d+)_days?$")


class PeriodError(ValueError):
    """A period that cannot be understood; the message names it and lists the accepted forms."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}. Accepted: {ACCEPTED_FORMS}")


@dataclass(frozen=True)
class Period:
    """A resolved period: naive account-local `[start, end)` plus what it was asked as."""

    text: str
    start: datetime
    end: datetime
    timezone: str
    unit: PeriodUnit

    def days(self) -> int:
        """Number of calendar days the period touches."""
        return (self.end.date() - self.start.date()).days + (1 if self.end.time() != datetime.min.time() else 0)

    @property
    def first_day(self) -> date:
        """The first local day of the period."""
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The last local day of the period (inclusive)."""
        return (self.end - timedelta(microseconds=1)).date()

    def is_in_progress(self, now_local: datetime) -> bool:
        """True when `now_local` (naive, account-local) falls inside the period."""
        return self.start <= now_local < self.end

    def elapsed(self, now_local: datetime) -> timedelta:
        """How much of the period has passed at `now_local`, between zero and its whole length."""
        return min(max(now_local - self.start, timedelta(0)), self.end - self.start)


def local_now(timezone: str, now: datetime | None = None) -> datetime:
    """Now (or `now`) as a naive date-time in `timezone`; a naive `now` is taken as already local."""
    if now is None:
        return datetime.now(zone_of(timezone)).replace(tzinfo=None)
    if now.tzinfo is None:
        return now
    return now.astimezone(zone_of(timezone)).replace(tzinfo=None)


def zone_of(timezone: str) -> ZoneInfo:
    """The `ZoneInfo` of an IANA name, or a `PeriodError` naming it."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(f"`{timezone}` is not a time zone; use an IANA name like Europe/Moscow") from None


def parse_period(text: str, timezone: str, *, now: datetime | None = None) -> Period:
    """Resolve `text` in the account `timezone`; relative forms use `now` (default: the real now)."""
    zone_of(timezone)
    cleaned = (text or "").strip()
    if not cleaned:
        raise PeriodError("an empty period is not a period")
    if ".." in cleaned:
        left, _, right = cleaned.partition("..")
        if not left.strip() or not right.strip() or ".." in right:
            raise PeriodError(f"`{cleaned}` is not a range; use A..B, e.g. 2025-01..2025-03")
        first = _single(left.strip(), timezone, now)
        last = _single(right.strip(), timezone, now)
        if last.end <= first.start:
            raise PeriodError(f"`{cleaned}` ends before it starts; put the earlier period first")
        return Period(cleaned, first.start, max(first.end, last.end), timezone, "range")
    return _single(cleaned, timezone, now)


def _single(text: str, timezone: str, now: datetime | None) -> Period:
    lowered = text.lower()
    if lowered[:1].isdigit():
        return _absolute(text, timezone)
    return _relative(lowered, text, timezone, local_now(timezone, now))


def _absolute(text: str, timezone: str) -> Period:
    if match := _YEAR.match(text):
        year = _year(match.group(1), text)
        return Period(text, datetime(year, 1, 1), datetime(year + 1, 1, 1), timezone, "year")
    if match := _QUARTER.match(text):
        year, quarter = _year(match.group(1), text), int(match.group(2))
        if not 1 <= quarter <= 4:
            raise PeriodError(f"`{text}` is not a quarter; use YYYY-Qn with n from 1 to 4")
        start = datetime(year, 3 * quarter - 2, 1)
        return Period(text, start, _add_months(start, 3), timezone, "quarter")
    if match := _MONTH.match(text):
        year, month = _year(match.group(1), text), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"`{text}` is not a month; use YYYY-MM")
        start = datetime(year, month, 1)
        return Period(text, start, _add_months(start, 1), timezone, "month")
    if match := _DAY.match(text):
        try:
            day = date(_year(match.group(1), text), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise PeriodError(f"`{text}` is not a date; use YYYY-MM-DD") from None
        start = datetime.combine(day, datetime.min.time())
        return Period(text, start, start + timedelta(days=1), timezone, "day")
    raise PeriodError(f"`{text}` is not a period")


def _relative(lowered: str, text: str, timezone: str, now_local: datetime) -> Period:
    today = datetime.combine(now_local.date(), datetime.min.time())
    month_start = today.replace(day=1)
    year_start = today.replace(month=1, day=1)
    if lowered == "today":
        return Period(text, today, today + timedelta(days=1), timezone, "day")
    if lowered == "yesterday":
        return Period(text, today - timedelta(days=1), today, timezone, "day")
    if lowered == "this_month":
        return Period(text, month_start, _add_months(month_start, 1), timezone, "month")
    if lowered == "last_month":
        return Period(text, _add_months(month_start, -1), month_start, timezone, "month")
    if lowered == "this_year":
        return Period(text, year_start, year_start.replace(year=year_start.year + 1), timezone, "year")
    if lowered == "last_year":
        return Period(text, year_start.replace(year=year_start.year - 1), year_start, timezone, "year")
    if match := _ROLLING.match(lowered):
        days = int(match.group(1))
        if not 1 <= days <= MAX_ROLLING_DAYS:
            raise PeriodError(f"`{text}` must cover 1 to {MAX_ROLLING_DAYS} days")
        end = today + timedelta(days=1)
        return Period(text, end - timedelta(days=days), end, timezone, "rolling")
    raise PeriodError(f"`{text}` is not a period")


def _year(digits: str, text: str) -> int:
    year = int(digits)
    if not 1900 <= year <= 2999:
        raise PeriodError(f"`{text}` has a year outside 1900-2999")
    return year


def _add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)
