"""Small measuring tools: percentiles, timed sampling under a time budget, RSS and CPU time of processes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` percentile with linear interpolation (0.5: median); NaN when there are no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Samples:
    """Durations in seconds of repeated calls."""

    seconds: list[float] = field(default_factory=list)

    def p50_ms(self) -> float:
        return percentile(self.seconds, 0.5) * 1000

    def p99_ms(self) -> float:
        return percentile(self.seconds, 0.99) * 1000

    def __len__(self) -> int:
        return len(self.seconds)


def sample(call: Callable[[], object], *, count: int, budget_s: float, minimum: int = 3,
           before: Callable[[], object] | None = None) -> Samples:
    """Time `call` up to `count` times, stopping early once `budget_s` is spent (after `minimum` calls).

    `before` runs ahead of every call, outside the timing (e.g. a new data version for cold calls).
    """
    samples = Samples()
    deadline = time.monotonic() + budget_s
    while len(samples) < count and (len(samples) < minimum or time.monotonic() < deadline):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        samples.seconds.append(time.perf_counter() - started)
    return samples


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20
    except (OSError, IndexError, ValueError):
        return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def children_matching(text: str, parent: int | None = None) -> list[int]:
    """Pids of the (direct) children of `parent` (default: this process) whose command line contains `text`."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and text in command:
            found.append(int(entry.name))
    return found


def tree_rss_mb(pid: int) -> float | None:
    """Resident memory of a process plus all its descendants, in MB (None when the process is gone)."""
    own = rss_mb(pid)
    if own is None:
        return None
    return own + sum(tree_rss_mb(child) or 0.0 for child in children_matching("", parent=pid))


class RssSampler:
    """Samples the RSS of one process (found lazily by `find`) every `interval` seconds in a thread;
    with `tree=True`, the RSS of the process and its descendants."""

    def __init__(self, find: Callable[[], int | None], interval: float = 0.5, *, tree: bool = False) -> None:
        self._find = find
        self._interval = interval
        self._measure = tree_rss_mb if tree else rss_mb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = 0.0
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB)

    def __enter__(self) -> RssSampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        pid: int | None = None
        while not self._stop.is_set():
            pid = pid or self._find()
            value = self._measure(pid) if pid else None
            if value:  # None: not started or gone; 0: a zombie waiting to be reaped
                self.samples.append((time.monotonic() - self._started, value))
            self._stop.wait(self._interval)

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=float("nan"))

    @property
    def median_mb(self) -> float:
        return percentile([mb for _, mb in self.samples], 0.5)
