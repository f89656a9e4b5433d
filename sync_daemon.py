"""RetailCRM sync daemon: keeps the local store level with the RetailCRM account.

    python sync_daemon.py            a cycle now and every SYNC_INTERVAL_MINUTES (SIGTERM/Ctrl-C: finish the page, exit)
    python sync_daemon.py --once     one cycle (backfill while unfinished, else incremental); exit 0 on success
    python sync_daemon.py --status   JSON: last sync, cursors, records stored, last error

Expected failures (settings, API key, network, store) print one line and exit non-zero (2 for
settings, 1 otherwise), never a traceback. Another sync already running against the store is said in
one line and exits 0 (`--wait` waits for it instead). The logic lives in `core.sync`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack

import schedule

from core.config import ConfigError, Secret, Settings, load_settings
from core.db import get_engine, missing_sqlite_file
from core.locking import SyncAlreadyRunning, sync_lock
from core.progress import SyncProgress
from core.retailcrm_client import AuthError
from core.sync import EXPECTED_FAILURES, failure_message, run_cycle
from core.sync_status import sync_status

logger = logging.getLogger("retailcrm.daemon")
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
LOG_PROGRESS_EVERY = 5.0


class MaskingFormatter(logging.Formatter):
    """Formats log records and masks the API key should any text ever contain it.

    Keys shorter than `MIN_MASKED` characters (toy keys of tests and demos) are not masked: replacing
    every "k" of a log line would hide nothing and garble everything.
    """

    MIN_MASKED = 6

    def __init__(self, secret: Secret | None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        key = secret.reveal() if secret else ""
        self._secret = key if len(key) >= self.MIN_MASKED else ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace(self._secret, "********") if self._secret else text


def configure_logging(secret: Secret | None, *, verbose: bool = False) -> None:
    """Log to stderr at INFO, API key masked. Retries of single requests are logged with --verbose only
    (DEBUG): a failure that outlasts them ends the cycle with its own one-line reason."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(secret))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)
    if not verbose:
        for name in ("httpx", "httpcore", "retailcrm.client"):
            logging.getLogger(name).setLevel(logging.ERROR)


class LogProgress:
    """Progress as a log line every few seconds and at the end of each phase (no terminal needed)."""

    def __init__(self, every: float = LOG_PROGRESS_EVERY) -> None:
        self.every = every
        self._last = 0.0

    def __call__(self, progress: SyncProgress) -> None:
        now = time.monotonic()
        finished = progress.pages_total is not None and progress.pages_done >= progress.pages_total
        if finished or now - self._last >= self.every:
            self._last = now
            logger.info("%s", progress.describe())


def _clock_time(seconds: float | None) -> str:
    """"h:mm:ss", or "-:--:--" when unknown."""
    if seconds is None:
        return "-:--:--"
    minutes, second = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{second:02d}"


