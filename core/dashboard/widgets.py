"""Streamlit pieces every page uses: the store guard, the freshness line, pickers, filters, tables."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any, NoReturn, ParamSpec

import streamlit as st

from core.analytics import FilterError, NotSyncedError, PeriodError, SyncStatusAnswer
from core.config import ConfigError, load_settings
from core.dashboard import format as fmt
from core.dashboard.choices import Choices
from core.dashboard.data import Store, analytics_for, open_store
from core.dashboard.export import XLSX_MIME, csv_bytes, file_stem, xlsx_bytes
from core.dashboard.ranges import day_range_text, parse_day_range, parse_month
from core.dashboard.session import (WIDGET_PREFIX, current_view, enter_page, load_view, publish_view, set_view,
                                    widget_key)
from core.dashboard.state import ViewState, is_dimension
from core.dashboard.tables import CODE, Table
from core.periods import local_now, parse_period

ORDERS_PAGE = "pages/orders.py"
FRESHNESS_EVERY = "30s"
STALE_AFTER_INTERVALS = 3
FILTER_PREFIX = "f."
CHOICES_POLL_EVERY = "3s"
EMPTY_STORE_MESSAGE = (
    "The store holds no orders yet. Fill it with one sync cycle: `.venv/bin/python sync_daemon.py --once` "
    "(RETAILCRM_URL and RETAILCRM_API_KEY set), or start the demo with `./demo.sh`; "
    "or use **Sync now** on the *Sync & data health* page. Then reload this page."
)
PERIOD_MODES = ("Month", "Days", "Other")
NO_DIMENSION = ""
EXPECTED_PROBLEMS = (PeriodError, FilterError, NotSyncedError, ValueError)
P = ParamSpec("P")


def one_line(problem: BaseException) -> str:
    """The first line of an error (a driver's own message when it wraps one), or its type's name."""
    lines = str(getattr(problem, "orig", None) or problem).strip().splitlines()
    return lines[0] if lines else type(problem).__name__


def stop_with_problem(problem: BaseException) -> NoReturn:
    """Say what is wrong in one line and stop the page (no traceback for expected problems)."""
    st.error(one_line(problem))
    st.stop()


def connect() -> Store:
    """The store this run reads; when it cannot be opened, say why in one line and stop."""
    try:
        return open_store()
    except ConfigError as problem:
        st.error(f"Configuration problem: {problem}")
        st.stop()
    except Exception as problem:  # noqa: BLE001 - any driver error means "unreachable" to a manager
        st.error(f"The store cannot be opened: {one_line(problem)}. "
                 "Check DATABASE_URL and that the database is running, then reload this page.")
        st.stop()


@contextmanager
def dashboard_page(page: str, title: str) -> Iterator[Store]:
    """Run one page: the shared view loaded, the store opened, the title and freshness shown; the view
    is written back to the URL when the page is done (even when it stopped early)."""
    enter_page(page)
    load_view()
    try:
        store = connect()
        page_header(title, store)
        yield store
    finally:
        publish_view()


def page_fragment(render: Callable[P, None]) -> Callable[P, None]:
    """`render` as a part of the page that its own widgets rerun alone (`st.fragment`): the rest of the page is
    neither run again nor redrawn. Such a rerun writes the view back to the URL itself."""
    @functools.wraps(render)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            render(*args, **kwargs)
        finally:
            publish_view()

    return st.fragment(run)


def require_orders(store: Store) -> SyncStatusAnswer:
    """The store's status; when it holds no orders, explain how to fill it and stop the page."""
    status = store.sync_status()
    if status.orders_stored == 0:
        st.info(EMPTY_STORE_MESSAGE)
        st.stop()
    return status


def account_today(status: SyncStatusAnswer) -> date:
    """Today in the account's time zone."""
    return local_now(status.timezone).date()


def lag_is_stale(lag_seconds: float | None, interval_minutes: float) -> bool:
    """True when the last sync is older than three sync intervals (or never happened)."""
    return lag_seconds is None or lag_seconds > STALE_AFTER_INTERVALS * interval_minutes * 60


def freshness_line(status: SyncStatusAnswer) -> str:
    """ "Data as of 2025-11-15 14:03 Europe/Moscow · 2 min ago", red when stale."""
    interval = load_settings().sync_interval_minutes
    if status.data_as_of is None:
        return ":red[**Never synced**]: the store has no successful sync yet."
    text = (f"Data as of **{fmt.timestamp(status.data_as_of.replace(tzinfo=None))}** {status.timezone}"
            f" · {fmt.duration(status.lag_seconds)} ago")
    return f":red[{text} — sync is late]" if lag_is_stale(status.lag_seconds, interval) else text


def page_header(title: str, store: Store) -> None:
    """The page title with the data freshness, which refreshes itself and reruns the page after a sync."""
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.title(title)
    with right:
        _freshness(store.database_url, store.version)


@st.fragment(run_every=FRESHNESS_EVERY)
def _freshness(database_url: str, version: int) -> None:
    try:
        status = analytics_for(database_url).sync_status()
    except Exception as problem:  # noqa: BLE001 - the store went away after the page was drawn
        st.markdown(f":red[The store cannot be read now: {one_line(problem)}]")
        return
    if status.data_version != version:
        st.rerun(scope="app")
    st.markdown(freshness_line(status), help="Last successful sync of the local store with RetailCRM. "
                "A new sync shows up on every page at once.")


def fact(label: str, value: str, *, help: str | None = None, color: str | None = None) -> None:
    """A labelled value in a bordered box, sized for dates and names (st.metric truncates them)."""
    with st.container(border=True):
        st.caption(label, help=help)
        st.markdown(f"**:{color}[{value}]**" if color else f"**{value}**")


# --- pickers --------------------------------------------------------------------------------------


def _mode_of(text: str) -> str:
    if parse_month(text):
        return "Month"
    return "Days" if parse_day_range(text) else "Other"


def _days_of(text: str, timezone: str) -> tuple[date, date]:
    try:
        period = parse_period(text, timezone)
    except PeriodError:
        today = local_now(timezone).date()
        return today.replace(day=1), today
    return period.first_day, period.last_day


def period_picker(label: str, name: str, value: str, months: list[str], timezone: str) -> str | None:
    """A period as a month, a range of days or any period text; None (with the reason shown) when invalid."""
    st.markdown(f"**{label}**")
    mode = st.radio(label, PERIOD_MODES, key=widget_key(f"{name}.mode", _mode_of(value)), horizontal=True,
                    label_visibility="collapsed")
    if mode == "Month":
        options = months if value in months or not parse_month(value) else [value, *months]
        seed = value if value in options else options[0]
        key = widget_key(f"{name}.month", seed, lambda current: current in options)
        return st.selectbox(label, options, key=key, format_func=_month_label, label_visibility="collapsed")
    if mode == "Days":
        chosen = st.date_input(label, key=widget_key(f"{name}.days", _days_of(value, timezone)),
                               format="YYYY-MM-DD", label_visibility="collapsed")
        if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
            return day_range_text(chosen[0], chosen[1])
        st.caption("Pick the last day of the range.")
        return value if parse_day_range(value) else day_range_text(*_days_of(value, timezone))
    text = st.text_input(label, key=widget_key(f"{name}.text", value), label_visibility="collapsed",
                         placeholder="2025-Q4, 2025, last_30_days, 2025-01..2025-03",
                         help="Any period: YYYY, YYYY-Qn, YYYY-MM, YYYY-MM-DD, A..B, today, yesterday, "
                              "this_month, last_month, this_year, last_year, last_N_days")
    try:
        parse_period(text, timezone)
    except PeriodError as problem:
        st.error(str(problem))
        return None
    return text.strip()


def _month_label(text: str) -> str:
    parsed = parse_month(text)
    return fmt.month_name(*parsed) if parsed else text


def dimension_picker(label: str, name: str, value: str | None, choices: Choices, *, optional: bool = False,
                     exclude: str | None = None) -> str | None:
    """A dimension to group by, shown by its title; with `optional`, "(none)" gives None.

    A custom dimension chosen before stays offered while the values are still being listed.
    """
    options = ([NO_DIMENSION] if optional else []) + [dimension for dimension in choices.names if dimension != exclude]
    if value and value not in options and not choices.ready and is_dimension(value) and value != exclude:
        options.append(value)
    seed = value if value in options else options[0]
    key = widget_key(name, seed, lambda current: current in options)
    chosen = st.selectbox(label, options, key=key,
                          format_func=lambda option: "(none)" if option == NO_DIMENSION else choices.label(option))
    return chosen or None


# --- filters --------------------------------------------------------------------------------------


def _clear_filters() -> None:
    filter_keys = [key for key in st.session_state
                   if str(key).startswith(WIDGET_PREFIX) and f":{FILTER_PREFIX}" in str(key)]
    for key in filter_keys:
        del st.session_state[key]
    view = current_view()
    set_view(replace(view, filters={}))


def filters_panel(view: ViewState, choices: Choices) -> ViewState:
    """Sidebar multiselects for every dimension; the choice follows the manager to every page and the URL.

    While the values are still being listed, the panel says so and the view's filters stay as they are.
    """
    active = sum(1 for values in view.filters.values() if values)
    with st.sidebar.expander(f"Filters ({active} active)" if active else "Filters", expanded=bool(active)):
        if not choices.ready:
            st.caption("The filters' values are still being listed (a large store takes a few minutes); they "
                       "appear here by themselves. Filters from a link already apply.")
            if choices.arrived is not None:
                _rerun_when(choices.arrived)
            return view
        ignored: list[str] = []
        for dimension in choices.dimensions:
            options = choices.value_codes(dimension.name)
            wanted = list(view.filters.get(dimension.name, ()))
            kept = [code for code in wanted if code in options]
            ignored += [f"{dimension.label}: {code}" for code in wanted if code not in options]
            key = widget_key(FILTER_PREFIX + dimension.name, kept,
                             lambda current, allowed=set(options): set(current) <= allowed)
            selected = st.multiselect(dimension.label, options, key=key, placeholder="All",
                                      format_func=lambda code, name=dimension.name: choices.value_label(name, code))
            view = view.with_filter(dimension.name, selected)
        if ignored:
            st.warning("Ignored unknown filter values: " + ", ".join(ignored))
        st.button("Clear filters", on_click=_clear_filters, disabled=not active, width="stretch")
    return set_view(view)


@st.fragment(run_every=CHOICES_POLL_EVERY)
def _rerun_when(arrived: Callable[[], bool]) -> None:
    """Rerun the page as soon as `arrived()` says the filters' values are there."""
    if arrived():
        st.rerun(scope="app")


def filters_caption(view: ViewState, choices: Choices) -> str:
    """The filters in force, in words: "Status group: Выполнен (complete), Отменен (cancel)"; "" when none."""
    parts = [f"{choices.label(name)}: " + ", ".join(choices.value_label(name, code) for code in codes)
             for name, codes in view.filters.items() if codes]
    return "Filters: " + "; ".join(parts) if parts else ""


# --- tables ---------------------------------------------------------------------------------------


def column_config(table: Table) -> dict[str, Any]:
    """Streamlit column formats: thousands separators, the account currency, signed changes."""
    sign = fmt.CURRENCY_SIGNS.get((table.currency or "").upper(), table.currency or "")
    formats = {"count": "%,d", "money": f"%,.0f {sign}".rstrip(), "percent": "%+.1f%%", "change": "%+,d",
               "share": "%.1f%%"}
    config: dict[str, Any] = {name: st.column_config.NumberColumn(name, format=formats[kind])
                              for name, kind in table.kinds.items()}
    if CODE in table.frame.columns:
        config[CODE] = st.column_config.TextColumn(CODE, help="The code RetailCRM uses for this value")
    return config


def download_buttons(table: Table, stem: str, key: str) -> None:
    """CSV and Excel downloads of exactly the table shown."""
    name = file_stem(stem)
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("Download CSV", data=lambda: csv_bytes(table.frame), file_name=f"{name}.csv",
                         mime="text/csv", key=f"{key}.csv", on_click="ignore", icon=":material/download:")
    right.download_button("Download Excel", data=lambda: xlsx_bytes(table.frame, sheet=stem),
                          file_name=f"{name}.xlsx", mime=XLSX_MIME, key=f"{key}.xlsx", on_click="ignore",
                          icon=":material/table:")


def show_table(table: Table, stem: str, key: str, *, selectable: bool = False, height: int | str = "auto") -> list[int]:
    """The table with its downloads; returns the selected row numbers when rows can be selected."""
    event = st.dataframe(table.frame, column_config=column_config(table), hide_index=True, key=key, height=height,
                         on_select="rerun" if selectable else "ignore", selection_mode="single-row")
    download_buttons(table, stem, key)
    return list(event.selection.rows) if selectable else []


def ask(question: Callable[[], Any]) -> Any:
    """A core answer, or the problem in one line (bad period, unknown code, not synced) and a stopped page."""
    try:
        return question()
    except EXPECTED_PROBLEMS as problem:
        stop_with_problem(problem)
