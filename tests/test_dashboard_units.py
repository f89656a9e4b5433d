"""Dashboard helpers without Streamlit: number formats, the shareable view state, file exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.analytics.answers import (CompareAnswer, CompareRow, CountChange, CumulativePoint, ElapsedComparison,
                                   PeriodInfo, Totals)
from core.dashboard import format as fmt
from core.dashboard.charts import cumulative_figure
from core.dashboard.comparison import comparison_of
from core.dashboard.export import csv_bytes, file_stem, xlsx_bytes
from core.dashboard.ranges import (drill_period, kpi_pairs, months_between, parse_day_range, parse_month, trend_period,
                                   weekday_aligned_start)
from core.dashboard.state import MAX_TOP_N, ViewState
from core.dashboard.tables import compare_table, sync_runs_table
from core.dashboard.widgets import lag_is_stale
from core.filters import DIMENSIONS


def test_counts_and_money_use_thousands_separators_and_the_account_currency() -> None:
    assert fmt.count(1447) == "1,447"
    assert fmt.count(None) == "—"
    assert fmt.money(Decimal("1234567.50"), "RUB") == "1,234,568 ₽"
    assert fmt.money("99.49", "XYZ") == "99 XYZ"
    assert fmt.signed_money(Decimal("-1500"), "USD") == "-1,500 $"
    assert fmt.change(284, 24.42) == "+284 (+24.4%)"
    assert fmt.change(-3, None) == "-3"
    assert fmt.percent(-0.04) == "0.0%"


def test_ranges_are_written_out_as_short_as_stays_unambiguous() -> None:
    assert fmt.day_range(date(2025, 11, 1), date(2025, 11, 15)) == "1-15 Nov 2025"
    assert fmt.day_range(date(2025, 11, 1), date(2025, 11, 1)) == "1 Nov 2025"
    assert fmt.day_range(date(2025, 1, 1), date(2025, 11, 15)) == "1 Jan - 15 Nov 2025"
    assert fmt.day_range(date(2024, 12, 30), date(2025, 1, 2)) == "30 Dec 2024 - 2 Jan 2025"
    assert fmt.span(datetime(2024, 11, 1), datetime(2024, 12, 1)) == "1-30 Nov 2024"


def test_durations_pick_a_readable_unit() -> None:
    assert fmt.duration(0.25) == "250 ms"
    assert fmt.duration(75) == "1 min 15 s"
    assert fmt.duration(3 * 86400 + 3600) == "3 d 1 h"


def test_default_view_has_an_empty_link_and_the_measured_months() -> None:
    view = ViewState()
    assert view.to_query() == {}
    assert (view.period_a, view.period_b, view.single_period) == ("2024-11", "2025-11", "2025-11")
    assert view.to_filters() is None


def test_view_round_trips_through_the_url() -> None:
    view = (
        ViewState(period="2025-10", by="city", then_by="site", top_n=5, full_period=True, search="71")
        .with_filter("site", ["main-store"])
        .with_filter("status_group", ["complete", "cancel"])
        .with_filter("custom:delivery_slot", ["morning"])
    )
    query = view.to_query()
    assert query["status_group"] == ["cancel", "complete"]
    assert query["cf.delivery_slot"] == ["morning"]
    as_lists = {key: [value] if isinstance(value, str) else value for key, value in query.items()}
    assert ViewState.from_query(as_lists) == view
    filters = view.to_filters()
    assert filters is not None
    assert filters.sites == ["main-store"] and filters.status_groups == ["cancel", "complete"]
    assert filters.custom_fields == {"delivery_slot": "morning"}


def test_broken_links_fall_back_to_defaults() -> None:
    view = ViewState.from_query({"by": ["nonsense"], "top": ["-4"], "by2": ["status_group"], "site": ["", " "],
                                 "cf.": ["x"], "full": ["maybe"], "unknown": ["1"]})
    assert view == ViewState()
    assert ViewState.from_query({"top": ["100000"]}).top_n == MAX_TOP_N


@given(
    filters=st.dictionaries(st.sampled_from(DIMENSIONS), st.lists(st.text(min_size=1, max_size=8), max_size=3)),
    top_n=st.integers(1, MAX_TOP_N),
    period=st.sampled_from(["2025", "2025-Q3", "last_7_days", "2025-01-01..2025-02-15"]),
)
def test_any_view_survives_its_link(filters: dict[str, list[str]], top_n: int, period: str) -> None:
    view = ViewState(period=period, top_n=top_n)
    for dimension, values in filters.items():
        view = view.with_filter(dimension, values)
    query = {key: [value] if isinstance(value, str) else value for key, value in view.to_query().items()}
    assert ViewState.from_query(query) == view


def test_exports_hold_every_row_with_labels_and_numbers() -> None:
    table = pl.DataFrame({"Status group": ["Выполнен", "Отменен"], "Orders": [1163, 1447], "Revenue": [1.5, 2.25]})
    rows = list(csv.reader(io.StringIO(csv_bytes(table).decode("utf-8-sig"))))
    assert rows == [["Status group", "Orders", "Revenue"], ["Выполнен", "1163", "1.5"], ["Отменен", "1447", "2.25"]]
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table, sheet="compare: a/b"))).active
    assert sheet.title == "compare  a b"
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Status group", "Orders", "Revenue"], ["Выполнен", 1163, 1.5], ["Отменен", 1447, 2.25]
    ]
    assert file_stem("compare", "2024-11 vs 2025-11", "") == "compare_2024-11-vs-2025-11"


@given(previous=st.dates(date(1900, 1, 1), date(2999, 12, 31)),
       current=st.dates(date(1900, 1, 1), date(2999, 12, 31)))
def test_weekday_alignment_moves_at_most_three_days_onto_the_same_weekday(previous: date, current: date) -> None:
    aligned = weekday_aligned_start(previous, current)
    assert aligned.weekday() == current.weekday()
    assert abs((aligned - previous).days) <= 3


def test_a_year_back_aligns_by_364_days() -> None:
    assert weekday_aligned_start(date(2024, 11, 1), date(2025, 11, 1)) == date(2025, 11, 1) - timedelta(days=364)
    assert weekday_aligned_start(date(2023, 3, 1), date(2024, 3, 1)) == date(2024, 3, 1) - timedelta(days=364)


def test_kpi_pairs_and_trend_window_around_new_year() -> None:
    pairs = kpi_pairs(date(2026, 1, 3))
    assert [(p.title, p.current, p.previous) for p in pairs] == [
        ("Month to date", "2026-01", "2025-01"), ("Last month", "2025-12", "2024-12"), ("Year to date", "2026", "2025")
    ]
    assert trend_period(date(2026, 1, 3)) == "2024-02..2026-01"
    assert months_between(date(2025, 11, 20), date(2026, 2, 1)) == ["2026-02", "2026-01", "2025-12", "2025-11"]


def _period(text: str, start: datetime, end: datetime, unit: str) -> PeriodInfo:
    return PeriodInfo(text=text, start=start, end=end, last_day=(end - timedelta(microseconds=1)).date(),
                      timezone="Europe/Moscow", unit=unit)


def test_drill_periods_list_exactly_the_days_behind_a_figure() -> None:
    november = _period("2025-11", datetime(2025, 11, 1), datetime(2025, 12, 1), "month")
    cut = _period("this_month (first 2.5 days)", datetime(2026, 12, 1), datetime(2026, 12, 3, 12), "range")
    assert drill_period(november) == "2025-11"
    assert drill_period(cut) == "2026-12-01..2026-12-03"
    assert parse_day_range("2026-12-01..2026-12-03") == (date(2026, 12, 1), date(2026, 12, 3))
    assert parse_day_range("2026-12-03..2026-12-01") is None and parse_month("2025-13") is None


def _compare_answer(**extra: object) -> CompareAnswer:
    base = dict(
        filters={}, data_as_of=None, source="store", source_detail="test",
        period_a=_period("2024-12", datetime(2024, 12, 1), datetime(2025, 1, 1), "month"),
        period_b=_period("2025-12", datetime(2025, 12, 1), datetime(2026, 1, 1), "month"),
        a=Totals(count=1000, revenue="100.00"), b=Totals(count=50, revenue="10.00"), delta=-950, delta_pct=-95.0,
        revenue_delta="-90.00", revenue_delta_pct=-90.0, currency="RUB", in_progress=True,
    )
    return CompareAnswer(**{**base, **extra})


def test_a_running_comparison_shows_its_elapsed_cut_unless_asked_for_whole_periods() -> None:
    elapsed = ElapsedComparison(
        elapsed_days=2.5,
        period_a=_period("2024-12 (first 2.5 days)", datetime(2024, 12, 1), datetime(2024, 12, 3, 12), "range"),
        period_b=_period("2025-12 (first 2.5 days)", datetime(2025, 12, 1), datetime(2025, 12, 3, 12), "range"),
        a=Totals(count=40, revenue="8.00"), b=Totals(count=50, revenue="10.00"), delta=10, delta_pct=25.0,
        revenue_delta="2.00", revenue_delta_pct=25.0,
    )
    answer = _compare_answer(elapsed=elapsed)
    figures = comparison_of(answer)
    assert (figures.count_a, figures.count_b, figures.delta, figures.is_cut) == (40, 50, 10, True)
    assert (figures.revenue_delta, figures.revenue_delta_pct) == (Decimal("2.00"), 25.0)
    assert figures.ranges() == "1-3 Dec 2025 vs 1-3 Dec 2024"
    whole = comparison_of(answer, full_period=True)
    assert (whole.count_a, whole.delta, whole.is_cut, whole.revenue_delta) == (1000, -950, False, Decimal("-90.00"))


def test_compare_table_has_labels_codes_and_per_row_changes() -> None:
    rows = [CompareRow(key="complete", label="Выполнен", a=841, b=1031, delta=190, delta_pct=22.6),
            CompareRow(key="new", label="Новый", a=0, b=3, delta=3, delta_pct=None)]
    table = compare_table(_compare_answer(rows=rows, by="status_group"), "Status group")
    assert table.frame.columns == ["Status group", "Code", "Dec 2024", "Dec 2025", "Change", "Change %"]
    assert table.frame.row(1) == ("Новый", "new", 0, 3, 3, None)
    assert table.kinds["Change %"] == "percent" and table.currency == "RUB"


def test_compare_table_of_a_running_comparison_shows_each_rows_elapsed_cut() -> None:
    rows = [CompareRow(key="complete", label="Выполнен", a=841, b=102, delta=-739, delta_pct=-87.9,
                       elapsed=CountChange(a=95, b=102, delta=7, delta_pct=7.4)),
            CompareRow(key="new", label="Новый", a=4, b=0, delta=-4, delta_pct=-100.0,
                       elapsed=CountChange(a=0, b=0, delta=0, delta_pct=None))]
    frame = compare_table(_compare_answer(rows=rows, by="status_group"), "Status group").frame
    assert frame.row(0) == ("Выполнен", "complete", 95, 102, 7, 7.4)
    assert frame.row(1) == ("Новый", "new", 0, 0, 0, None)


def test_sync_runs_are_shown_in_the_account_zone_with_durations() -> None:
    runs = [{"kind": "incremental", "status": "ok", "started_at": "2025-11-15 09:00:00",
             "finished_at": "2025-11-15 09:00:42", "duration_s": 0.224, "pages": 3, "api_requests": 7, "orders_upserted": 12,
             "customers_upserted": 1, "history_records": 40, "error": None},
            {"kind": "backfill", "status": "running", "started_at": "2025-11-15 10:00:00", "finished_at": None}]
    table = sync_runs_table(runs, "Europe/Moscow").frame
    assert table["Started"].to_list() == [datetime(2025, 11, 15, 12, 0), datetime(2025, 11, 15, 13, 0)]
    assert table["Duration"].to_list() == ["224 ms", "running"]
    assert table["Pages"].to_list() == [3, 0]


def test_lag_turns_stale_after_three_sync_intervals() -> None:
    assert not lag_is_stale(29 * 60, interval_minutes=10)
    assert lag_is_stale(31 * 60, interval_minutes=10)
    assert lag_is_stale(None, interval_minutes=10)


def test_charts_carry_the_core_figures() -> None:
    points = [CumulativePoint(day_index=1, date_a=date(2024, 12, 1), date_b=date(2025, 12, 1), a=10, b=12),
              CumulativePoint(day_index=2, date_a=date(2024, 12, 2), date_b=None, a=25, b=None)]
    figure = cumulative_figure(_compare_answer(cumulative=points), "Dec 2024", "Dec 2025")
    previous, current = figure.data
    assert (previous.line.dash, current.line.dash) == ("dash", "solid")
    assert list(previous.y) == [10, 25] and list(current.y) == [12, None]
