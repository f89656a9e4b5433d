"""Periods: every accepted form, ranges, relative forms against an injected now, DST zones, errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.periods import ACCEPTED_FORMS, PeriodError, parse_period

MSK = "Europe/Moscow"
NY = "America/New_York"


@pytest.mark.parametrize(
    ("text", "start", "end", "unit"),
    [
        ("2025", datetime(2025, 1, 1), datetime(2026, 1, 1), "year"),
        ("2024-Q1", datetime(2024, 1, 1), datetime(2024, 4, 1), "quarter"),
        ("2024-q4", datetime(2024, 10, 1), datetime(2025, 1, 1), "quarter"),
        ("2025-11", datetime(2025, 11, 1), datetime(2025, 12, 1), "month"),
        ("2025-12", datetime(2025, 12, 1), datetime(2026, 1, 1), "month"),
        ("2024-02-29", datetime(2024, 2, 29), datetime(2024, 3, 1), "day"),
        ("2024-12-31", datetime(2024, 12, 31), datetime(2025, 1, 1), "day"),
        (" 2025-11 ", datetime(2025, 11, 1), datetime(2025, 12, 1), "month"),
    ],
)
def test_absolute_forms_resolve_to_half_open_local_ranges(text: str, start: datetime, end: datetime, unit: str) -> None:
    period = parse_period(text, MSK)
    assert (period.start, period.end, period.unit, period.timezone) == (start, end, unit, MSK)
    assert period.last_day == (end - timedelta(days=1)).date()
    assert period.days() == (end - start).days


def test_quarter_and_month_lengths_follow_the_calendar() -> None:
    assert parse_period("2024-Q1", MSK).days() == 91  # leap year
    assert parse_period("2025-Q1", MSK).days() == 90
    assert parse_period("2024-02", MSK).days() == 29
    assert parse_period("2025-02", MSK).days() == 28
    assert parse_period("2024", MSK).days() == 366


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024-11..2025-01", datetime(2024, 11, 1), datetime(2025, 2, 1)),
        ("2025-01-15..2025-01-20", datetime(2025, 1, 15), datetime(2025, 1, 21)),
        ("2024..2025-Q1", datetime(2024, 1, 1), datetime(2025, 4, 1)),
        ("2024-12-31..2025", datetime(2024, 12, 31), datetime(2026, 1, 1)),
        ("2025-03..2025-03", datetime(2025, 3, 1), datetime(2025, 4, 1)),
    ],
)
def test_range_includes_the_whole_last_unit(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text, MSK)
    assert (period.start, period.end, period.unit) == (start, end, "range")


NOW = datetime(2025, 3, 1, 0, 30)  # local; just after a month (and leap-day-less February) ended


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("today", datetime(2025, 3, 1), datetime(2025, 3, 2)),
        ("yesterday", datetime(2025, 2, 28), datetime(2025, 3, 1)),
        ("this_month", datetime(2025, 3, 1), datetime(2025, 4, 1)),
        ("last_month", datetime(2025, 2, 1), datetime(2025, 3, 1)),
        ("this_year", datetime(2025, 1, 1), datetime(2026, 1, 1)),
        ("last_year", datetime(2024, 1, 1), datetime(2025, 1, 1)),
        ("last_7_days", datetime(2025, 2, 23), datetime(2025, 3, 2)),
        ("last_1_day", datetime(2025, 3, 1), datetime(2025, 3, 2)),
        ("LAST_MONTH", datetime(2025, 2, 1), datetime(2025, 3, 1)),
        ("last_month..this_month", datetime(2025, 2, 1), datetime(2025, 4, 1)),
    ],
)
def test_relative_forms_use_the_injected_local_now(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text, MSK, now=NOW)
    assert (period.start, period.end) == (start, end)


def test_relative_forms_across_a_year_boundary() -> None:
    now = datetime(2025, 1, 1, 0, 0, 5)
    assert parse_period("last_month", MSK, now=now).start == datetime(2024, 12, 1)
    assert parse_period("yesterday", MSK, now=now).start == datetime(2024, 12, 31)
    assert parse_period("last_year", MSK, now=now).start == datetime(2024, 1, 1)


def test_aware_now_is_converted_to_the_account_zone_not_the_machine_zone() -> None:
    instant = datetime(2024, 11, 30, 22, 30, tzinfo=timezone.utc)  # 01:30 on Dec 1 in Moscow, 17:30 Nov 30 in NY
    assert parse_period("this_month", MSK, now=instant).start == datetime(2024, 12, 1)
    assert parse_period("this_month", NY, now=instant).start == datetime(2024, 11, 1)
    assert parse_period("today", "Asia/Vladivostok", now=instant).start == datetime(2024, 12, 1)


def test_dst_days_keep_local_calendar_boundaries() -> None:
    # America/New_York falls back on 2024-11-03: that local day lasts 25 hours, but the period is still
    # the local calendar day, and an order at 23:59:59 on Nov 30 is in November, one at 00:00 on Dec 1 is not.
    fall_back = parse_period("2024-11-03", NY)
    assert (fall_back.start, fall_back.end) == (datetime(2024, 11, 3), datetime(2024, 11, 4))
    november = parse_period("2024-11", NY)
    assert november.start <= datetime(2024, 11, 30, 23, 59, 59) < november.end
    assert not november.start <= datetime(2024, 12, 1, 0, 0, 0) < november.end
    # 01:30 local happens twice on Nov 3; both instants resolve to the same local "today".
    first = datetime(2024, 11, 3, 5, 30, tzinfo=timezone.utc)
    second = datetime(2024, 11, 3, 6, 30, tzinfo=timezone.utc)
    assert parse_period("today", NY, now=first) == parse_period("today", NY, now=second)
    # Spring forward: 2025-03-09 has no 02:30 local; "yesterday" seen just after is still March 8.
    after_gap = datetime(2025, 3, 9, 7, 5, tzinfo=timezone.utc)  # 03:05 EDT
    assert parse_period("yesterday", NY, now=after_gap).start == datetime(2025, 3, 8)


def test_in_progress_and_elapsed() -> None:
    period = parse_period("2025-11", MSK)
    assert period.is_in_progress(datetime(2025, 11, 10, 12))
    assert not period.is_in_progress(datetime(2025, 12, 1))
    assert not period.is_in_progress(datetime(2025, 10, 31, 23, 59, 59))
    assert period.elapsed(datetime(2025, 11, 10, 12)) == timedelta(days=9, hours=12)
    assert period.elapsed(datetime(2026, 1, 1)) == timedelta(days=30)
    assert period.elapsed(datetime(2025, 1, 1)) == timedelta(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-13", "`2025-13` is not a month; use YYYY-MM"),
        ("2025-00", "`2025-00` is not a month; use YYYY-MM"),
        ("2025-Q5", "`2025-Q5` is not a quarter; use YYYY-Qn"),
        ("2025-02-29", "`2025-02-29` is not a date; use YYYY-MM-DD"),
        ("2025-12..2025-01", "ends before it starts"),
        ("2025-01..", "is not a range"),
        ("next_month", "`next_month` is not a period"),
        ("last_0_days", "must cover 1 to"),
        ("", "empty period"),
        ("25-11", "`25-11` is not a period"),
        ("1812", "year outside"),
    ],
)
def test_errors_name_the_input_and_list_the_accepted_forms(text: str, message: str) -> None:
    with pytest.raises(PeriodError) as error:
        parse_period(text, MSK)
    assert message in str(error.value)
    assert ACCEPTED_FORMS in str(error.value)


def test_unknown_time_zone_is_an_error() -> None:
    with pytest.raises(PeriodError, match="`Mars/Base` is not a time zone"):
        parse_period("2025", "Mars/Base")
