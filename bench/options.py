"""What a run measures and how big: the sections, the store sizes and the per-measurement profile."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.config import PROJECT_ROOT

SECTIONS = ("old_vs_new", "queries", "sync", "resources", "concurrency")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
DATA_DIR = PROJECT_ROOT / "data" / "bench"


@dataclass(frozen=True)
class Profile:
    """The size of every measurement; `FULL` for the real run, `QUICK` for a smoke run in seconds."""

    sizes: tuple[int, ...]
    demo_scale: float              # the emulator's demo dataset (1.0: about 37k orders)
    latencies: tuple[float, ...]   # seconds per API request, old way vs new way
    rps: float                     # the API's rate limit (requests per second)
    warm_calls: int                # per question
    cold_calls: int                # per question, each after a new data version
    cold_budget_s: float           # stop cold sampling of one question after this long (at least 3 calls)
    page_runs: int                 # new browser sessions per dashboard page
    settle_timeout_s: float        # longest wait for the dashboard's filters to be listed
    backfill_seconds: float        # bounded backfill per latency profile
    backfill_scale: float          # big enough not to finish within backfill_seconds
    changes: tuple[int, ...]       # changes between incremental cycles
    daemon_orders: int             # the emulator the daemon backfills for its RSS
    daemon_seconds: float          # how long that backfill runs at most
    load_clients: int              # concurrent MCP clients
    load_seconds: float            # concurrency run length
    resource_load_seconds: float   # load on the MCP server while its RSS is sampled
    sync_interval_minutes: float   # the daemon's cycle during the concurrency run
    activity_every_s: float        # seconds between injected batches of changes during the concurrency run
    activity_changes: int          # changes per batch


FULL = Profile(
    sizes=(10_000, 100_000, 1_000_000), demo_scale=1.0, latencies=(4.0, 0.15), rps=10, warm_calls=200,
    cold_calls=20, cold_budget_s=30, page_runs=2, settle_timeout_s=900, backfill_seconds=60, backfill_scale=3.0,
    changes=(0, 100, 10_000), daemon_orders=1_000_000, daemon_seconds=180, load_clients=20, load_seconds=60,
    resource_load_seconds=30, sync_interval_minutes=0.1, activity_every_s=2.0, activity_changes=50,
)
QUICK = Profile(
    sizes=(1_000, 3_000), demo_scale=0.03, latencies=(0.2, 0.02), rps=50, warm_calls=10, cold_calls=3,
    cold_budget_s=2, page_runs=1, settle_timeout_s=120, backfill_seconds=6, backfill_scale=1.0, changes=(0, 20, 200),
    daemon_orders=3_000, daemon_seconds=15, load_clients=3, load_seconds=3, resource_load_seconds=2,
    sync_interval_minutes=0.02, activity_every_s=0.5, activity_changes=5,
)


@dataclass(frozen=True)
class Options:
    """One run's choices (from the command line, or from a test)."""

    profile: Profile
    sizes: tuple[int, ...]
    sections: tuple[str, ...] = SECTIONS
    postgres_url: str | None = None  # None: SQLite only
    data_dir: Path = DATA_DIR
    results_dir: Path = RESULTS_DIR
    schema_prefix: str = "bench"
    drop_postgres: bool = False
    command: str = "python -m bench"


def postgres_url_from_environment() -> str:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local test server."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
