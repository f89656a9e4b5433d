"""The sync engine against the emulator in-process: the store ends exactly equal to the account.

Every test runs on SQLite and on PostgreSQL (the `database_url` fixture).
"""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import date

import pytest
from sqlalchemy import delete, func, select

from core.db import init_db, make_engine, session_for
from core.locking import SyncAlreadyRunning, sync_lock
from core.models import Order, ReferenceItem, StoreMeta, SyncRun, SyncState
from core.progress import SyncProgress
from core.retailcrm_client import AuthError
from core.store import data_version, order_row, utcnow
from core.sync import SyncEngine, run_cycle
from core.sync_apply import apply_records
from core.sync_status import sync_status
from core.sync_streams import ORDERS
from retailcrm_emulator import generate
from retailcrm_emulator.clock import today_local
from tests.resilience.harness import recent_start
from tests.support.emulator import emulator_client, emulator_stats, emulator_transport, sync_settings
from tests.support.truth import assert_store_matches


@pytest.fixture
def store(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    init_db(engine)
    yield engine
    engine.dispose()


def _cycle(settings, transport, store, **options):  # type: ignore[no-untyped-def]
    return run_cycle(settings, transport=transport, engine=store, **options)


def test_backfill_then_history_keeps_the_store_equal_to_the_account(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=7, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)

    first = _cycle(settings, transport, store)
    assert (first.kind, first.status) == ("backfill", "ok")
    assert_store_matches(store, account)

    done: dict[str, int] = {}
    for round_number in range(2):
        for action, count in account.random_activity(random.Random(round_number), 300).items():
            done[action] = done.get(action, 0) + count
        result = _cycle(settings, transport, store)
        assert (result.kind, result.status) == ("incremental", "ok")
        assert result.history_records > 0
        assert_store_matches(store, account)
    for action in ("create", "status", "created_at", "site", "city", "delete", "merge", "customer"):
        assert done.get(action, 0) > 0, f"the activity never did {action!r}; the test would prove nothing"

    with session_for(store) as session:
        version = data_version(session)
    again = _cycle(settings, transport, store)
    assert (again.history_records, again.orders_upserted, again.customers_upserted) == (0, 0, 0)
    with session_for(store) as session:
        assert data_version(session) == version
    assert_store_matches(store, account)


def test_changes_during_the_backfill_end_up_right(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=3, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    oldest = min(order["id"] for order in account.live_orders())
    changed: dict[str, int] = {}

    def meddle(progress: SyncProgress) -> None:
        if progress.stream == "orders" and progress.phase == "backfill" and progress.pages_done == 2:
            changed["new"] = account.create_order(site="second-store", city="Казань")
            account.change_status(oldest, "complete")
            account.random_activity(random.Random(11), 150)  # deletions and moves shift pages under the pager

    result = _cycle(settings, transport, store, progress=meddle)
    assert result.status == "ok" and "new" in changed
    assert_store_matches(store, account)
    with session_for(store) as session:
        created, old = session.get(Order, changed["new"]), session.get(Order, oldest)
        assert created is not None and (created.site, created.delivery_city) == ("second-store", "Казань")
        assert old is not None and (old.status == "complete" or old.is_deleted)


def test_an_idle_cycle_costs_at_most_three_requests(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=5, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    _cycle(settings, transport, store)
    before = emulator_stats(transport)["requests"]

    idle = _cycle(settings, transport, store)

    assert idle.api_requests <= 3
    assert emulator_stats(transport)["requests"] - before == idle.api_requests


def test_a_stopped_cycle_resumes_where_it_stopped(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=9, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    stop = threading.Event()

    def stop_after_five_pages(progress: SyncProgress) -> None:
        if progress.phase == "backfill" and progress.pages_done >= 5:
            stop.set()

    first = _cycle(settings, transport, store, progress=stop_after_five_pages, stop=stop)
    assert first.status == "stopped"
    with session_for(store) as session:
        state = session.get(SyncState, "orders")
        assert state is not None and not state.backfill_done and state.backfill_cursor is not None
        stored = session.execute(select(func.count()).select_from(Order)).scalar_one()
    assert 0 < stored == first.orders_upserted < len(account.live_orders())

    second = _cycle(settings, transport, store)
    assert second.status == "ok"
    assert second.orders_upserted < len(account.live_orders())  # committed pages were not fetched again
    assert_store_matches(store, account)


def test_an_interrupted_backfill_records_what_it_did(database_url, store) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C in a script ends the run "interrupted" with its pages, requests and orders; a run killed
    outright leaves the same counts, kept up to date with every page it commits."""
    account = generate(seed=12, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    mid_run: list[SyncRun] = []

    def interrupt_after_five_pages(progress: SyncProgress) -> None:
        if progress.phase == "backfill" and progress.pages_done >= 5:
            with session_for(store) as session:
                mid_run.append(session.execute(select(SyncRun)).scalars().one())
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _cycle(settings, transport, store, progress=interrupt_after_five_pages)
    with session_for(store) as session:
        run = session.execute(select(SyncRun)).scalars().one()
        stored = session.execute(select(func.count()).select_from(Order)).scalar_one()
    assert 0 < stored < len(account.live_orders())
    assert (mid_run[0].status, mid_run[0].pages, mid_run[0].orders_upserted) == ("running", 5, stored)
    assert (run.status, run.pages, run.orders_upserted) == ("interrupted", 5, stored)
    assert run.finished_at is not None and run.api_requests >= mid_run[0].api_requests >= 5


def test_a_stale_payload_never_resurrects_a_deleted_order(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=2, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    _cycle(settings, transport, store)
    stale = account.live_orders()[0]
    account.delete_order(stale["id"])
    _cycle(settings, transport, store)

    with session_for(store) as session:
        applied = apply_records(session, ORDERS, [stale])
        session.commit()
        assert applied.upserted == 0
        assert session.get(Order, stale["id"]).is_deleted  # type: ignore[union-attr]
    assert_store_matches(store, account)


def test_sync_start_date_limits_the_store(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=4, scale=0.02)
    transport = emulator_transport(account)
    settings = sync_settings(database_url, SYNC_START_DATE="2025-06-01")
    _cycle(settings, transport, store)
    assert_store_matches(store, account, since=date(2025, 6, 1))

    account.random_activity(random.Random(4), 300)  # includes createdAt moves across the start date
    _cycle(settings, transport, store)
    assert_store_matches(store, account, since=date(2025, 6, 1))
    with session_for(store) as session:
        oldest = session.execute(select(func.min(Order.created_date))).scalar_one()
    assert oldest >= date(2025, 6, 1)


def test_reference_data_time_zone_and_currency(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=1, scale=0.02)
    transport = emulator_transport(account)
    _cycle(sync_settings(database_url), transport, store)
    with session_for(store) as session:
        items = {(item.kind, item.code): item for item in session.execute(select(ReferenceItem)).scalars()}
        meta = session.get(StoreMeta, 1)
    assert items[("status", "complete")].parent == "complete"
    assert items[("status_group", "cancel")].name
    assert ("order_type", "eshop-individual") in items and ("site", "second-store") in items
    assert ("order_method", "shopping-cart") in items
    assert items[("custom_field:order", "registration_method")].parent == "registration_method"
    assert items[("custom_field:customer", "interests")].extra == {"type": "multiselect_dictionary"}
    assert ("dictionary:interests", "books") in items
    assert meta is not None and (meta.timezone, meta.currency) == ("Europe/Moscow", "RUB")

    _cycle(sync_settings(database_url, RETAILCRM_TIMEZONE="Asia/Vladivostok"), transport, store)
    with session_for(store) as session:
        assert session.get(StoreMeta, 1).timezone == "Asia/Vladivostok"  # type: ignore[union-attr]


def test_an_unknown_code_refreshes_reference_data_at_once(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=6, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    _cycle(settings, transport, store)
    with session_for(store) as session:
        session.execute(delete(ReferenceItem).where(ReferenceItem.kind == "status", ReferenceItem.code == "prepayed"))
        session.commit()
        refreshed_before = session.get(StoreMeta, 1).reference_refreshed_at  # type: ignore[union-attr]
    order_id = next(o["id"] for o in account.live_orders() if o["status"] != "prepayed")
    account.change_status(order_id, "prepayed")

    result = _cycle(settings, transport, store)

    assert result.api_requests > 3  # the history feeds, the re-fetch and the reference books
    with session_for(store) as session:
        assert session.get(ReferenceItem, ("status", "prepayed")) is not None
        assert session.get(StoreMeta, 1).reference_refreshed_at > refreshed_before  # type: ignore[union-attr]


def test_a_wrong_key_fails_once_with_one_request(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=1, scale=0.02)
    transport = emulator_transport(account)

    async def attempt() -> int:
        async with emulator_client(transport, api_key="wrong-key") as client:
            with pytest.raises(AuthError, match="RetailCRM rejected the API key"):
                await SyncEngine(store, client, sync_settings(database_url)).cycle()
            return client.requests_made

    assert asyncio.run(attempt()) == 1
    assert emulator_stats(transport)["requests"] == 1
    with session_for(store) as session:
        run = session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
        assert run is not None and run.status == "error" and "rejected the API key" in (run.error or "")
        assert "wrong-key" not in (run.error or "")
        assert "rejected the API key" in (session.get(SyncState, "orders").last_error or "")  # type: ignore[union-attr]


def test_cycles_are_recorded_for_the_health_page(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=8, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    started = utcnow()
    backfill = _cycle(settings, transport, store)
    account.random_activity(random.Random(8), 50)
    incremental = _cycle(settings, transport, store)

    with session_for(store) as session:
        runs = session.execute(select(SyncRun).order_by(SyncRun.id)).scalars().all()
        meta = session.get(StoreMeta, 1)
    assert [(run.kind, run.status) for run in runs] == [("backfill", "ok"), ("incremental", "ok")]
    assert runs[0].pages == backfill.pages > 0 and runs[0].api_requests == backfill.api_requests > 0
    assert runs[0].orders_upserted == backfill.orders_upserted > 0 and runs[0].customers_upserted > 0
    assert runs[1].history_records == incremental.history_records > 0
    assert meta is not None and meta.last_sync_at is not None and meta.last_sync_at >= started

    status = sync_status(store)
    assert status["orders_stored"] == len(account.live_orders())
    assert status["customers_stored"] == len(account.live_customers())
    assert status["streams"]["orders"]["backfill_done"] and status["last_error"] is None
    assert status["streams"]["orders"]["history_since_id"] == account.truth()["maxOrderHistoryId"]


def test_only_one_sync_runs_against_a_store(database_url, store) -> None:  # type: ignore[no-untyped-def]
    account = generate(seed=1, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    other_engine = make_engine(database_url)
    try:
        with sync_lock(other_engine):
            with pytest.raises(SyncAlreadyRunning, match="another sync is running against"):
                _cycle(settings, transport, store)
        assert emulator_stats(transport)["requests"] == 0
        assert _cycle(settings, transport, store).status == "ok"  # released with the block
    finally:
        other_engine.dispose()


def test_order_rows_of_the_emulator_survive_the_store_round_trip(store) -> None:  # type: ignore[no-untyped-def]
    """Guards the comparison helper itself: a row written and read back compares equal."""
    payload = generate(seed=1, scale=0.02).live_orders()[0]
    with session_for(store) as session:
        apply_records(session, ORDERS, [payload])
        session.commit()
        stored = session.get(Order, payload["id"])
    row = order_row(payload, utcnow())
    assert stored is not None
    assert (stored.custom_fields, stored.created_at) == (row["custom_fields"], row["created_at"])


def test_a_reconcile_request_makes_window_counts_equal_again(database_url, store) -> None:  # type: ignore[no-untyped-def]
    """What history cannot place (a record of no usable id) is repaired from the windows' counts."""
    account = generate(seed=10, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    _cycle(settings, transport, store)
    payloads = account.live_orders()
    lost = payloads[0]
    phantom = dict(payloads[1], id=max(p["id"] for p in payloads) + 1000, createdAt="2025-03-15 12:00:00")
    assert not lost["createdAt"].startswith("2025-03")  # counts differ in two windows, not cancel out in one
    with session_for(store) as session:
        session.execute(delete(Order).where(Order.id == lost["id"]))
        apply_records(session, ORDERS, [phantom])
        state = session.get(SyncState, "orders")
        assert state is not None and state.backfill_cursor is not None
        state.backfill_cursor = {**state.backfill_cursor, "reconcile": True}
        session.commit()

    _cycle(settings, transport, store)

    assert_store_matches(store, account)
    with session_for(store) as session:
        assert session.get(Order, phantom["id"]).is_deleted  # type: ignore[union-attr]
        assert not session.get(SyncState, "orders").backfill_cursor.get("reconcile")  # type: ignore[union-attr]


def test_a_reconcile_request_compares_the_ids_of_the_windows_it_names_and_pages_no_other(  # type: ignore[no-untyped-def]
        database_url, store) -> None:
    """A lost deletion and a lost creation in one window balance its count; its ids still tell them apart."""
    account = generate(seed=11, scale=0.02)
    for _ in range(2):
        account.create_order(site="main-store")
    transport = emulator_transport(account)
    settings = sync_settings(database_url, SYNC_START_DATE=recent_start(3).isoformat())
    _cycle(settings, transport, store)
    this_month = today_local(account.timezone).replace(day=1)
    current = [p for p in account.live_orders() if p["createdAt"] >= this_month.isoformat()]
    lost, kept = current[0], current[1]
    phantom = dict(kept, id=max(p["id"] for p in account.live_orders()) + 1000)
    with session_for(store) as session:
        session.execute(delete(Order).where(Order.id == lost["id"]))
        apply_records(session, ORDERS, [phantom])
        state = session.get(SyncState, "orders")
        assert state is not None and state.backfill_cursor is not None
        state.backfill_cursor = {**state.backfill_cursor, "reconcile": True, "reconcile_from": this_month.isoformat()}
        session.commit()

    result = _cycle(settings, transport, store)

    assert_store_matches(store, account, since=recent_start(3))
    with session_for(store) as session:
        assert session.get(Order, phantom["id"]).is_deleted  # type: ignore[union-attr]
        assert not session.get(SyncState, "orders").backfill_cursor.get("reconcile")  # type: ignore[union-attr]
    assert result.pages == -(-len(current) // 100)  # the pages of this month's window, none of the others
