"""Account-local time as integer seconds.

RetailCRM dates are naive local times of the account's zone. Internally the emulator keeps them
as "local epoch seconds": the naive local date-time read as if it were UTC. That makes arithmetic
and formatting cheap and independent of the machine's zone.
"""

from __future__ import annotations

import calendar
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DAY = 86_400


def to_ts(moment: datetime | date) -> int:
    """Local epoch seconds of a naive local datetime (or of midnight of a date)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return calendar.timegm(moment.timetuple())


def fmt(ts: int) -> str:
    """"Y-m-d H:i:s" of local epoch seconds."""
    return time.strftime(DATETIME_FORMAT, time.gmtime(ts))


def fmt_date(ts: int) -> str:
    """"Y-m-d" of local epoch seconds."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def parse(text: str, *, end_of_day: bool = False) -> int:
    """Parse "Y-m-d H:i:s" or "Y-m-d"; a bare date means its first (or, with end_of_day, last) second.

    Raises ValueError on anything else.
    """
    text = text.strip()
    try:
        return to_ts(datetime.strptime(text, DATETIME_FORMAT))
    except ValueError:
        day = to_ts(datetime.strptime(text, "%Y-%m-%d"))
        return day + DAY - 1 if end_of_day else day


def month_start(year: int, month: int) -> int:
    """Local epoch seconds of the first second of a month."""
    return calendar.timegm((year, month, 1, 0, 0, 0))


def month_key(ts: int) -> str:
    """"YYYY-MM" of local epoch seconds."""
    return time.strftime("%Y-%m", time.gmtime(ts))


def now_local(timezone: str) -> int:
    """The current local epoch seconds in `timezone`."""
    return to_ts(datetime.now(ZoneInfo(timezone)).replace(tzinfo=None))


def today_local(timezone: str) -> date:
    """Today's date in `timezone`."""
    return datetime.now(ZoneInfo(timezone)).date()
