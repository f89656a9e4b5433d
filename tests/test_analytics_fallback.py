"""Periods the store does not hold are counted by the RetailCRM API (the emulator, in-process)."""

from __future__ import annotations

import pytest

from core.analytics import Analytics, NotSyncedError
from core.config import Secret
from core.db import init_db, make_engine
from core.fallback import ApiCounter
from retailcrm_emulator import generate
from tests.support.emulator import API_KEY, EMULATOR_URL, emulator_stats, emulator_transport, sync_settings
from tests.support.store_loader import load_account


def test_periods_before_sync_start_are_counted_by_the_api(database_url: str) -> None:
    account = generate(seed=5, scale=0.02)
    engine = make_engine(database_url)
    init_db(engine)
    load_account(engine, account)  # the store holds everything, so it can check the API's answers
    transport = emulator_transport(account)
    api = ApiCounter(EMULATOR_URL, Secret(API_KEY), rps=1000, transport=transport)
    limited = Analytics(engine, sync_settings(database_url, SYNC_START_DATE="2025-06-01"), api=api)
    full = Analytics(engine, sync_settings(database_url))
    truth = account.order_count_by_month()

    answer = limited.count_orders("2024-11")
    assert (answer.source, answer.count, answer.revenue) == ("api", truth["2024-11"], None)
    assert "SYNC_START_DATE 2025-06-01" in answer.source_detail and API_KEY not in answer.source_detail
    assert emulator_stats(transport)["requests"] == 1

    future = limited.count_orders("2999")
    assert (future.source, future.count) == ("store", 0) and "has not started" in future.source_detail
    assert emulator_stats(transport)["requests"] == 1  # a period ahead is not unsynced: the API is not asked

    for filters in ({"sites": ["main-store"]}, {"status_groups": ["complete"]}, {"order_methods": ["phone"]},
                    {"custom_fields": {"registration_method": "site"}}):
        assert limited.count_orders("2024-11", filters).count == full.count_orders("2024-11", filters).count

    compare = limited.compare_periods("2024-11", "2025-11")
    assert compare.source == "api" and "the other figures come from the local store" in compare.source_detail
    assert (compare.a.count, compare.b.count) == (truth["2024-11"], truth["2025-11"])
    assert compare.a.revenue is None and compare.b.revenue == full.count_orders("2025-11").revenue
    assert compare.revenue_delta is None

    series = limited.orders_timeseries("2024-10..2024-12", "month")
    assert series.source == "api" and [p.count for p in series.points] == [truth[m] for m in ("2024-10", "2024-11",
                                                                                                 "2024-12")]
    with pytest.raises(NotSyncedError, match="cannot filter by cities"):
        limited.count_orders("2024-11", {"cities": ["Москва"]})
    with pytest.raises(NotSyncedError, match="a breakdown needs the synced store"):
        limited.breakdown("2024-11", "status")
    engine.dispose()
