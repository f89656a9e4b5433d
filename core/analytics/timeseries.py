"""orders_timeseries: orders per day, week or month, every bucket present, optionally one series per value."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal

import polars as pl

from core.analytics import answers as a
from core.analytics.context import Context
from core.analytics.dimensions import Scope
from core.analytics.numbers import money
from core.analytics.reader import DAY, FactReader, key_column
from core.filters import Filters
from core.periods import Period

Granularity = Literal["day", "week", "month"]
GRANULARITIES = ("day", "week", "month")
SERIES_LIMIT = 12  # more values than this are summed into one "other" series
API_BUCKET_LIMIT = 60  # buckets the API fallback may count (one request each)
OTHER = "__other__"


def orders_timeseries(reader: FactReader, context: Context, text: str, granularity: str, filters: Filters,
                      split_by: str | None) -> a.TimeseriesAnswer:
    """Orders and revenue per bucket of `period` (see `Analytics.orders_timeseries`)."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {', '.join(GRANULARITIES)}, got {granularity!r}")
    period = context.period(text)
    scope = context.catalogue.resolve(filters)
    split_by = context.catalogue.check_dimension(split_by) if split_by else None
    buckets = bucket_starts(period, granularity)
    base = {"period": a.PeriodInfo.of(period), "granularity": granularity, "split_by": split_by,
            "currency": context.state.currency}
    if split_by is None and context.coverage.gap(period.start, period.end) and len(buckets) <= API_BUCKET_LIMIT:
        ranges = [(_midnight(start), _midnight(end)) for start, end in zip(buckets, [*buckets[1:], period.end.date()])]
        results, source, detail = reader.totals(context, ranges, scope, [f"{text} bucket {b}" for b in buckets])
        points = [a.TimeseriesPoint(bucket=b, count=count, revenue=money(revenue))
                  for b, (count, revenue) in zip(buckets, results)]
        return a.TimeseriesAnswer(points=points, total=sum(p.count for p in points), **base,
                                  **context.stamp(filters, source, detail))
    reader.require_store(context, period.start, period.end, "this time series")
    frame = reader.grouped(context, period.start, period.end, scope, [split_by] if split_by else [], by_day=True)
    frame = frame.with_columns(_bucket_of(granularity, period.first_day).alias("bucket"))
    points = _points(frame, buckets)
    answer = a.TimeseriesAnswer(points=points, total=int(frame["orders"].sum()) if split_by is None else 0, **base,
                                **context.stamp(filters, "store", context.store_detail()))
    if split_by is None:
        return answer
    answer.series = _series(context, frame, buckets, split_by)
    answer.total = _period_total(reader, context, period, scope, frame, split_by)
    return answer


def _period_total(reader: FactReader, context: Context, period: Period, scope: Scope, frame: pl.DataFrame,
                  split_by: str) -> int:
    """Orders in the period: the sum of the series unless an order can count under several values."""
    if not context.catalogue.is_multi_valued(split_by):
        return int(frame["orders"].sum())
    whole = reader.grouped(context, period.start, period.end, scope, [])
    return int(whole["orders"].sum())


def bucket_starts(period: Period, granularity: str) -> list[date]:
    """The first day of every bucket touching the period, the first one clipped to the period start."""
    starts: list[date] = []
    day = period.first_day
    while day <= period.last_day:
        starts.append(day)
        if granularity == "day":
            day += timedelta(days=1)
        elif granularity == "week":
            day += timedelta(days=7 - day.weekday())
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return starts


def _bucket_of(granularity: str, first_day: date) -> pl.Expr:
    day = pl.col(DAY)
    if granularity == "day":
        return day
    truncated = day.dt.truncate("1w" if granularity == "week" else "1mo")
    return pl.when(truncated < pl.lit(first_day)).then(pl.lit(first_day)).otherwise(truncated)


def _points(frame: pl.DataFrame, buckets: list[date]) -> list[a.TimeseriesPoint]:
    sums = {bucket: (orders, revenue) for bucket, orders, revenue in
            frame.group_by("bucket").agg(pl.col("orders").sum(), pl.col("revenue_minor").sum()).iter_rows()}
    return [a.TimeseriesPoint(bucket=b, count=int(sums.get(b, (0, 0))[0]), revenue=money(int(sums.get(b, (0, 0))[1])))
            for b in buckets]


def _series(context: Context, frame: pl.DataFrame, buckets: list[date], split_by: str) -> list[a.TimeseriesSeries]:
    key = key_column(0)
    ranking = frame.group_by(key).agg(pl.col("orders").sum()).sort(["orders", key], descending=[True, False])
    keys = ranking[key].to_list()
    shown = keys if len(keys) <= SERIES_LIMIT else keys[: SERIES_LIMIT - 1]
    series = [a.TimeseriesSeries(key=value, label=context.catalogue.label(split_by, value),
                                 points=_points(frame.filter(pl.col(key) == value), buckets)) for value in shown]
    if len(shown) < len(keys):
        rest = frame.filter(~pl.col(key).is_in(shown))
        series.append(a.TimeseriesSeries(key=OTHER, label=f"Other ({len(keys) - len(shown)} more)",
                                         points=_points(rest, buckets)))
    return series


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)
