"""Core answers as display tables: labels next to codes, numbers kept numeric (formatted by the page).

Each builder returns a `Table`: a Polars frame (what the CSV and Excel files hold) plus the kind of
every numeric column, which `core.dashboard.widgets` turns into Streamlit column formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import polars as pl

from core.analytics import BreakdownAnswer, CompareAnswer, OrdersAnswer
from core.analytics.answers import PeriodInfo
from core.dashboard import format as fmt
from core.dashboard.comparison import row_figures

ColumnKind = Literal["count", "money", "percent", "change", "share"]
OTHER_KEY = "__other__"
NOT_A_VALUE = ("", OTHER_KEY)  # "(not set)" and "other" rows: no filter lists their orders
CODE = "Code"


@dataclass(frozen=True)
class Table:
    """A frame to show and export, and how its numeric columns are written."""

    frame: pl.DataFrame
    kinds: dict[str, ColumnKind] = field(default_factory=dict)
    currency: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.frame.is_empty()


def period_label(period: PeriodInfo) -> str:
    """A column title for a period: "Nov 2025" for a month, else its days ("1-15 Nov 2025")."""
    if period.unit == "month":
        return fmt.month_name(period.start.year, period.start.month)
    if period.unit == "year":
        return str(period.start.year)
    return fmt.day_range(period.start.date(), period.last_day)


def side_labels(answer: CompareAnswer) -> tuple[str, str]:
    """Distinct column titles for the two sides of a comparison."""
    label_a, label_b = period_label(answer.period_a), period_label(answer.period_b)
    if label_a == label_b:
        return f"{label_a} (A)", f"{label_b} (B)"
    return label_a, label_b


def _money(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def compare_table(answer: CompareAnswer, dimension_label: str) -> Table:
    """One row per value of the comparison's dimension: both counts, the change and the change in %, over the
    elapsed cut when the answer made one (`comparison.row_figures`)."""
    label_a, label_b = side_labels(answer)
    rows = answer.rows or []
    figures = [row_figures(row) for row in rows]
    frame = pl.DataFrame(
        {
            dimension_label: [row.label for row in rows],
            CODE: [row.key for row in rows],
            label_a: [figure.a for figure in figures],
            label_b: [figure.b for figure in figures],
            "Change": [figure.delta for figure in figures],
            "Change %": [figure.delta_pct for figure in figures],
        },
        schema={dimension_label: pl.String, CODE: pl.String, label_a: pl.Int64, label_b: pl.Int64,
                "Change": pl.Int64, "Change %": pl.Float64},
    )
    return Table(frame, {label_a: "count", label_b: "count", "Change": "change", "Change %": "percent"},
                 answer.currency)


def breakdown_table(answer: BreakdownAnswer, by_label: str, then_by_label: str | None = None) -> Table:
    """The breakdown's rows (and, split by a second dimension, one row per pair) with counts, revenue, share."""
    records: list[dict[str, object]] = []
    for row in answer.rows:
        children = row.children if then_by_label and row.children else [None]
        for child in children:
            record: dict[str, object] = {by_label: row.label, CODE: row.key}
            if then_by_label:
                record[then_by_label] = child.label if child else ""
                record[f"{then_by_label} code"] = child.key if child else ""
            source = child or row
            record.update({"Orders": source.count, "Revenue": _money(source.revenue), "Share %": source.share})
            records.append(record)
    columns = [by_label, CODE, *([then_by_label, f"{then_by_label} code"] if then_by_label else []),
               "Orders", "Revenue", "Share %"]
    schema = {name: pl.String for name in columns}
    schema.update({"Orders": pl.Int64, "Revenue": pl.Float64, "Share %": pl.Float64})
    frame = pl.DataFrame(records, schema=schema)
    return Table(frame, {"Orders": "count", "Revenue": "money", "Share %": "share"}, answer.currency)


def orders_table(answer: OrdersAnswer) -> Table:
    """Order facts with labels; never names, phones or e-mails (the core does not return them)."""
    rows = answer.rows
    frame = pl.DataFrame(
        {
            "Number": [row.number or str(row.id) for row in rows],
            "Created": [row.created_at for row in rows],
            "Status": [row.status_label for row in rows],
            "Status code": [row.status for row in rows],
            "Site": [row.site_label for row in rows],
            "Type": [row.order_type_label for row in rows],
            "Method": [row.order_method_label for row in rows],
            "Total": [_money(row.total) for row in rows],
            "City": [row.city for row in rows],
            "Order id": [row.id for row in rows],
        },
        schema={"Number": pl.String, "Created": pl.Datetime, "Status": pl.String, "Status code": pl.String,
                "Site": pl.String, "Type": pl.String, "Method": pl.String, "Total": pl.Float64, "City": pl.String,
                "Order id": pl.Int64},
    )
    currency = next((row.currency for row in rows if row.currency), None)
    return Table(frame, {"Total": "money"}, currency)


def _parsed(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def sync_runs_table(runs: list[dict[str, Any]], timezone: str) -> Table:
    """Recent sync cycles (from `core.sync_status.sync_status`): times in the account zone, duration, work done."""
    records = []
    for run in runs:
        seconds = run.get("duration_s")
        records.append({
            "Started": fmt.utc_to_local(_parsed(run.get("started_at")), timezone),
            "Kind": run.get("kind") or "",
            "Status": run.get("status") or "",
            "Duration": fmt.duration(seconds) if seconds is not None else "running",
            "Pages": run.get("pages") or 0,
            "API requests": run.get("api_requests") or 0,
            "Orders": run.get("orders_upserted") or 0,
            "Customers": run.get("customers_upserted") or 0,
            "History records": run.get("history_records") or 0,
            "Error": run.get("error") or "",
        })
    schema = {"Started": pl.Datetime, "Kind": pl.String, "Status": pl.String, "Duration": pl.String,
              "Pages": pl.Int64, "API requests": pl.Int64, "Orders": pl.Int64, "Customers": pl.Int64,
              "History records": pl.Int64, "Error": pl.String}
    counts = ("Pages", "API requests", "Orders", "Customers", "History records")
    return Table(pl.DataFrame(records, schema=schema), {name: "count" for name in counts})
