"""Answer models: JSON-serialisable pydantic models, used as MCP structured output and by the dashboard.

Every answer says which period(s) it resolved to (local start/end and time zone), which filters it
applied, how fresh the data is (`data_as_of`) and where it came from (`source`, with `source_detail`).
Money is a decimal string ("12345.67") in the account currency, never a float.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.periods import Period

Source = Literal["store", "api"]


class PeriodInfo(BaseModel):
    """A resolved period: naive account-local half-open range `[start, end)`."""

    text: str = Field(description="The period as asked, e.g. 2025-11 or last_month")
    start: datetime = Field(description="Inclusive start, account-local time")
    end: datetime = Field(description="Exclusive end, account-local time")
    last_day: date = Field(description="Last calendar day included")
    timezone: str = Field(description="Account time zone the period is expressed in")
    unit: str

    @classmethod
    def of(cls, period: Period) -> "PeriodInfo":
        return cls(text=period.text, start=period.start, end=period.end, last_day=period.last_day,
                   timezone=period.timezone, unit=period.unit)


class AnswerBase(BaseModel):
    """What every answer carries besides its numbers."""

    filters: dict[str, Any] = Field(default_factory=dict, description="Filters applied (only those set)")
    data_as_of: datetime | None = Field(description="Last successful sync, in the account time zone; None if never synced")
    source: Source = Field(description="store = local synced copy; api = asked RetailCRM directly")
    source_detail: str = Field(description="Why this source was used; also names any period that has not started")

    def periods(self) -> list[PeriodInfo]:
        """The periods this answer is about (top-level fields only)."""
        return [value for value in (getattr(self, name) for name in type(self).model_fields)
                if isinstance(value, PeriodInfo)]


class Totals(BaseModel):
    """Orders and revenue of one period (revenue is None when the API fallback cannot give it)."""

    count: int
    revenue: str | None = None


class CountAnswer(AnswerBase):
    period: PeriodInfo
    count: int
    revenue: str | None = Field(description="Sum of order totals, decimal string; None from the API fallback")
    currency: str | None = None


class CountChange(BaseModel):
    """Orders of both periods over the ranges compared, and the change."""

    a: int
    b: int
    delta: int = Field(description="b - a")
    delta_pct: float | None = Field(description="(b - a) / a in percent, one decimal; None when a = 0")


class CompareRow(BaseModel):
    """One value of the compared dimension: whole periods (like the answer's `a`, `b`), and the elapsed cut."""

    key: str
    label: str
    a: int = Field(description="Orders with this value in the whole period A")
    b: int = Field(description="Orders with this value in the whole period B")
    delta: int
    delta_pct: float | None = Field(description="(b - a) / a in percent, one decimal; None when a = 0")
    elapsed: CountChange | None = Field(
        None, description="The same value over the same elapsed time as the answer's `elapsed`; set exactly when it is"
    )


class CumulativePoint(BaseModel):
    day_index: int = Field(description="1 for the first day of each period")
    date_a: date | None
    date_b: date | None
    a: int | None = Field(description="Orders of period A up to this day; None past its end or past today")
    b: int | None


class ElapsedComparison(BaseModel):
    """Both periods cut to the same elapsed time, because one is still in progress."""

    elapsed_days: float = Field(description="Elapsed length compared, in days")
    period_a: PeriodInfo
    period_b: PeriodInfo
    a: Totals
    b: Totals
    delta: int = Field(description="b.count - a.count")
    delta_pct: float | None = Field(description="(b - a) / a in percent, one decimal; None when a = 0")
    revenue_delta: str | None = Field(None, description="b.revenue - a.revenue; None without both revenues")
    revenue_delta_pct: float | None = Field(None, description="Revenue change in percent; None when a's is 0 or None")


class CompareAnswer(AnswerBase):
    """Whole periods in `a`, `b` and the deltas; `elapsed` cuts both to the same elapsed time while one runs.
    `rows` (with `by`) split the whole periods by value, and each row's `elapsed` splits the cut."""

    period_a: PeriodInfo
    period_b: PeriodInfo
    a: Totals
    b: Totals
    delta: int = Field(description="b.count - a.count")
    delta_pct: float | None = Field(description="(b - a) / a in percent, one decimal; None when a = 0")
    revenue_delta: str | None = Field(None, description="b.revenue - a.revenue; None without both revenues")
    revenue_delta_pct: float | None = Field(None, description="Revenue change in percent; None when a's is 0 or None")
    currency: str | None = None
    in_progress: bool = Field(description="True when either period has not ended yet")
    elapsed: ElapsedComparison | None = Field(
        None, description="Both periods over the same elapsed time, while one is in progress (the fair comparison)"
    )
    by: str | None = None
    rows: list[CompareRow] | None = Field(None, description="With `by`: one row per value, largest first")
    cumulative: list[CumulativePoint] | None = None


class TimeseriesPoint(BaseModel):
    bucket: date = Field(description="First day of the bucket (Monday for weeks, clipped to the period start)")
    count: int
    revenue: str | None = Field(description="Decimal string; None from the API fallback")


class TimeseriesSeries(BaseModel):
    key: str
    label: str
    points: list[TimeseriesPoint]


class TimeseriesAnswer(AnswerBase):
    period: PeriodInfo
    granularity: Literal["day", "week", "month"]
    points: list[TimeseriesPoint] = Field(description="Every bucket of the period, empty ones as 0")
    split_by: str | None = None
    series: list[TimeseriesSeries] | None = None
    total: int
    currency: str | None = None


class BreakdownRow(BaseModel):
    key: str = Field(description="Code; \"\" for (not set); \"__other__\" for the rest")
    label: str
    count: int
    revenue: str
    share: float = Field(description="count / total orders, percent with one decimal")
    children: list["BreakdownRow"] | None = None


class BreakdownAnswer(AnswerBase):
    period: PeriodInfo
    by: str
    then_by: str | None = None
    rows: list[BreakdownRow]
    total: int = Field(description="Orders in the period after filters")
    total_revenue: str
    total_groups: int
    truncated: bool
    multi_valued: bool = Field(False, description="True for multiselect fields: an order counts under each value")
    currency: str | None = None


class NewCustomersAnswer(AnswerBase):
    period: PeriodInfo
    count: int


class OrderFacts(BaseModel):
    """One order, without any personal data."""

    id: int
    number: str | None
    created_at: datetime
    status: str
    status_label: str
    order_type: str
    order_type_label: str
    order_method: str
    order_method_label: str
    site: str
    site_label: str
    manager: str
    total: str
    currency: str | None
    city: str


class OrdersAnswer(AnswerBase):
    period: PeriodInfo | None
    rows: list[OrderFacts]
    total: int = Field(description="Orders matching, before limit/offset")
    limit: int
    offset: int


class DimensionValue(BaseModel):
    key: str
    label: str
    count: int


class DimensionInfo(BaseModel):
    name: str = Field(description="What to pass as `by`/`split_by`, e.g. status or custom:<code>")
    label: str
    filter: str | None = Field(description="Filters field taking these codes")
    values: list[DimensionValue]


class DimensionsAnswer(AnswerBase):
    dimensions: list[DimensionInfo]


class StreamStatus(BaseModel):
    stream: str
    backfill_done: bool
    history_since_id: int | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    records_applied: int


class SyncRunInfo(BaseModel):
    kind: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pages: int
    orders_upserted: int
    customers_upserted: int
    history_records: int
    api_requests: int
    error: str | None


class SyncStatusAnswer(BaseModel):
    """Store health; bookkeeping times are naive UTC, `data_as_of` is account-local."""

    data_as_of: datetime | None
    last_sync_at_utc: datetime | None
    lag_seconds: float | None = Field(description="Seconds since the last successful sync")
    timezone: str
    currency: str | None
    data_version: int
    orders_stored: int
    customers_stored: int
    earliest_order: datetime | None
    latest_order: datetime | None
    streams: list[StreamStatus]
    last_error: str | None
    recent_runs: list[SyncRunInfo]
