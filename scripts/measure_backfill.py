"""Measure backfill throughput against the emulator over a real socket, as a share of the rate-limit ceiling.

For each latency profile: start `python -m retailcrm_emulator` with a rate limit (default 10 requests/s)
and that latency per request, run the real sync (`core.sync.run_cycle`) into a fresh SQLite store for
`--seconds`, then stop it (it finishes the current page and commits) and report orders committed per
second. The ceiling is rps × 100 orders per page (1,000 orders/s at 10 rps).

    PYTHONPATH=. python scripts/measure_backfill.py                        # 0.15 s and 4 s, 45 s each
    PYTHONPATH=. python scripts/measure_backfill.py --latency 4 --seconds 60
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import load_settings  # noqa: E402
from core.progress import SyncProgress  # noqa: E402
from core.sync import run_cycle  # noqa: E402

API_KEY = "measure-key"


@dataclass
class Measurement:
    """What one profile achieved."""

    latency: float
    seconds: float
    orders: int
    pages: int
    requests: int
    rate_limited: int
    first_page_after: float
    cpu_seconds: float
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, orders committed)

    def orders_per_second(self) -> float:
        """Orders committed per second of the whole run (start-up included)."""
        return self.orders / self.seconds if self.seconds else 0.0

    def steady_orders_per_second(self) -> float:
        """Orders committed per second from the first committed page on."""
        paging = self.seconds - self.first_page_after
        return self.orders / paging if paging > 0 else 0.0

    def second_half_orders_per_second(self) -> float:
        """Orders committed per second over the second half of the run (the pipeline of pages already full)."""
        half = [(moment, orders) for moment, orders in self.timeline if moment >= self.seconds / 2]
        if len(half) < 2 or half[-1][0] <= half[0][0]:
            return 0.0
        return (half[-1][1] - half[0][1]) / (half[-1][0] - half[0][0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_emulator(port: int, *, rps: float, latency: float, scale: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "retailcrm_emulator", "--port", str(port), "--api-key", API_KEY,
               "--scale", str(scale), "--rps", str(rps), "--latency", str(latency)]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited with code {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/_emulator/truth", headers={"X-API-KEY": API_KEY}, timeout=2)
            return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the emulator did not start within 180 s")


def measure(*, latency: float, seconds: float, rps: float, scale: float, concurrency: int) -> Measurement:
    """Backfill for `seconds` against an emulator with `latency` and `rps`; count committed orders."""
    port = _free_port()
    emulator = _start_emulator(port, rps=rps, latency=latency, scale=scale)
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings({
                "RETAILCRM_URL": f"http://127.0.0.1:{port}", "RETAILCRM_API_KEY": API_KEY,
                "DATABASE_URL": f"sqlite:///{folder}/measure.db", "RETAILCRM_RPS": str(rps),
                "RETAILCRM_CONCURRENCY": str(concurrency),
            }, dotenv=False)
            stop = threading.Event()
            first_page: list[float] = []
            orders = [0]
            timeline: list[tuple[float, int]] = []

            def progress(update: SyncProgress) -> None:
                if update.stream == "orders" and update.phase == "backfill":
                    if update.pages_done and not first_page:
                        first_page.append(time.monotonic())
                    orders[0] = update.records
                    timeline.append((time.monotonic() - started, update.records))

            timer = threading.Timer(seconds, stop.set)
            cpu_before = time.process_time()
            started = time.monotonic()
            timer.start()
            try:
                result = run_cycle(settings, progress=progress, stop=stop)
            finally:
                timer.cancel()
            elapsed = time.monotonic() - started
            cpu = time.process_time() - cpu_before
        stats = httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", headers={"X-API-KEY": API_KEY}).json()["stats"]
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    return Measurement(latency=latency, seconds=elapsed, orders=orders[0], pages=result.pages,
                       requests=result.api_requests, rate_limited=stats["rateLimited"],
                       first_page_after=(first_page[0] - started) if first_page else float("nan"), cpu_seconds=cpu,
                       timeline=timeline)


def main() -> None:
    """Run every profile and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.15, 4.0], help="seconds per request")
    parser.add_argument("--seconds", type=float, default=45, help="how long to backfill per profile")
    parser.add_argument("--rps", type=float, default=10, help="the emulator's rate limit (and the client's)")
    parser.add_argument("--scale", type=float, default=1.0, help="emulator dataset scale (1.0: about 37k orders)")
    parser.add_argument("--concurrency", type=int, default=48, help="requests in flight (RETAILCRM_CONCURRENCY)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    ceiling = args.rps * 100
    print(f"ceiling: {args.rps:g} requests/s x 100 orders = {ceiling:,.0f} orders/s; "
          f"concurrency {args.concurrency}; {args.seconds:g} s per profile", flush=True)
    for latency in args.latency:
        result = measure(latency=latency, seconds=args.seconds, rps=args.rps, scale=args.scale,
                         concurrency=args.concurrency)
        rate, steady = result.orders_per_second(), result.steady_orders_per_second()
        late = result.second_half_orders_per_second()
        print(
            f"latency {latency:>5.2f} s: {result.orders:>6,} orders in {result.seconds:5.1f} s = {rate:6,.0f} orders/s "
            f"({rate / ceiling:.1%} of the ceiling); from the first committed page (after "
            f"{result.first_page_after:.1f} s): {steady:,.0f} orders/s ({steady / ceiling:.1%}); second half: "
            f"{late:,.0f} orders/s ({late / ceiling:.1%}); "
            f"{result.requests} requests, {result.rate_limited} answered 503 by the rate limit; "
            f"sync process CPU {result.cpu_seconds / result.seconds:.0%} of one core",
            flush=True,
        )


if __name__ == "__main__":
    main()
