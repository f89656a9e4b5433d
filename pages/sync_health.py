"""Sync & data health: freshness, what the store holds, recent sync cycles, and a "Sync now" button."""

import streamlit as st

from core.config import load_settings
from core.dashboard import format as fmt
from core.dashboard.data import Store
from core.dashboard.health import progress_fraction, sync_now
from core.dashboard.tables import sync_runs_table
from core.dashboard.widgets import EMPTY_STORE_MESSAGE, dashboard_page, fact, lag_is_stale, show_table
from core.progress import SyncProgress

RECENT_RUNS = 20
OUTCOME_KEY = "sync.outcome"


def sync_button() -> None:
    """Run one cycle now, with a progress bar; the outcome is shown after the page reloads."""
    settings = load_settings()
    configured = bool(settings.retailcrm_url and settings.api_key)
    clicked = st.button("Sync now", type="primary", icon=":material/sync:", disabled=not configured,
                        help="Runs one sync cycle against RetailCRM now" if configured
                        else "Set RETAILCRM_URL and RETAILCRM_API_KEY to sync from here")
    if not configured:
        st.caption("“Sync now” needs RETAILCRM_URL and RETAILCRM_API_KEY in the dashboard's environment; "
                   "otherwise run `.venv/bin/python sync_daemon.py --once` where they are set.")
    if outcome := st.session_state.pop(OUTCOME_KEY, None):
        (st.success if outcome.ok else st.error)(outcome.message)
    if not clicked:
        return
    bar = st.progress(0.0, text="Starting the sync…")

    def on_progress(progress: SyncProgress) -> None:
        bar.progress(progress_fraction(progress), text=progress.describe())

    st.session_state[OUTCOME_KEY] = sync_now(settings, on_progress)
    bar.progress(1.0, text="Done")
    st.rerun()


def render(store: Store) -> None:
    status = store.sync_status()
    interval = load_settings().sync_interval_minutes
    stale = lag_is_stale(status.lag_seconds, interval)
    last_sync = fmt.timestamp(status.data_as_of.replace(tzinfo=None)) if status.data_as_of else "never"
    lag = fmt.duration(status.lag_seconds) if status.lag_seconds is not None else "never synced"

    columns = st.columns(4)
    with columns[0]:
        fact("Last successful sync", last_sync, help=f"Account time zone {status.timezone}")
    with columns[1]:
        fact("Lag", lag, color="red" if stale else "green",
             help=f"Red when older than {3 * interval:g} minutes (3 sync intervals of {interval:g} min)")
    with columns[2]:
        fact("Orders stored", fmt.count(status.orders_stored))
    with columns[3]:
        fact("Customers stored", fmt.count(status.customers_stored))
    columns = st.columns(4)
    with columns[0]:
        fact("Earliest order", fmt.timestamp(status.earliest_order))
    with columns[1]:
        fact("Latest order", fmt.timestamp(status.latest_order))
    with columns[2]:
        fact("Data version", fmt.count(status.data_version),
             help="Grows with every committed sync page; the dashboard's caches follow it")
    with columns[3]:
        fact("Time zone · currency", f"{status.timezone} · {status.currency or '—'}")
    if status.orders_stored == 0:
        st.info(EMPTY_STORE_MESSAGE)
    if status.last_error:
        st.error(f"Last sync error: {status.last_error}")

    sync_button()

    st.subheader("Recent sync runs")
    runs = store.sync_runs(RECENT_RUNS)
    if runs:
        show_table(sync_runs_table(runs, status.timezone), "sync_runs", "sync_runs_table")
    else:
        st.info("No sync has run against this store yet.")
    with st.expander("Sync streams"):
        for stream in status.streams:
            done = "backfill done" if stream.backfill_done else "backfill in progress"
            st.markdown(f"**{stream.stream}**: {done}; history cursor {stream.history_since_id or '—'}; "
                        f"last success {fmt.timestamp(fmt.utc_to_local(stream.last_success_at, status.timezone))}"
                        + (f"; last error: {stream.last_error}" if stream.last_error else ""))


with dashboard_page("sync_health", "Sync & data health") as store:
    render(store)
