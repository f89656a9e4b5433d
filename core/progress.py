"""Progress of a sync cycle for progress bars: pages done of total, records, rate and ETA.

The engine reports a `SyncProgress` after every committed page through a plain callback, so the
daemon can draw a terminal bar and the dashboard a Streamlit one without knowing the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


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
    _started: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()

    def advance(self, pages: int = 1, records: int = 0) -> None:
        """Count `pages` more pages and `records` more records, then report."""
        self.pages_done += pages
        self.records += records
        self.report()

    def report(self) -> None:
        """Send the current snapshot to the callback."""
        if self.callback is not None:
            self.callback(self.snapshot())

    def snapshot(self) -> SyncProgress:
        """The current state, with the rate and the ETA computed from the pages done so far."""
        elapsed = max(self.clock() - self._started, 1e-9)
        eta = None
        if self.pages_total and self.pages_done:
            remaining = max(self.pages_total - self.pages_done, 0)
            eta = remaining * elapsed / self.pages_done
        return SyncProgress(
            phase=self.phase,
            stream=self.stream,
            pages_done=self.pages_done,
            pages_total=self.pages_total,
            records=self.records,
            elapsed_seconds=elapsed,
            records_per_second=self.records / elapsed,
            eta_seconds=eta,
        )
