"""Dashboard helpers without Streamlit: number formats, the shareable view state, file exports."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.dashboard import format as fmt
from core.dashboard.export import csv_bytes, file_stem, xlsx_bytes
from core.dashboard.state import MAX_TOP_N, ViewState
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
