"""The figures of a `CompareAnswer` as a page shows them: the elapsed-time cut when the core made one.

The core compares a running period with the same elapsed time of the other one (`answer.elapsed`, and
each row's `elapsed`); this adapter picks that cut (or the whole periods) so tiles, totals, captions and
the table by dimension use one set of numbers, and writes the ranges out ("1-15 Nov 2025 vs 1-15 Nov 2024").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.analytics import CompareAnswer
from core.analytics.answers import CompareRow, CountChange, PeriodInfo
from core.dashboard import format as fmt


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@dataclass(frozen=True)
class Comparison:
    """Both sides of a comparison over the ranges actually compared."""

    period_a: PeriodInfo
    period_b: PeriodInfo
    count_a: int
    count_b: int
    delta: int
    delta_pct: float | None
    revenue_a: Decimal | None
    revenue_b: Decimal | None
    revenue_delta: Decimal | None
    revenue_delta_pct: float | None
    currency: str | None
    elapsed_days: float | None  # set when both sides were cut to the same elapsed time

    @property
    def is_cut(self) -> bool:
        return self.elapsed_days is not None

    @property
    def range_a(self) -> str:
        return fmt.day_range(self.period_a.start.date(), self.period_a.last_day)

    @property
    def range_b(self) -> str:
        return fmt.day_range(self.period_b.start.date(), self.period_b.last_day)

    def ranges(self) -> str:
        """ "1-15 Nov 2025 vs 1-15 Nov 2024" (current first)."""
        return f"{self.range_b} vs {self.range_a}"


def comparison_of(answer: CompareAnswer, *, full_period: bool = False) -> Comparison:
    """The compared figures: the elapsed cut of the answer unless `full_period` or there is none."""
    cut = None if full_period else answer.elapsed
    if cut is None:
        revenue_a, revenue_b = _decimal(answer.a.revenue), _decimal(answer.b.revenue)
        return Comparison(
            answer.period_a, answer.period_b, answer.a.count, answer.b.count, answer.delta, answer.delta_pct,
            revenue_a, revenue_b, _decimal(answer.revenue_delta), answer.revenue_delta_pct, answer.currency, None,
        )
    return Comparison(
        cut.period_a, cut.period_b, cut.a.count, cut.b.count, cut.delta, cut.delta_pct, _decimal(cut.a.revenue),
        _decimal(cut.b.revenue), _decimal(cut.revenue_delta), cut.revenue_delta_pct, answer.currency, cut.elapsed_days,
    )


def row_figures(row: CompareRow) -> CountChange:
    """A row's compared counts: over the elapsed cut when the answer made one (as `comparison_of` picks for an
    answer asked without `full_period`), else over the whole periods."""
    return row.elapsed or CountChange(a=row.a, b=row.b, delta=row.delta, delta_pct=row.delta_pct)
