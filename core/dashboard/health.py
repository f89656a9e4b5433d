"""The "Sync now" button's work: one sync cycle with progress, its outcome in one line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from core.config import Settings
from core.progress import SyncProgress
from core.sync import EXPECTED_FAILURES, run_cycle

# With no page total known yet, the bar creeps towards this fraction as pages arrive.
_UNKNOWN_TOTAL_CEILING = 0.9


def progress_fraction(progress: SyncProgress) -> float:
    """How full the progress bar is: pages done of the total, or a creeping guess without one."""
    if progress.pages_total:
        return min(progress.pages_done / progress.pages_total, 1.0)
    return _UNKNOWN_TOTAL_CEILING * progress.pages_done / (progress.pages_done + 10)


@dataclass(frozen=True)
class SyncOutcome:
    """How "Sync now" ended: ok or not, and one line to show."""

    ok: bool
    message: str


def sync_now(settings: Settings, on_progress: Callable[[SyncProgress], None],
             transport: httpx.AsyncBaseTransport | None = None) -> SyncOutcome:
    """Run one sync cycle; expected failures (settings, API, store, another sync running) become a message."""
    try:
        result = run_cycle(settings, progress=on_progress, transport=transport)
    except EXPECTED_FAILURES as problem:
        return SyncOutcome(False, str(problem).splitlines()[0] if str(problem) else type(problem).__name__)
    return SyncOutcome(result.status == "ok", result.describe())
