"""Progress reports: rates and ETA over a sliding window, page totals estimated from the windows surveyed."""

from __future__ import annotations

from core.progress import ProgressMeter, SyncProgress
from core.sync_backfill import _estimated_total


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _advance(meter: ProgressMeter, clock: FakeClock, seconds: float, pages: int, records_per_page: int) -> None:
    for _ in range(pages):
        clock.now += seconds
        meter.advance(records=records_per_page)


def test_rate_and_eta_follow_the_recent_pace_not_the_slow_start() -> None:
    clock = FakeClock()
    reports: list[SyncProgress] = []
    meter = ProgressMeter("backfill", "orders", reports.append, pages_total=200, clock=clock, rate_window=20.0)
    _advance(meter, clock, seconds=10.0, pages=3, records_per_page=100)  # slow start: 0.1 page/s
    _advance(meter, clock, seconds=0.5, pages=100, records_per_page=100)  # then 2 pages/s for 50 s
    latest = reports[-1]
    assert latest.pages_done == 103 and latest.records == 10_300
    assert latest.elapsed_seconds == 80.0
    assert 195 <= latest.records_per_second <= 205  # 200/s now; since the start it would be 129/s
    assert latest.eta_seconds is not None and 47 <= latest.eta_seconds <= 50  # 97 pages at 2 pages/s


def test_a_stall_shows_within_the_window() -> None:
    clock = FakeClock()
    meter = ProgressMeter("backfill", "orders", None, pages_total=100, clock=clock, rate_window=20.0)
    _advance(meter, clock, seconds=1.0, pages=50, records_per_page=100)
    clock.now += 60.0  # nothing for a minute
    stalled = meter.snapshot()
    assert stalled.records_per_second < 100 / 3  # was 100/s; the pages of the last window now spread over 80 s
    assert stalled.eta_seconds is not None and stalled.eta_seconds > 3 * 50  # 50 pages left, no longer 50 s


def test_no_total_means_no_eta() -> None:
    clock = FakeClock()
    meter = ProgressMeter("history", "orders", None, clock=clock)
    _advance(meter, clock, seconds=1.0, pages=5, records_per_page=10)
    snapshot = meter.snapshot()
    assert snapshot.eta_seconds is None
    assert "5 pages" in snapshot.describe()


def test_unsurveyed_windows_count_as_the_mean_of_the_surveyed_ones() -> None:
    assert _estimated_total({0: 10, 1: 30}, windows=5) == 40 + 3 * 20
    assert _estimated_total({0: 7}, windows=1) == 7
    assert _estimated_total({}, windows=3) == 0
