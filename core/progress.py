"""Progress of a sync cycle for progress bars: pages done of total, records, rate and ETA.

The engine reports a `SyncProgress` after every committed page through a plain callback, so the
daemon can draw a terminal bar and the dashboard a Streamlit one without knowing the engine.
Rates (and so the ETA) are measured over the last `RATE_WINDOW_SECONDS`, not since the start: the
start-up of a phase (first requests, pipeline filling) stops weighing on them once it is past, and
a change of pace shows within that window instead of being averaged away.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

RATE_WINDOW_SECONDS = 20.0


@dataclass(frozen=True)
class SyncProgress:
    """A snapshot of one phase of a cycle ("backfill", "history", "verify", "reference") of a stream."""

    phase: str
    stream: str
    pages_done: int
    pages_total: int | None
    records: int
    elapsed_seconds: float
    records_per_second: float
    eta_seconds: float | None

    def describe(self) -> str:
        """One log line: "orders backfill: 12/40 pages, 1,200 records, 310/s, ETA 9 s"."""
        pages = f"{self.pages_done}/{self.pages_total}" if self.pages_total else f"{self.pages_done}"
        eta = f", ETA {self.eta_seconds:.0f} s" if self.eta_seconds is not None else ""
        return (
            f"{self.stream} {self.phase}: {pages} pages, {self.records:,} records, "
            f"{self.records_per_second:,.0f}/s{eta}"
        )


ProgressCallback = Callable[[SyncProgress], None]


@dataclass
class ProgressMeter:
    """Counts pages and records of one phase and reports them to `callback` (if any)."""

    phase: str
    stream: str
    callback: ProgressCallback | None
    pages_total: int | None = None
    pages_done: int = 0
    records: int = 0
    clock: Callable[[], float] = time.monotonic
    rate_window: float = RATE_WINDOW_SECONDS
    _started: float = field(default=0.0, init=False)
    # (time, pages done, records) at each advance; the first is the last one at least `rate_window` old
    _samples: deque[tuple[float, int, int]] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()
        self._samples.append((self._started, 0, 0))

    def advance(self, pages: int = 1, records: int = 0) -> None:
        """Count `pages` more pages and `records` more records, then report."""
        self.pages_done += pages
        self.records += records
        now = self.clock()
        self._samples.append((now, self.pages_done, self.records))
        while len(self._samples) > 1 and self._samples[1][0] <= now - self.rate_window:
            self._samples.popleft()
        self.report()

    def report(self) -> None:
        """Send the current snapshot to the callback."""
        if self.callback is not None:
            self.callback(self.snapshot())

    def snapshot(self) -> SyncProgress:
        """The current state, with the rates and the ETA measured over the last `rate_window` seconds."""
        now = self.clock()
        since, pages_then, records_then = self._samples[0]
        span = max(now - since, 1e-9)
        pages_per_second = (self.pages_done - pages_then) / span
        eta = None
        if self.pages_total and pages_per_second > 0:
            eta = max(self.pages_total - self.pages_done, 0) / pages_per_second
        return SyncProgress(
            phase=self.phase,
            stream=self.stream,
            pages_done=self.pages_done,
            pages_total=self.pages_total,
            records=self.records,
            elapsed_seconds=max(now - self._started, 1e-9),
            records_per_second=(self.records - records_then) / span,
            eta_seconds=eta,
        )
