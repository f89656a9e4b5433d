"""Bursts of API faults and an emulator restart in the middle of a sync, over a real socket.

`tests/test_sync_faults.py` already draws faults at random, request by request, and fails a cycle with a
storm longer than the retries. Here faults come in bursts, as outages do: runs of consecutive 503 (nginx
HTML), 429 with `Retry-After`, 500, responses slower than the client's timeout, empty and truncated
bodies, each kind twice at seeded places, and the server process goes down and comes back on the same
port with the same account while the cycle is paging. Both a backfill and an incremental cycle must ride
it out and leave the store equal to the truth. The sync engine runs in-process with a short client
timeout (the daemon's 30 s would make "slower than the timeout" cost minutes) and a recent
SYNC_START_DATE (fewer windows to page); both databases.
"""

from __future__ import annotations

import asyncio
import random
import time

from sqlalchemy import Engine

from core.sync import CycleResult, SyncEngine
from retailcrm_emulator import generate
from retailcrm_emulator.faults import Faults
from tests.resilience.harness import AtRequest, ServedEmulator, Tap, emulator_app, recent_start
from tests.support.emulator import emulator_client, sync_settings
from tests.support.resilience import Scenario

BURST_KINDS = ("503", "429", "500", "slow", "empty", "truncated")
START = recent_start()
# Concurrent requests share the bursts, so one request may meet several in a row: retries must outlast that.
CLIENT = {"timeout": 0.4, "max_attempts": 20, "backoff_base": 0.05, "backoff_cap": 1.0, "concurrency": 8}


def burst_script(rng: random.Random, rounds: int, longest_gap: int) -> list[str]:
    """Runs of 2-5 faults of one kind after runs of 2 to `longest_gap` good answers; every kind `rounds` times."""
    kinds = [kind for _ in range(rounds) for kind in BURST_KINDS]
    rng.shuffle(kinds)
    script: list[str] = []
    for kind in kinds:
        script += ["ok"] * rng.randint(2, longest_gap) + [kind] * rng.randint(2, 5)
    return script


def _cycle(store: Engine, database_url: str, url: str) -> CycleResult:
    async def run() -> CycleResult:
        async with emulator_client(url=url, **CLIENT) as client:
            return await SyncEngine(store, client, sync_settings(database_url, url=url, SYNC_START_DATE=START.isoformat())).cycle()

    return asyncio.run(run())


def test_fault_bursts_and_a_restart_mid_sync_change_nothing(database_url: str, store: Engine) -> None:
    scenario = Scenario("API fault bursts and an emulator restart")
    rng = random.Random(41)
    account = generate(seed=41, scale=0.01)
    # A clean backfill here makes about 40 requests, each taking one good answer of the script: the script must
    # hold fewer good answers than that (32 with this seed), or its last burst is never served.
    faults = Faults(script=burst_script(rng, rounds=2, longest_gap=4), slow_seconds=1.0, retry_after=["0.2", "0.05"], seed=41)
    restarts = 0

    def restart() -> None:
        nonlocal restarts
        emulator.stop()
        time.sleep(1.0)  # down for a second: the client's retries must outlast it
        emulator.start()
        restarts += 1

    restarter = AtRequest(rng.randint(15, 40), restart)
    emulator = ServedEmulator(Tap(emulator_app(account, faults=faults), before=restarter.before))
    with emulator:
        backfill = _cycle(store, database_url, emulator.url)
        assert (backfill.kind, backfill.status) == ("backfill", "ok")
        assert not faults.script, "the backfill ended before every burst was served"
        assert restarter.done.wait(timeout=30) and restarts == 1
        scenario.verify(store, database_url, account, since=START)

        account.random_activity(rng, 300)
        served = sum(faults.injected.values())
        faults.script.extend(burst_script(rng, rounds=1, longest_gap=3))
        incremental = _cycle(store, database_url, emulator.url)
        assert (incremental.kind, incremental.status) == ("incremental", "ok")
        assert incremental.history_records > 0 and sum(faults.injected.values()) > served
        scenario.verify(store, database_url, account, since=START)

    assert set(faults.injected) == set(BURST_KINDS), faults.injected
    scenario.fault(sum(faults.injected.values()) + restarts)
