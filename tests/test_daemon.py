"""`sync_daemon.py` as a real process against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.db import make_engine, session_for
from core.models import Order, SyncRun
from tests.support.daemon import daemon_env, run_daemon, start_daemon, wait_for
from tests.support.emulator import API_KEY, EmulatorProcess, emulator_client, free_port
from tests.support.truth import ApiSnapshot, assert_store_matches


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(scale=0.02, seed=21) as running:
        yield running


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    assert "Traceback" not in text
    return lines[0]


def _requests(emulator: EmulatorProcess) -> int:
    return emulator.control("GET", "/_emulator/stats")["stats"]["requests"]


def _truth(emulator: EmulatorProcess) -> ApiSnapshot:
    async def take() -> ApiSnapshot:
        async with emulator_client(url=emulator.url) as client:
            return await ApiSnapshot.take(client)

    return asyncio.run(take())


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"RETAILCRM_RPS": "abc"}, "RETAILCRM_RPS must be a number, got 'abc'"),
        ({"RETAILCRM_URL": ""}, "RETAILCRM_URL is not set"),
        ({"RETAILCRM_URL": "ftp://x"}, "RETAILCRM_URL must look like"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must be"),
    ],
)
def test_bad_configuration_is_one_line(tmp_path, variables: dict[str, str], message: str) -> None:  # type: ignore[no-untyped-def]
    env = daemon_env(f"sqlite:///{tmp_path / 'store.db'}", "http://127.0.0.1:9", **variables)
    result = run_daemon(["--once"], env)
    assert result.returncode == 2
    assert message in _one_line(result.stderr)


def test_a_wrong_key_is_one_line_after_one_request(tmp_path, emulator: EmulatorProcess) -> None:  # type: ignore[no-untyped-def]
    before = _requests(emulator)
    result = run_daemon(["--once"], daemon_env(f"sqlite:///{tmp_path / 'store.db'}", emulator.url, api_key="wrong-key"))
    assert result.returncode == 1
    assert _one_line(result.stderr).startswith("RetailCRM rejected the API key")
    assert "wrong-key" not in result.stderr
    assert _requests(emulator) - before == 1


def test_an_unreachable_api_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}"
    result = run_daemon(["--once"], daemon_env(f"sqlite:///{tmp_path / 'store.db'}", url))
    assert result.returncode == 1
    line = _one_line(result.stderr)
    assert line.startswith(f"RetailCRM at {url} is unavailable:") and "failed after" in line


def test_once_then_status(database_url, emulator: EmulatorProcess) -> None:  # type: ignore[no-untyped-def]
    env = daemon_env(database_url, emulator.url)
    once = run_daemon(["--once", "--verbose"], env)
    assert once.returncode == 0, once.stderr
    assert API_KEY not in once.stderr + once.stdout  # not even in debug logs

    status = run_daemon(["--status"], env)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    truth = emulator.control("GET", "/_emulator/truth")["truth"]
    assert report["orders_stored"] == truth["liveOrders"]
    assert report["customers_stored"] == truth["liveCustomers"]
    assert report["last_sync_at"] and report["last_error"] is None
    assert report["streams"]["orders"]["history_since_id"] == truth["maxOrderHistoryId"]
    assert report["recent_runs"][0]["status"] == "ok"
    started, finished = (datetime.fromisoformat(report["recent_runs"][0][key]) for key in ("started_at", "finished_at"))
    assert abs(report["recent_runs"][0]["duration_s"] - (finished - started).total_seconds()) < 1  # to the ms
    times = [report["last_sync_at"], report["reference_refreshed_at"], report["streams"]["orders"]["last_success_at"],
             report["recent_runs"][0]["started_at"], report["recent_runs"][0]["finished_at"]]
    assert all(datetime.fromisoformat(moment).utcoffset() == timedelta(0) for moment in times), times  # say UTC


def test_status_of_a_store_that_does_not_exist_says_so_and_creates_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nothing-here.db"
    status = run_daemon(["--status"], daemon_env(f"sqlite:///{path}", None))
    assert status.returncode == 1
    assert _one_line(status.stderr).startswith(f"no store at {path}") and "DATABASE_URL" in status.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_second_daemon_says_so_and_exits(database_url, emulator: EmulatorProcess) -> None:  # type: ignore[no-untyped-def]
    env = daemon_env(database_url, emulator.url, SYNC_INTERVAL_MINUTES="60")
    first = start_daemon([], env)
    try:
        engine = make_engine(database_url)
        wait_for(lambda: _last_run_status(engine) == "ok", what="the first daemon's first cycle")
        second = run_daemon([], env, timeout=60)
        assert second.returncode == 0
        assert "another sync is running against" in _one_line(second.stderr)
        engine.dispose()
    finally:
        first.send_signal(signal.SIGTERM)
        _, logs = first.communicate(timeout=30)
    assert first.returncode == 0, logs
    assert API_KEY not in logs


def test_the_daemon_survives_a_failed_cycle_and_the_next_one_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    daemon = start_daemon([], daemon_env(database_url, f"http://127.0.0.1:{port}", SYNC_INTERVAL_MINUTES="0.05"))
    try:
        engine = make_engine(database_url)
        wait_for(lambda: _last_run_status(engine) == "error", timeout=90, what="a cycle failing on the missing API")
        with EmulatorProcess(scale=0.02, seed=23, port=port):
            wait_for(lambda: _last_run_status(engine) == "ok", timeout=120, what="a later cycle succeeding")
        engine.dispose()
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, logs = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, logs
    assert "sync cycle failed: RetailCRM at" in logs and "Traceback" not in logs


def test_sigterm_finishes_the_page_commits_and_exits(database_url) -> None:  # type: ignore[no-untyped-def]
    with EmulatorProcess(scale=0.02, seed=22, arguments=["--latency", "0.05"]) as emulator:
        env = daemon_env(database_url, emulator.url, RETAILCRM_CONCURRENCY="2")
        engine = make_engine(database_url)
        process = start_daemon(["--once"], env)
        wait_for(lambda: _stored_orders(engine) > 0, what="the first committed page")
        process.send_signal(signal.SIGTERM)
        _, logs = process.communicate(timeout=30)
        assert process.returncode == 0, logs
        stopped = _last_run(engine)
        assert stopped is not None and stopped.status == "stopped"
        assert 0 < stopped.pages <= stopped.api_requests and stopped.orders_upserted == _stored_orders(engine)

        finish = run_daemon(["--once"], env)
        assert finish.returncode == 0, finish.stderr
        assert_store_matches(engine, _truth(emulator))
        engine.dispose()


def _stored_orders(engine) -> int:  # type: ignore[no-untyped-def]
    try:
        with session_for(engine) as session:
            return int(session.execute(select(func.count()).select_from(Order)).scalar_one())
    except Exception:  # noqa: BLE001 - the tables may not exist yet
        return 0


def _last_run(engine) -> SyncRun | None:  # type: ignore[no-untyped-def]
    try:
        with session_for(engine) as session:
            return session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
    except Exception:  # noqa: BLE001 - the tables may not exist yet
        return None


def _last_run_status(engine) -> str | None:  # type: ignore[no-untyped-def]
    run = _last_run(engine)
    return run.status if run else None
