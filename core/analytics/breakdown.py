"""breakdown: orders per value of a dimension (optionally split again by a second one), top N plus "other"."""

from __future__ import annotations

import polars as pl

from core.analytics import answers as a
from core.analytics.context import Context
from core.analytics.numbers import money, share
from core.analytics.reader import FactReader, key_column
from core.filters import Filters

MAX_TOP_N = 100
OTHER = "__other__"


def breakdown(reader: FactReader, context: Context, text: str, by: str, filters: Filters, top_n: int,
              then_by: str | None) -> a.BreakdownAnswer:
    """Rows of (key, label, count, revenue, share) sorted by count (see `Analytics.breakdown`)."""
    if not 1 <= top_n <= MAX_TOP_N:
        raise ValueError(f"top_n must be between 1 and {MAX_TOP_N}, got {top_n}")
    period = context.period(text)
    scope = context.catalogue.resolve(filters)
    by = context.catalogue.check_dimension(by)
    then_by = context.catalogue.check_dimension(then_by) if then_by else None
    if then_by == by:
        raise ValueError(f"then_by must differ from by ({by})")
    reader.require_store(context, period.start, period.end, "a breakdown")
    dimensions = [by] + ([then_by] if then_by else [])
    frame = reader.grouped(context, period.start, period.end, scope, dimensions)
    multi_valued = any(context.catalogue.is_multi_valued(dimension) for dimension in dimensions)
    if multi_valued:
        whole = reader.grouped(context, period.start, period.end, scope, [])
        total, revenue = int(whole["orders"].sum()), int(whole["revenue_minor"].sum())
    else:
        total, revenue = int(frame["orders"].sum()), int(frame["revenue_minor"].sum())
    top = frame.group_by(key_column(0)).agg(pl.col("orders").sum(), pl.col("revenue_minor").sum())
    rows, groups = _rows(context, by, top, top_n, total)
    if then_by is not None:
        for row in rows:
            if row.key == OTHER:
                continue
            inner = frame.filter(pl.col(key_column(0)) == row.key).select(
                pl.col(key_column(1)).alias(key_column(0)), "orders", "revenue_minor")
            row.children, _ = _rows(context, then_by, inner, top_n, total)
    return a.BreakdownAnswer(
        period=a.PeriodInfo.of(period), by=by, then_by=then_by, rows=rows, total=total,
        total_revenue=money(revenue) or "0.00", total_groups=groups, truncated=groups > top_n,
        multi_valued=multi_valued, currency=context.state.currency,
        **context.stamp(filters, "store", context.store_detail()),
    )


def _rows(context: Context, dimension: str, frame: pl.DataFrame, top_n: int, total: int) -> tuple[list[a.BreakdownRow], int]:
    key = key_column(0)
    ordered = frame.sort(["orders", key], descending=[True, False])
    rows = [a.BreakdownRow(key=value, label=context.catalogue.label(dimension, value), count=orders,
                           revenue=money(revenue) or "0.00", share=share(orders, total))
            for value, orders, revenue in ordered.head(top_n).select(key, "orders", "revenue_minor").iter_rows()]
    rest = ordered.slice(top_n)
    if not rest.is_empty():
        orders, revenue = int(rest["orders"].sum()), int(rest["revenue_minor"].sum())
        rows.append(a.BreakdownRow(key=OTHER, label=f"Other ({rest.height} more)", count=orders,
                                   revenue=money(revenue) or "0.00", share=share(orders, total)))
    return rows, ordered.height
