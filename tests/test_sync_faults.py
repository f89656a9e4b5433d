"""The sync under injected faults: 503/429/500 storms, empty, truncated and HTML bodies, timeouts.

Faults may slow a sync down or make a cycle fail; they must never change what ends in the store.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from core.db import init_db, make_engine
from core.retailcrm_client import ApiUnavailable
from core.sync import CycleResult, SyncEngine
from retailcrm_emulator import generate
from retailcrm_emulator.faults import Faults
from tests.support.emulator import EmulatorProcess, emulator_client, emulator_transport, sync_settings
from tests.support.truth import ApiSnapshot, assert_store_matches


@pytest.fixture
def store(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    init_db(engine)
    yield engine
    engine.dispose()


def _cycle(store, settings, transport=None, **client_options) -> CycleResult:  # type: ignore[no-untyped-def]
    async def run() -> CycleResult:
        async with emulator_client(transport, **client_options) as client:
            return await SyncEngine(store, client, settings).cycle()

    return asyncio.run(run())


def test_random_faults_do_not_change_the_result(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=12, scale=0.02)
    faults = Faults(p503=0.08, p429=0.04, p500=0.03, p_empty=0.04, p_truncated=0.04, p_html=0.03,
                    retry_after=["0.05", "0.1"], seed=12)
    transport, settings = emulator_transport(account, faults=faults), sync_settings(database_url)

    assert _cycle(store, settings, transport, max_attempts=20).status == "ok"
    assert_store_matches(store, account)
    account.random_activity(random.Random(12), 300)
    assert _cycle(store, settings, transport, max_attempts=20).status == "ok"
    assert_store_matches(store, account)
    assert set(faults.injected) >= {"503", "429", "500", "empty", "truncated", "html"}


def test_a_storm_longer_than_the_retries_fails_the_cycle_and_the_next_one_resumes(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=13, scale=0.02)
    faults = Faults(script=["ok"] * 40 + ["503"] * 60, seed=13)
    transport, settings = emulator_transport(account, faults=faults), sync_settings(database_url)

    with pytest.raises(ApiUnavailable, match="failed after 4 attempts"):
        _cycle(store, settings, transport, max_attempts=4, concurrency=4)
    faults.script.clear()
    result = _cycle(store, settings, transport)

    assert (result.kind, result.status) == ("backfill", "ok")
    assert_store_matches(store, account)


@pytest.mark.slow
def test_timeouts_and_faults_over_a_real_socket(database_url, store) -> None:  # type: ignore[no-untyped-def]
    with EmulatorProcess(scale=0.02, seed=14) as emulator:
        emulator.control("POST", "/_emulator/faults", {
            "p503": 0.05, "p429": 0.03, "p_slow": 0.03, "slow_seconds": 1.5, "p_truncated": 0.03, "p_empty": 0.03,
            "retry_after": ["0.1"], "seed": 14,
        })
        settings = sync_settings(database_url, url=emulator.url)
        options = {"url": emulator.url, "timeout": 0.5, "max_attempts": 20}
        assert _cycle(store, settings, **options).status == "ok"
        emulator.control("POST", "/_emulator/activity", {"n": 200, "seed": 14})
        assert _cycle(store, settings, **options).status == "ok"
        injected = emulator.control("GET", "/_emulator/faults")["faults"]["injected"]
        emulator.control("POST", "/_emulator/faults", {})

        async def snapshot() -> ApiSnapshot:
            async with emulator_client(url=emulator.url) as client:
                return await ApiSnapshot.take(client)

        truth = asyncio.run(snapshot())
    assert injected.get("slow", 0) > 0 and injected.get("503", 0) > 0
    assert_store_matches(store, truth)
