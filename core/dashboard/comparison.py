"""The figures of a `CompareAnswer` as a page shows them: the elapsed-time cut when the core made one.

The core compares a running period with the same elapsed time of the other one (`answer.elapsed`);
this adapter picks that cut (or the whole periods) so tiles, totals and captions use one set of
numbers, and writes the ranges out ("1-15 Nov 2025 vs 1-15 Nov 2024").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.analytics import CompareAnswer
from core.analytics.answers import PeriodInfo
from core.dashboard import format as fmt


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _percent_change(before: Decimal, after: Decimal) -> float | None:
    return round(float((after - before) * 100 / before), 1) if before else None


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
    revenue_a, revenue_b = _decimal(cut.a.revenue), _decimal(cut.b.revenue)
    both = revenue_a is not None and revenue_b is not None
    return Comparison(
        cut.period_a, cut.period_b, cut.a.count, cut.b.count, cut.delta, cut.delta_pct, revenue_a, revenue_b,
        revenue_b - revenue_a if both else None,  # type: ignore[operator]
        _percent_change(revenue_a, revenue_b) if both else None,  # type: ignore[arg-type]
        answer.currency, cut.elapsed_days,
    )
