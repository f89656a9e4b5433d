"""The filters' value lists, loaded in the background so that no page ever waits for them.

`Analytics.list_dimensions()` reads every order (one and a half to three minutes on a million orders,
measured on a busy machine), while the values it lists change rarely. A `DimensionLists` keeps the
last list and refreshes it in the background when it is older than `MAX_AGE_SECONDS`, or when the
store got its first orders; until the first list arrives the pages show their figures without filter
widgets. The dashboard lists in a child process (`python -m core.dashboard.dimension_lists <url>`):
reading a million orders in the server's own process would hold its interpreter lock and its memory,
and slow every page.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from core.analytics import Analytics, DimensionsAnswer
from core.config import PROJECT_ROOT, load_settings

MAX_AGE_SECONDS = 3600.0
CHILD_TIMEOUT_SECONDS = 1800.0

logger = logging.getLogger("retailcrm.dashboard")


class DimensionLists:
    """The newest `DimensionsAnswer` of one store, refreshed by one background thread at a time."""

    def __init__(self, load: Callable[[], DimensionsAnswer], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._answer: DimensionsAnswer | None = None
        self._loaded_at = 0.0
        self._loaded_with_orders = False
        self._thread: threading.Thread | None = None

    def latest(self, has_orders: bool, *, wait_seconds: float = 0.0) -> DimensionsAnswer | None:
        """The newest list for a store with (or without) orders, or None while the first one loads.

        Starts a refresh when the list is missing, old, or was made before the store had orders; the
        call that starts loading a missing list waits up to `wait_seconds` for it (a small store answers
        within that), later calls never wait.
        """
        with self._lock:
            current = self._answer is not None and self._loaded_with_orders == has_orders
            old = self._clock() - self._loaded_at > MAX_AGE_SECONDS
            started = None
            if (not current or old) and (self._thread is None or not self._thread.is_alive()):
                started = self._thread = threading.Thread(target=self._refresh, args=(has_orders,), daemon=True,
                                                          name="dashboard-dimension-lists")
                started.start()
        if not current and wait_seconds > 0 and started is not None:
            started.join(wait_seconds)
        with self._lock:
            return self._answer if self._answer is not None and self._loaded_with_orders == has_orders else None

    def wait(self, has_orders: bool, timeout: float) -> DimensionsAnswer | None:
        """The list once any refresh under way has finished, waiting up to `timeout` seconds (scripts, tests)."""
        self.latest(has_orders)
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.latest(has_orders)

    def _refresh(self, has_orders: bool) -> None:
        started = self._clock()
        try:
            answer = self._load()
        except Exception:  # noqa: BLE001 - keep the last list; the next page view tries again
            logger.exception("listing the dimensions' values failed")
            return
        with self._lock:
            self._answer, self._loaded_at, self._loaded_with_orders = answer, self._clock(), has_orders
        logger.info("dimension values listed in %.1f s", self._clock() - started)


def list_dimensions_in_subprocess(database_url: str) -> DimensionsAnswer:
    """`Analytics.list_dimensions()` of a store, computed by `python -m core.dashboard.dimension_lists`."""
    command = [sys.executable, "-m", "core.dashboard.dimension_lists", database_url]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_SECONDS)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise RuntimeError(f"listing the dimensions failed: {reason}")
    return DimensionsAnswer.model_validate_json(done.stdout)


def main(arguments: list[str]) -> int:
    """Print the dimensions of the store at `arguments[0]` as JSON (the child process's work)."""
    settings = replace(load_settings(), database_url=arguments[0])
    print(Analytics.from_settings(settings).list_dimensions().model_dump_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