class TerminalProgress:
    """A `rich` progress bar per stream and phase: pages done/total, records, rate, ETA.

    Rate and ETA are the engine's (measured over a sliding window, see `core.progress`), not rich's own.
    """

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("pages"),
            TextColumn("{task.fields[records]:>9,} records  {task.fields[rate]:>7,.0f}/s"),
            TextColumn("ETA {task.fields[eta]}"),
            console=Console(stderr=True), transient=False,
        )
        self._tasks: dict[tuple[str, str], int] = {}
        self._streams: list[tuple[logging.StreamHandler, object]] = []

    def __enter__(self) -> TerminalProgress:
        self.bar.start()  # from here on sys.stderr prints above the bar
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                self._streams.append((handler, handler.setStream(sys.stderr)))
        return self

    def __exit__(self, *_: object) -> None:
        for handler, stream in self._streams:
            handler.setStream(stream)
        self.bar.stop()

    def __call__(self, progress: SyncProgress) -> None:
        key = (progress.stream, progress.phase)
        if key not in self._tasks:
            self._tasks[key] = self.bar.add_task(
                f"{progress.stream} {progress.phase}", total=progress.pages_total, records=0, rate=0.0,
                eta=_clock_time(None),
            )
        self.bar.update(
            self._tasks[key], completed=progress.pages_done, total=progress.pages_total,
            records=progress.records, rate=progress.records_per_second, eta=_clock_time(progress.eta_seconds),
        )


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM/SIGINT: finish the current page, commit and exit; a second signal exits at once."""

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            os._exit(128 + signum)
        logger.info("%s received: finishing the current page, then exiting", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(message, file=sys.stderr, flush=True)
    return code


def sync_once(settings: Settings, stop: threading.Event, *, wait: bool) -> int:
    """One cycle with a progress display; the exit code of `--once`."""
    with ExitStack() as stack:
        progress: Callable[[SyncProgress], None]
        if sys.stderr.isatty():
            progress = stack.enter_context(TerminalProgress())
        else:
            progress = LogProgress()
        try:
            result = run_cycle(settings, progress=progress, stop=stop, wait_for_lock=wait)
        except SyncAlreadyRunning as busy:
            return _fail(str(busy), EXIT_OK)
        except EXPECTED_FAILURES as failure:
            return _fail(failure_message(failure, settings))
    logger.info("%s", result.describe())
    return EXIT_OK


def daemon_cycle(settings: Settings, stop: threading.Event, *, wait: bool) -> str | None:
    """One cycle of the daemon, its outcome logged; the reason to stop the daemon (a rejected key) or None.

    An expected failure (API or store unavailable, ...) is one log line saying when the next try is;
    only an unexpected error is logged with its traceback. The daemon lives on either way.
    """
    try:
        result = run_cycle(settings, progress=LogProgress(), stop=stop, wait_for_lock=wait)
        logger.info("%s", result.describe())
    except AuthError as rejected:
        stop.set()
        return str(rejected)
    except SyncAlreadyRunning as busy:
        logger.info("skipped this cycle: %s", busy)
    except EXPECTED_FAILURES as failure:
        logger.error("sync cycle failed: %s; retrying in %g s", failure_message(failure, settings),
                     settings.sync_interval_minutes * 60)
    except Exception:  # noqa: BLE001 - a daemon survives a bad cycle; the next one still runs
        logger.exception("sync cycle crashed")
    return None


def run_forever(settings: Settings, stop: threading.Event, *, wait: bool) -> int:
    """A cycle now and every `SYNC_INTERVAL_MINUTES` until `stop`; exit code of the daemon."""
    engine = get_engine(settings.database_url)
    fatal: list[str] = []

    def cycle() -> None:
        if (reason := daemon_cycle(settings, stop, wait=wait)) is not None:
            fatal.append(reason)

    try:
        with sync_lock(engine, wait=wait, name="daemon"):
            scheduler = schedule.Scheduler()
            scheduler.every(settings.sync_interval_minutes).minutes.do(cycle)
            logger.info("sync daemon started: a cycle every %g min against %s",
                        settings.sync_interval_minutes, engine.url.render_as_string(hide_password=True))
            cycle()
            while not stop.is_set():
                scheduler.run_pending()
                stop.wait(timeout=min(max(scheduler.idle_seconds or 1.0, 0.05), 1.0))
    except SyncAlreadyRunning as busy:
        return _fail(str(busy), EXIT_OK)
    if fatal:
        return _fail(fatal[0])
    logger.info("sync daemon stopped")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load settings and run the chosen mode; returns the exit code."""
    parser = argparse.ArgumentParser(description="Keep the local store level with RetailCRM.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run one cycle and exit")
    mode.add_argument("--status", action="store_true", help="print the sync status as JSON and exit")
    parser.add_argument("--wait", action="store_true", help="wait for another running sync instead of exiting")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as problem:
        return _fail(str(problem), EXIT_CONFIG)
    configure_logging(settings.api_key, verbose=args.verbose)
    try:
        if args.status:
            missing = missing_sqlite_file(settings.database_url)
            if missing is not None:
                return _fail(f"no store at {missing}: nothing has been synced there; set DATABASE_URL to the store "
                             "to inspect (the demo's is sqlite:///<repo>/data/demo.db)")
            print(json.dumps(sync_status(get_engine(settings.database_url)), indent=2, ensure_ascii=False))
            return EXIT_OK
        settings.require_api()
        stop = threading.Event()
        _stop_on_signals(stop)
        if args.once:
            return sync_once(settings, stop, wait=args.wait)
        return run_forever(settings, stop, wait=args.wait)
    except ConfigError as problem:
        return _fail(str(problem), EXIT_CONFIG)
    except EXPECTED_FAILURES as failure:
        return _fail(failure_message(failure, settings))


if __name__ == "__main__":
    sys.exit(main())
