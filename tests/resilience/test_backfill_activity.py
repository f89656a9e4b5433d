"""The account keeps changing while a backfill pages through it.

`tests/test_sync_engine.py` changes the account once, at the second page. Here every list request of
the backfill cycle (orders and customers; paging, verification and re-fetches alike) is preceded by a
few random changes: creations, status and field edits, `createdAt` moves across months (which shift
records between the windows being paged), deletions and merges. The backfill must end "ok" with a store
consistent with itself; the next cycle, with the account quiet, must make it equal to the truth. Both
databases, in-process.
"""

from __future__ import annotations

import random
from collections import Counter

import httpx
from sqlalchemy import Engine

from core.sync import run_cycle
from retailcrm_emulator import generate
from tests.resilience.harness import Tap, emulator_app
from tests.support.emulator import sync_settings
from tests.support.resilience import Scenario, store_self_differences

CHANGES_PER_PAGE = 3
LIST_PATHS = ("/api/v5/orders", "/api/v5/customers")


def test_changes_before_every_backfill_page_end_up_right(database_url: str, store: Engine) -> None:
    scenario = Scenario("changes before every backfill page")
    account = generate(seed=81, scale=0.01)
    rng = random.Random(81)
    done: Counter[str] = Counter()
    meddling = True
    bursts = 0

    def meddle(path: str) -> None:
        nonlocal bursts
        if meddling and path in LIST_PATHS:
            done.update(account.random_activity(rng, CHANGES_PER_PAGE))
            bursts += 1

    transport = httpx.ASGITransport(app=Tap(emulator_app(account), before=meddle))
    settings = sync_settings(database_url)

    backfill = run_cycle(settings, transport=transport, engine=store)
    assert (backfill.kind, backfill.status) == ("backfill", "ok")
    assert not store_self_differences(store)
    for action in ("create", "status", "created_at", "delete", "merge"):
        assert done[action] > 0, f"no {action!r} happened during the backfill; the test would prove nothing"
    scenario.fault(bursts)  # one burst of changes per request

    meddling = False
    catch_up = run_cycle(settings, transport=transport, engine=store)
    assert (catch_up.kind, catch_up.status) == ("incremental", "ok")
    scenario.verify(store, database_url, account)
