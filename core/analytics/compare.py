"""compare_periods: two periods side by side, with the elapsed-time cut when one is still running."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.analytics import answers as a
from core.analytics.context import Context
from core.analytics.dimensions import Scope
from core.analytics.numbers import money, percent_change
from core.analytics.reader import DAY, FactReader, key_column
from core.filters import Filters
from core.periods import Period

Range = tuple[datetime, datetime]


def compare_periods(reader: FactReader, context: Context, text_a: str, text_b: str, filters: Filters,
                    by: str | None, cumulative: bool, full_period: bool) -> a.CompareAnswer:
    """Counts and revenue of both periods, deltas, and the optional extras (see `Analytics.compare_periods`).

    Rows split the whole periods, and, when the answer has an elapsed cut, each row splits the cut too.
    """
    period_a, period_b = context.period(text_a), context.period(text_b)
    scope = context.catalogue.resolve(filters)
    by = context.catalogue.check_dimension(by) if by else None
    whole = [(period_a.start, period_a.end), (period_b.start, period_b.end)]
    names = [text_a, text_b]
    in_progress = period_a.is_in_progress(context.now_local) or period_b.is_in_progress(context.now_local)
    cut = _elapsed_cut(context, period_a, period_b) if in_progress and not full_period else None
    cut_ranges: list[Range] = []
    if cut is not None:
        cut_ranges = [_cut_range(period_a, cut), _cut_range(period_b, cut)]
        names += [_cut_text(text_a, cut), _cut_text(text_b, cut)]
    results, source, detail = reader.totals(context, whole + cut_ranges, scope, names)
    (count_a, revenue_a), (count_b, revenue_b) = results[0], results[1]
    answer = a.CompareAnswer(
        period_a=a.PeriodInfo.of(period_a), period_b=a.PeriodInfo.of(period_b),
        a=a.Totals(count=count_a, revenue=money(revenue_a)), b=a.Totals(count=count_b, revenue=money(revenue_b)),
        delta=count_b - count_a, delta_pct=percent_change(count_a, count_b), **_revenue_change(revenue_a, revenue_b),
        currency=context.state.currency, in_progress=in_progress, by=by,
        **context.stamp(filters, source, detail),
    )
    if cut is not None:
        answer.elapsed = _elapsed(period_a, period_b, cut, results[2], results[3])
    if by is not None:
        answer.rows = _rows(reader, context, scope, by, whole, cut_ranges or None)
    if cumulative:
        answer.cumulative = _cumulative(reader, context, period_a, period_b, scope)
    return answer


def _elapsed_cut(context: Context, period_a: Period, period_b: Period) -> timedelta | None:
    """The elapsed time of the running period(s), up to the last sync (the store knows nothing later)."""
    moment = context.now_local
    if context.coverage.synced_until is not None:
        moment = min(moment, context.coverage.synced_until)
    running = [p for p in (period_a, period_b) if p.is_in_progress(context.now_local)]
    cut = min(p.elapsed(moment) for p in running)
    return cut if cut > timedelta(0) else None


def _cut_range(period: Period, cut: timedelta) -> Range:
    """The first `cut` of `period`, never past its end (a shorter period is then compared whole)."""
    return period.start, min(period.start + cut, period.end)


def _cut_text(text: str, cut: timedelta) -> str:
    return f"{text} (first {_days(cut)} days)"


def _days(cut: timedelta) -> float:
    return round(cut.total_seconds() / 86400, 2)


def _revenue_change(revenue_a: int | None, revenue_b: int | None) -> dict[str, Any]:
    """`revenue_delta` and `revenue_delta_pct` (None without both revenues, as from the API fallback)."""
    if revenue_a is None or revenue_b is None:
        return {"revenue_delta": None, "revenue_delta_pct": None}
    return {"revenue_delta": money(revenue_b - revenue_a), "revenue_delta_pct": percent_change(revenue_a, revenue_b)}


def _elapsed(period_a: Period, period_b: Period, cut: timedelta, totals_a: tuple[int, int | None],
             totals_b: tuple[int, int | None]) -> a.ElapsedComparison:
    def cut_period(period: Period) -> a.PeriodInfo:
        start, end = _cut_range(period, cut)
        return a.PeriodInfo.of(Period(_cut_text(period.text, cut), start, end, period.timezone, "range"))

    (count_a, revenue_a), (count_b, revenue_b) = totals_a, totals_b
    return a.ElapsedComparison(
        elapsed_days=_days(cut), period_a=cut_period(period_a), period_b=cut_period(period_b),
        a=a.Totals(count=count_a, revenue=money(revenue_a)), b=a.Totals(count=count_b, revenue=money(revenue_b)),
        delta=count_b - count_a, delta_pct=percent_change(count_a, count_b), **_revenue_change(revenue_a, revenue_b),
    )


def _rows(reader: FactReader, context: Context, scope: Scope, by: str, whole: list[Range],
          cut: list[Range] | None) -> list[a.CompareRow]:
    """One row per value: counts over the whole periods, and over the cut ranges when there are any."""
    counts = _counts_by_key(reader, context, scope, by, whole)
    cut_counts = _counts_by_key(reader, context, scope, by, cut) if cut is not None else None
    rows = []
    for key in dict.fromkeys([*counts, *(cut_counts or {})]):
        count_a, count_b = counts.get(key, [0, 0])
        elapsed = None
        if cut_counts is not None:
            elapsed = a.CountChange(**_change(*cut_counts.get(key, [0, 0])))
        rows.append(a.CompareRow(key=key, label=context.catalogue.label(by, key), **_change(count_a, count_b),
                                 elapsed=elapsed))
    return sorted(rows, key=lambda row: (-max(row.a, row.b), row.key))


def _counts_by_key(reader: FactReader, context: Context, scope: Scope, by: str,
                   ranges: list[Range]) -> dict[str, list[int]]:
    """Orders per value of `by` in each of the two ranges (A, B)."""
    counts: dict[str, list[int]] = {}
    for side, (start, end) in enumerate(ranges):
        reader.require_store(context, start, end, "a comparison by dimension")
        frame = reader.grouped(context, start, end, scope, [by])
        for key, orders in frame.select(key_column(0), "orders").iter_rows():
            counts.setdefault(key, [0, 0])[side] += orders
    return counts


def _change(count_a: int, count_b: int) -> dict[str, Any]:
    return {"a": count_a, "b": count_b, "delta": count_b - count_a, "delta_pct": percent_change(count_a, count_b)}


def _cumulative(reader: FactReader, context: Context, period_a: Period, period_b: Period,
                scope: Scope) -> list[a.CumulativePoint]:
    today = context.now_local.date()
    sides = []
    for period in (period_a, period_b):
        reader.require_store(context, period.start, period.end, "a cumulative series")
        frame = reader.grouped(context, period.start, period.end, scope, [], by_day=True)
        per_day = dict(frame.select(DAY, "orders").iter_rows()) if not frame.is_empty() else {}
        sides.append((period, per_day))
    length = max(period_a.days(), period_b.days())
    points: list[a.CumulativePoint] = []
    running = [0, 0]
    for index in range(length):
        values: list[int | None] = []
        dates = []
        for side, (period, per_day) in enumerate(sides):
            day = period.first_day + timedelta(days=index)
            if day > period.last_day:
                dates.append(None)
                values.append(None)
                continue
            running[side] += per_day.get(day, 0)
            dates.append(day)
            values.append(running[side] if day <= today else None)
        points.append(a.CumulativePoint(day_index=index + 1, date_a=dates[0], date_b=dates[1], a=values[0],
                                        b=values[1]))
    return points
