"""SIGKILL at twenty seeded points of backfill and incremental cycles; the restarted daemon ends equal to the truth.

`tests/test_sync_kills.py` kills a few times at moments drawn from the clock and checks the end state;
this scenario pins twenty reproducible kill points to the daemon's own requests and also checks the
store after every single kill.

`sync_daemon.py` runs as a real process against the emulator over real HTTP (uvicorn in a thread of
this process, around an `Account` the test can change between runs). Each kill point is "the n-th API
request of this run, on arrival or a few milliseconds after its answer" (so kills land while requests
are in flight, between commits and inside them); in incremental cycles, which make few requests, a
seeded number of seconds after the first request may come first. Half the kill points go to the
backfill: if it is still unfinished then, one clean `--once` run finishes it.
Between runs the account changes. Right after every kill the store must be consistent with itself
(day aggregates equal a recount of its own orders: commits are atomic) and no cursor may have moved
back; at the end one `--once` run must leave the store equal to the truth.

SQLite only: the point is what a killed process leaves behind (a WAL file, a lock file, a transaction
cut short), and the commit boundaries are the same engine code on both databases, whose own atomicity
is not in question; a second database would double the suite's longest scenario for nothing.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, select

from core.db import init_db, make_engine, session_for
from core.models import SyncRun, SyncState
from retailcrm_emulator import generate
from tests.resilience.harness import KillSwitch, ServedEmulator, Tap, emulator_app, spawn_daemon
from tests.support.daemon import daemon_env, run_daemon
from tests.support.resilience import Scenario, store_self_differences

KILLS = 20
SEED = 31


def _states(engine: Engine) -> dict[str, SyncState]:
    with session_for(engine) as session:
        return {state.stream: state for state in session.execute(select(SyncState)).scalars()}


def _backfill_done(engine: Engine) -> bool:
    states = _states(engine)
    return len(states) == 2 and all(state.backfill_done for state in states.values())


def _last_run(engine: Engine) -> SyncRun | None:
    with session_for(engine) as session:
        return session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()


def _interrupted_phase(engine: Engine, previous: SyncRun | None) -> str:
    """What a kill interrupted: the kind of this process's run left "running", else where it was."""
    run = _last_run(engine)
    if run is None or (previous is not None and run.id == previous.id):
        return "start-up"
    return run.kind if run.status == "running" else "between cycles"


def _position(state: SyncState) -> tuple[int, int, int]:
    """Progress of a stream as a sortable triple: (backfill done, window, page)."""
    cursor = state.backfill_cursor or {}
    if state.backfill_done:
        return (1, 0, 0)
    return (0, int(cursor.get("window", 0)), int(cursor.get("page", 0)))


def test_sigkill_at_twenty_points_then_the_store_equals_the_truth(tmp_path: Path) -> None:
    scenario = Scenario("SIGKILL during backfill and incremental cycles")
    rng = random.Random(SEED)
    account = generate(seed=SEED, scale=0.01)
    switch = KillSwitch()
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(database_url)
    init_db(engine)  # the daemon would create the schema too; here the checks below can read it from the start
    log = tmp_path / "daemon.log"
    phases: Counter[str] = Counter()
    before: dict[str, tuple[int, int, int]] = {}
    since: dict[str, int] = {}
    with ServedEmulator(Tap(emulator_app(account), before=switch.before, after=switch.after)) as emulator:
        env = daemon_env(database_url, emulator.url, SYNC_INTERVAL_MINUTES="0.01", RETAILCRM_CONCURRENCY="4")
        for kill in range(KILLS):
            in_backfill = not _backfill_done(engine)
            if in_backfill and kill == KILLS // 2:  # half the kill points are kept for incremental cycles
                assert run_daemon(["--once"], env).returncode == 0
                in_backfill = False
            if not in_backfill:
                account.random_activity(rng, rng.randint(20, 150))
            # A backfill is killed at a request (a fast machine could finish it within any fixed time), or as
            # it finishes; an incremental cycle makes few requests, so there a seeded time limit may come first.
            at_request = rng.randint(1, 100) if in_backfill else rng.randint(1, 12)
            delay = rng.choice((None, rng.uniform(0.0, 0.03)))
            deadline = time.monotonic() + (120.0 if in_backfill else rng.uniform(0.3, 2.5))
            previous = _last_run(engine)
            process = spawn_daemon([], env, log)
            switch.arm(process.pid, at_request, delay)
            assert switch.reached.wait(timeout=60), log.read_text()[-3000:]
            while not switch.fired.wait(timeout=0.05):
                if time.monotonic() > deadline or (in_backfill and _backfill_done(engine)):
                    switch.disarm()
                    process.send_signal(signal.SIGKILL)
                    phases["timed" if time.monotonic() > deadline else "as the backfill ended"] += 1
                    break
            process.wait(timeout=30)
            assert process.returncode == -signal.SIGKILL, log.read_text()[-3000:]
            scenario.fault()

            assert not store_self_differences(engine), "a killed commit left the store inconsistent"
            phases[_interrupted_phase(engine, previous)] += 1
            for stream, state in _states(engine).items():
                assert _position(state) >= before.get(stream, (0, 0, 0)), f"the {stream} backfill went back"
                assert (state.history_since_id or 0) >= since.get(stream, 0), f"the {stream} cursor went back"
                before[stream], since[stream] = _position(state), state.history_since_id or 0

        account.random_activity(rng, 100)
        finish = run_daemon(["--once"], env)
        assert finish.returncode == 0, finish.stderr
        scenario.verify(engine, database_url, account)
    print(f"kill points: {dict(phases)}")

    with session_for(engine) as session:
        runs = Counter(run.status for run in session.execute(select(SyncRun)).scalars())
    engine.dispose()
    assert phases["backfill"] >= 3 and phases["incremental"] >= 3, f"kills did not spread over both kinds: {phases}"
    assert runs["running"] == 0 and runs["interrupted"] == phases["backfill"] + phases["incremental"], runs
