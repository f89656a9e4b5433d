"""The "Sync now" button: one real sync cycle from the emulator, with progress, and its outcome in one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.analytics import Analytics
from core.dashboard import format as fmt
from core.dashboard.health import progress_fraction, sync_now
from core.progress import SyncProgress
from retailcrm_emulator import generate
from tests.support.emulator import API_KEY, EmulatorProcess, emulator_transport, sync_settings

ROOT = Path(__file__).resolve().parent.parent


def _progress(done: int, total: int | None) -> SyncProgress:
    return SyncProgress("backfill", "orders", done, total, done * 100, 1.0, 100.0, None)


def test_progress_fraction_follows_pages_and_creeps_without_a_total() -> None:
    assert progress_fraction(_progress(3, 12)) == 0.25
    assert progress_fraction(_progress(20, 12)) == 1.0
    unknown = [progress_fraction(_progress(done, None)) for done in (0, 1, 10, 1000)]
    assert unknown == sorted(unknown) and unknown[0] == 0 and unknown[-1] < 0.9


def test_sync_now_fills_the_store_and_reports_progress(database_url: str) -> None:
    account = generate(seed=7, scale=0.02)
    transport, settings = emulator_transport(account), sync_settings(database_url)
    seen: list[SyncProgress] = []
    outcome = sync_now(settings, seen.append, transport)
    assert outcome.ok, outcome.message
    assert outcome.message.startswith("backfill sync ok")
    assert seen and all(0 <= progress_fraction(progress) <= 1 for progress in seen)
    month, expected = max(account.order_count_by_month().items())
    assert Analytics.from_settings(settings).count_orders(month).count == expected

    again = sync_now(settings, seen.append, transport)
    assert again.ok and again.message.startswith("incremental sync ok")


def test_sync_now_with_a_wrong_key_says_so_in_one_line(database_url: str) -> None:
    account = generate(seed=7, scale=0.01)
    settings = sync_settings(database_url, api_key="wrong-key")
    outcome = sync_now(settings, lambda progress: None, emulator_transport(account))
    assert not outcome.ok
    assert "\n" not in outcome.message and "wrong-key" not in outcome.message
    assert outcome.message


@pytest.fixture
def clean_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.usefixtures("clean_caches")
def test_the_sync_now_button_fills_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    with EmulatorProcess(scale=0.01) as emulator:
        for name, value in {"DATABASE_URL": database_url, "RETAILCRM_URL": emulator.url,
                            "RETAILCRM_API_KEY": API_KEY, "RETAILCRM_RPS": "1000"}.items():
            monkeypatch.setenv(name, value)
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        app.switch_page("pages/sync_health.py").run()
        assert any("sync_daemon.py --once" in item.value for item in app.info)
        [button] = app.button
        assert not button.disabled
        button.click().run()
    assert not app.exception, [item.value for item in app.exception]
    assert [item.value for item in app.success][0].startswith("backfill sync ok")
    stored = Analytics.from_settings(sync_settings(database_url)).sync_status()
    assert stored.orders_stored > 0
    assert f"**{fmt.count(stored.orders_stored)}**" in [item.value for item in app.markdown]
    assert len(app.dataframe[0].value) == 1  # the run just made, in the recent runs table
