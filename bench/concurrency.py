"""Section 5: many agents at once while the store changes. `mcp_server.py --http` with a token over a synced
demo store, N concurrent MCP clients asking mixed questions back to back, while `sync_daemon.py` runs a cycle
every few seconds against an emulator that keeps receiving changes (so answers keep going cold).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from bench.context import Bench
from bench.measure import RssSampler, cpu_seconds, percentile
from bench.mcp_load import LoadResult, run_load
from bench.processes import MCP_TOKEN, Child, answers_http, mcp_http_server
from bench.report import Check, SectionResult, Table
from core.db import get_engine
from core.models import StoreMeta, SyncRun
from core.sync import run_cycle
from tests.support.daemon import daemon_env
from tests.support.emulator import EmulatorProcess, sync_settings

P99_TARGET_MS = 100.0
LATENCY = 0.15


@contextmanager
def injected_activity(emulator: EmulatorProcess, every_s: float, changes: int) -> Iterator[list[int]]:
    """Make `changes` random changes in the emulator every `every_s` seconds until the block ends."""
    stop = threading.Event()
    done: list[int] = []

    def inject() -> None:
        seed = 1000
        while not stop.wait(every_s):
            seed += 1
            emulator.control("POST", "/_emulator/activity", {"n": changes, "seed": seed})
            done.append(changes)

    thread = threading.Thread(target=inject, name="activity", daemon=True)
    thread.start()
    try:
        yield done
    finally:
        stop.set()
        thread.join()


def _store_counters(database_url: str) -> tuple[int, int]:
    """(data version, successful incremental cycles) of the store."""
    with get_engine(database_url).connect() as connection:
        version = connection.execute(select(StoreMeta.data_version)).scalar() or 0
        cycles = connection.execute(select(func.count()).select_from(SyncRun).where(
            SyncRun.kind == "incremental", SyncRun.status == "ok")).scalar_one()
    return int(version), int(cycles)


def run(bench: Bench) -> SectionResult:
    profile = bench.profile
    result = SectionResult("concurrency", "5. Concurrency")
    database_url = f"sqlite:///{bench.workdir / 'concurrency.db'}"
    with EmulatorProcess(scale=profile.demo_scale, rps=profile.rps, arguments=["--latency", str(LATENCY)]) as emulator:
        bench.log("concurrency: first sync of the demo dataset")
        run_cycle(sync_settings(database_url, url=emulator.url, RETAILCRM_RPS=str(profile.rps)))
        env = daemon_env(database_url, emulator.url, RETAILCRM_RPS=str(profile.rps),
                         SYNC_INTERVAL_MINUTES=str(profile.sync_interval_minutes))
        server, url = mcp_http_server(database_url, bench.workdir / "mcp-concurrency.log")
        with Child(["sync_daemon.py"], env, bench.workdir / "daemon-concurrency.log") as daemon, server:
            server.wait_until(lambda: answers_http(url), timeout=120, what="mcp_server.py --http")
            version_before, cycles_before = _store_counters(database_url)
            bench.log(f"concurrency: {profile.load_clients} MCP clients over HTTP for {profile.load_seconds:g} s; "
                      f"the daemon syncs every {profile.sync_interval_minutes * 60:g} s, "
                      f"{profile.activity_changes} changes every {profile.activity_every_s:g} s")
            server_cpu, client_cpu = cpu_seconds(server.pid) or 0.0, time.process_time()
            with RssSampler(lambda: server.pid, interval=0.5) as rss, \
                    injected_activity(emulator, profile.activity_every_s, profile.activity_changes) as injected:
                load = run_load(url, MCP_TOKEN, clients=profile.load_clients, seconds=profile.load_seconds)
            server_share = ((cpu_seconds(server.pid) or 0.0) - server_cpu) / load.seconds
            client_share = (time.process_time() - client_cpu) / load.seconds
            version_after, cycles_after = _store_counters(database_url)
            daemon_alive = daemon.running()
    table = Table(f"{load.clients} MCP clients over HTTP for {load.seconds:.0f} s while the daemon syncs live changes",
                  ["calls", "calls/s", "p50", "p99", "max", "errors", "sync cycles during the run",
                   "data versions during the run", "changes injected", "server peak RSS"])
    table.add(f"{load.calls:,}", f"{load.throughput_per_s():,.0f}", f"{load.p50_ms():.1f} ms", f"{load.p99_ms():.0f} ms",
              f"{load.max_ms():.0f} ms", load.errors, cycles_after - cycles_before, version_after - version_before,
              f"{sum(injected):,}", f"{rss.peak_mb:.0f} MB")
    table.notes += [
        "`python mcp_server.py --http` (stateless streamable HTTP, bearer token) and `python sync_daemon.py` as "
        f"subprocesses; the emulator answers with {LATENCY:g} s latency and a {profile.rps:g} requests/s limit and "
        "receives `random_activity` changes through its control API; every committed cycle makes the cached "
        "answers cold.",
        "Each client is a `fastmcp.Client` in this process sending its next question as soon as it has an answer "
        "(no think time); questions mix every tool, months of 2024-2025 and dimensions (`bench/questions.py`).",
        f"All processes share the machine's cores; over the run the server used {server_share:.0%} of one core "
        f"and the clients' process {client_share:.0%} (the rest: daemon, emulator, other work on the machine).",
        f"Before the timed window every client made one call; the slowest of those first calls after the server "
        f"started took {load.first_call_max_ms():,.0f} ms (one-time costs of a fresh process, not in the figures).",
    ]
    if load.error_samples:
        table.notes.append("Errors seen: " + "; ".join(load.error_samples))
    if not daemon_alive:
        table.notes.append("The daemon had exited before the end of the run.")
    result.tables += [table, _per_tool(load)]
    result.metrics = {"clients": load.clients, "run_s": load.seconds, "calls": load.calls,
                      "throughput_per_s": load.throughput_per_s(), "p50_ms": load.p50_ms(), "p99_ms": load.p99_ms(),
                      "max_ms": load.max_ms(), "first_call_max_ms": load.first_call_max_ms(), "errors": load.errors, "sync_cycles": cycles_after - cycles_before,
                      "data_versions": version_after - version_before, "server_peak_rss_mb": rss.peak_mb,
                      "server_cpu_fraction": server_share, "client_cpu_fraction": client_share}
    result.checks += [
        Check(f"{load.clients} concurrent clients: p99 < {P99_TARGET_MS:g} ms", f"{load.p99_ms():.0f} ms",
              load.p99_ms() < P99_TARGET_MS, f"{load.calls:,} calls, {cycles_after - cycles_before} sync cycles"),
        Check(f"{load.clients} concurrent clients: zero errors", f"{load.errors} errors", load.errors == 0),
    ]
    return result


def _per_tool(load: LoadResult) -> Table:
    table = Table("Latency by tool during the concurrency run", ["tool", "calls", "p50", "p99", "max"])
    for tool, values in sorted(load.latencies.items()):
        table.add(tool, f"{len(values):,}", f"{percentile(values, 0.5) * 1000:.1f} ms",
                  f"{percentile(values, 0.99) * 1000:.0f} ms", f"{max(values) * 1000:.0f} ms")
    return table
