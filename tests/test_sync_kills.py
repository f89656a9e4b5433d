"""A sync daemon killed with SIGKILL at random points resumes: nothing lost, nothing duplicated.

The emulator runs as its own process over real HTTP; each kill lands while a backfill or an
incremental sync is committing pages. The seed of the kill points is in the failure message.
"""

from __future__ import annotations

import asyncio
import random
import time

from sqlalchemy import func, select

from core.db import make_engine, session_for
from core.models import Order, SyncRun
from tests.support.daemon import daemon_env, run_daemon, start_daemon, wait_for
from tests.support.emulator import EmulatorProcess, emulator_client
from tests.support.truth import ApiSnapshot, store_differences

BACKFILL_KILLS = 3
INCREMENTAL_KILLS = 2


def _stored(engine) -> int:  # type: ignore[no-untyped-def]
    try:
        with session_for(engine) as session:
            return int(session.execute(select(func.count()).select_from(Order)).scalar_one())
    except Exception:  # noqa: BLE001 - the tables may not exist yet
        return 0


def _interrupted_runs(engine) -> int:  # type: ignore[no-untyped-def]
    with session_for(engine) as session:
        query = select(func.count()).select_from(SyncRun).where(SyncRun.status == "interrupted")
        return int(session.execute(query).scalar_one())


def test_sigkill_at_random_points_loses_and_duplicates_nothing(database_url) -> None:  # type: ignore[no-untyped-def]
    seed = time.time_ns() % 1_000_000
    rng = random.Random(seed)
    engine = make_engine(database_url)
    with EmulatorProcess(scale=0.05, seed=31, arguments=["--latency", "0.02"]) as emulator:
        env = daemon_env(database_url, emulator.url, RETAILCRM_CONCURRENCY="4")
        total = emulator.control("GET", "/_emulator/truth")["truth"]["liveOrders"]
        kills = 0
        for target in sorted(rng.sample(range(50, total - 50), BACKFILL_KILLS)):
            process = start_daemon(["--once"], env)
            wait_for(lambda process=process, target=target: _stored(engine) >= target or process.poll() is not None,
                     timeout=120, what=f"{target} orders stored (seed {seed})")
            if process.poll() is None:
                process.kill()
                kills += 1
            process.communicate(timeout=30)
        assert kills > 0, f"every daemon finished before its kill point (seed {seed})"

        emulator.control("POST", "/_emulator/activity", {"n": 600, "seed": seed})
        for _ in range(INCREMENTAL_KILLS):
            process = start_daemon(["--once"], env)
            time.sleep(rng.uniform(0.3, 2.0))
            if process.poll() is None:
                process.kill()
                kills += 1
            process.communicate(timeout=30)
            emulator.control("POST", "/_emulator/activity", {"n": 200, "seed": seed + kills})

        final = run_daemon(["--once"], env)
        assert final.returncode == 0, final.stderr

        async def snapshot() -> ApiSnapshot:
            async with emulator_client(url=emulator.url) as client:
                return await ApiSnapshot.take(client)

        truth = asyncio.run(snapshot())
    problems = store_differences(engine, truth)
    interrupted = _interrupted_runs(engine)
    engine.dispose()
    assert not problems, f"seed {seed}, {kills} kills: " + "\n".join(problems[:15])
    assert interrupted >= 1
