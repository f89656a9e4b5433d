"""Load on an MCP server over HTTP: N clients, each asking mixed questions back to back for a while.

Each client is a `fastmcp.Client` with the bearer token, in one event loop of this process. Every client
connects and makes one untimed call (a fresh server's first calls pay one-time costs), then, all together,
each sends its next question as soon as the previous one is answered (no think time: the worst case).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastmcp import Client

from bench.measure import percentile
from bench.questions import mixed_question

ERROR_SAMPLES = 5
WARM_UP = ("count_orders", {"period": "2025-11"})


@dataclass
class LoadResult:
    """Every call's latency (by tool), and the errors seen."""

    clients: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    first_calls: list[float] = field(default_factory=list)  # each client's untimed first call

    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]

    @property
    def calls(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    def throughput_per_s(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def p50_ms(self) -> float:
        return percentile(self.all_latencies(), 0.5) * 1000

    def p99_ms(self) -> float:
        return percentile(self.all_latencies(), 0.99) * 1000

    def max_ms(self) -> float:
        return max(self.all_latencies(), default=float("nan")) * 1000

    def first_call_max_ms(self) -> float:
        return max(self.first_calls, default=float("nan")) * 1000

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < ERROR_SAMPLES:
            self.error_samples.append(" ".join(text.split())[:200])


async def _client(url: str, token: str, seed: int, connected: asyncio.Barrier, window: list[float],
                  result: LoadResult) -> None:
    rng = random.Random(seed)
    try:
        async with Client(url, auth=token, timeout=120) as client:
            started = time.perf_counter()
            await client.call_tool(*WARM_UP)  # a fresh server's first calls pay one-time costs: not in the window
            result.first_calls.append(time.perf_counter() - started)
            await connected.wait()  # every client is connected before the timed window starts
            while time.monotonic() < window[0]:
                await _ask(client, *mixed_question(rng), result)
    except asyncio.BrokenBarrierError:
        return  # another client could not connect: the run is off
    except Exception as failure:  # noqa: BLE001 - a client that cannot connect is an error of the run
        result.error(f"client {seed}: {type(failure).__name__}: {failure}")
        await connected.abort()


async def _ask(client: Client, tool: str, arguments: dict[str, Any], result: LoadResult) -> None:
    started = time.perf_counter()
    try:
        answer = await client.call_tool(tool, arguments, raise_on_error=False)
    except Exception as failure:  # noqa: BLE001 - counted as an error of the run
        result.latencies[tool].append(time.perf_counter() - started)
        result.error(f"{tool}: {type(failure).__name__}: {failure}")
        return
    result.latencies[tool].append(time.perf_counter() - started)
    if answer.is_error:
        result.error(f"{tool}({arguments}): " + " ".join(getattr(block, "text", "") for block in answer.content))


async def _load(url: str, token: str, clients: int, seconds: float, seed: int) -> LoadResult:
    result = LoadResult(clients)
    window = [math.inf]  # the end of the timed window, set once every client is connected
    connected = asyncio.Barrier(clients + 1)
    tasks = [asyncio.ensure_future(_client(url, token, seed + index, connected, window, result))
             for index in range(clients)]
    try:
        await connected.wait()
    except asyncio.BrokenBarrierError:
        pass  # the errors are in the result
    started = time.monotonic()
    window[0] = started + seconds
    await asyncio.gather(*tasks)
    result.seconds = time.monotonic() - started
    return result


def run_load(url: str, token: str, *, clients: int, seconds: float, seed: int = 0) -> LoadResult:
    """`clients` concurrent clients asking mixed questions of the server at `url` for `seconds`."""
    return asyncio.run(_load(url, token, clients, seconds, seed))
