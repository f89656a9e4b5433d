"""Measure how fast the RetailCRM client pages through orders against a slow, rate-limited server.

Starts the emulator under uvicorn on a free loopback port (4 s latency, 10 rps limit by default),
fetches `--pages` pages of 100 orders with one client at the same rps, and prints pages/s. A
measurement, not a test: run it by hand, e.g.

    PYTHONPATH=. .venv/bin/python scripts/measure_client_throughput.py --pages 40
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time
from datetime import date

import uvicorn

from core.config import Secret
from core.retailcrm_client import RetailCRMClient
from retailcrm_emulator import generate
from retailcrm_emulator.app import create_app

KEY = "measure-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(pages: int, latency: float, rps: float, concurrency: int) -> None:
    """Serve the emulator, fetch `pages` pages concurrently, print the rates."""
    account = generate(42, end=date(2026, 12, 3), orders=pages * 100 + 100)
    app = create_app(account, api_key=KEY, rate_limit_rps=rps, latency=latency)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with RetailCRMClient(
            f"http://127.0.0.1:{port}", Secret(KEY), rps=rps, concurrency=concurrency
        ) as client:
            began = time.perf_counter()
            fetched = [body async for body in client.orders_pages(range(1, pages + 1))]
            elapsed = time.perf_counter() - began
        orders = sum(len(body["orders"]) for body in fetched)
        stats = app.state.emulator.stats
        print(f"pages: {len(fetched)} ({orders} orders) in {elapsed:.2f} s = {len(fetched) / elapsed:.2f} pages/s")
        print(f"latency {latency} s, client rps {rps}, concurrency {concurrency}; lower bound "
              f"{(pages - 1) / rps + latency:.2f} s = {pages / ((pages - 1) / rps + latency):.2f} pages/s")
        print(f"requests sent: {client.requests_made}, rate limited by the server: {stats.rate_limited}")
    finally:
        server.should_exit = True
        await serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--latency", type=float, default=4.0)
    parser.add_argument("--rps", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=48)
    args = parser.parse_args()
    asyncio.run(measure(args.pages, args.latency, args.rps, args.concurrency))


if __name__ == "__main__":
    main()
