"""What every section gets: the options, the store cache, a progress log and a scratch folder."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.options import Options, Profile
from bench.stores import StoreCache


class Progress:
    """Progress lines on stdout, each with the time since the run started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:7.1f} s] {message}", flush=True)


@dataclass
class Bench:
    """The shared state of one run."""

    options: Options
    stores: StoreCache
    log: Progress
    workdir: Path
    shared: dict[str, Any] = field(default_factory=dict)  # measurements two sections report (see bench.pages)

    @property
    def profile(self) -> Profile:
        return self.options.profile

