"""The dashboard pages through Streamlit's AppTest: they render, show the core's figures, and react.

The demo store (emulator dataset at scale 1.0, the one with 1,163 and 1,447 orders in November 2024
and 2025) is filled once per session; every expected figure is asked from the analytics core itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.analytics import Analytics, Filters
from core.config import load_settings
from core.dashboard import format as fmt
from core.dashboard.comparison import comparison_of
from core.dashboard.data import analytics_for, dimension_lists
from core.dashboard.ranges import kpi_pairs
from core.db import init_db, make_engine
from core.periods import local_now
from retailcrm_emulator import generate
from tests.conftest import new_database_url
from tests.support.store_loader import load_account, write_orders

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("pages/overview.py", "pages/compare.py", "pages/breakdown.py", "pages/orders.py", "pages/sync_health.py")
TIMEOUT = 120


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite store holding the whole demo account (scale 1.0), filled once per test session.

    Other dashboard test modules import this fixture; the store is built only once however many do.
    """
    folder = tmp_path_factory.getbasetemp() / "dashboard-demo"
    url = f"sqlite:///{folder / 'demo.db'}"
    if not (folder / "ready").exists():
        folder.mkdir(exist_ok=True)
        engine = make_engine(url)
        init_db(engine)
        load_account(engine, generate(42, scale=1.0))
        engine.dispose()
        (folder / "ready").touch()
    return url


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No answer survives from one test to the next; no API settings leak in from the environment.

    The filters' value lists (listed in a child process, slow to start) are kept per store: they are
    not answers, and no test changes what they list.
    """
    for name in ("RETAILCRM_URL", "RETAILCRM_API_KEY", "RETAILCRM_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    analytics_for.clear()
    yield
    st.cache_data.clear()
    analytics_for.clear()


def open_app(database_url: str, monkeypatch: pytest.MonkeyPatch, page: str | None = None,
             query: dict[str, str | list[str]] | None = None, *, reachable: bool = True) -> AppTest:
    """The app run once against `database_url` (optionally from a link), then switched to `page`.

    The filters' value lists, which the dashboard loads in the background, are loaded first, so the
    filter widgets are there from the first run.
    """
    monkeypatch.setenv("DATABASE_URL", database_url)
    if reachable and core(database_url).sync_status().orders_stored > 0:
        assert dimension_lists(database_url).wait(True, timeout=TIMEOUT) is not None
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    if page and page != PAGES[0]:
        app.switch_page(page).run()
    return app


def core(database_url: str) -> Analytics:
    """The analytics core of a store, as the MCP tools and the benchmark use it."""
    return Analytics.from_settings(replace(load_settings(dotenv=False), database_url=database_url))


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [item.value for item in app.exception]
    assert not app.error, [item.value for item in app.error]


def metric(app: AppTest, label: str):  # type: ignore[no-untyped-def]
    matches = [item for item in app.metric if item.label == label]
    assert matches, f"no metric {label!r} among {[item.label for item in app.metric]}"
    return matches[0]


def links(app: AppTest) -> list[tuple[str, dict[str, list[str]]]]:
    return [(item.proto.label, parse_qs(item.proto.query_string)) for item in app.get("page_link")]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_demo_store(demo_store: str, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_app(demo_store, monkeypatch, page)
    assert_clean(app)
    assert app.title and app.title[0].value
    assert any("Data as of" in item.value for item in app.markdown)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_explains_an_empty_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = open_app(url, monkeypatch, page)
    assert not app.exception, [item.value for item in app.exception]
    assert any("`.venv/bin/python sync_daemon.py --once`" in item.value for item in app.info)  # README's venv
    assert not app.get("plotly_chart")


def test_an_unreachable_store_is_one_line_and_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app("postgresql+psycopg://nobody@127.0.0.1:9/nowhere?connect_timeout=2", monkeypatch, reachable=False)
    assert not app.exception
    [problem] = [item.value for item in app.error]
    assert problem.startswith("The store cannot be opened:") and "DATABASE_URL" in problem
    assert "\n" not in problem


def test_a_bad_database_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app("mysql://somewhere/db", monkeypatch, reachable=False)
    assert not app.exception
    assert [item.value for item in app.error] == [
        "Configuration problem: DATABASE_URL must be sqlite:///<path> or postgresql+psycopg://user@host:port/db"
    ]


def test_compare_defaults_to_the_measured_novembers(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/compare.py")
    assert_clean(app)
    answer = core(demo_store).compare_periods("2024-11", "2025-11")
    assert (answer.a.count, answer.b.count) == (1163, 1447)
    assert metric(app, "Nov 2024 · registrations").value == "1,163"
    current = metric(app, "Nov 2025 · registrations")
    assert current.value == "1,447"
    assert current.delta == fmt.change(answer.delta, answer.delta_pct) == "+284 (+24.4%)"
    assert metric(app, "Nov 2025 · revenue").value == fmt.money(answer.b.revenue, answer.currency)
    table = app.dataframe[0].value
    expected = core(demo_store).compare_periods("2024-11", "2025-11", by="status_group").rows
    assert list(table["Code"]) == [row.key for row in expected]
    assert list(table["Change"]) == [row.delta for row in expected]
    assert int(table["Nov 2025"].sum()) == 1447
    drills = links(app)
    assert drills[0][1]["p"] == ["2024-11"] and drills[1][1]["p"] == ["2025-11"]


def test_compare_widgets_change_the_figures(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    analytics = core(demo_store)
    app = open_app(demo_store, monkeypatch, "pages/compare.py")
    app.selectbox(key="w.compare:a.month").set_value("2025-10").run()
    assert_clean(app)
    october = analytics.count_orders("2025-10")
    assert metric(app, "Oct 2025 · registrations").value == fmt.count(october.count)

    app.multiselect(key="w.compare:f.status_group").set_value(["complete"]).run()
    assert_clean(app)
    kept = Filters(status_groups=["complete"])
    assert metric(app, "Oct 2025 · registrations").value == fmt.count(analytics.count_orders("2025-10", kept).count)
    assert metric(app, "Nov 2025 · registrations").value == fmt.count(analytics.count_orders("2025-11", kept).count)

    app.selectbox(key="w.compare:by").set_value("site").run()
    assert_clean(app)
    rows = analytics.compare_periods("2025-10", "2025-11", kept, by="site").rows
    assert list(app.dataframe[0].value["Code"]) == [row.key for row in rows]
    link = app.session_state["dashboard.written_query"]  # what the URL now holds (AppTest has no address bar)
    assert link["a"] == ["2025-10"] and link["status_group"] == ["complete"] and link["by"] == ["site"]


def test_weekday_alignment_shifts_the_previous_days(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/compare.py")
    app.toggle(key="w.compare:align").set_value(True).run()
    assert_clean(app)
    assert any(item.value.startswith("Previous period shown as 2 Nov - 1 Dec 2024") for item in app.caption)
    daily = json.loads(app.get("plotly_chart")[1].proto.spec)
    previous = daily["data"][0]["y"]
    shifted = core(demo_store).orders_timeseries("2024-11-02..2024-12-01", "day")
    assert previous == [point.count for point in shifted.points]


def test_a_link_opens_the_view_and_it_follows_to_other_pages(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/compare.py", {"a": "2025-09", "b": "2025-10", "site": "main-store"})
    assert_clean(app)
    kept = Filters(sites=["main-store"])
    analytics = core(demo_store)
    assert metric(app, "Sep 2025 · registrations").value == fmt.count(analytics.count_orders("2025-09", kept).count)
    app.switch_page("pages/breakdown.py").run()
    assert_clean(app)
    assert app.multiselect(key="w.breakdown:f.site").value == ["main-store"]
    total = analytics.breakdown("2025-10", "status_group", kept).total
    assert any(item.value.startswith(f"**{fmt.count(total)}** orders") for item in app.markdown)


def test_unknown_codes_in_a_link_are_ignored_with_a_warning(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, query={"site": ["main-store", "no-such-site"]})
    assert_clean(app)
    assert any("no-such-site" in item.value for item in app.warning)
    assert app.multiselect(key="w.overview:f.site").value == ["main-store"]
    assert app.session_state["dashboard.written_query"]["site"] == ["main-store"]


def test_an_empty_period_says_so(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/compare.py", {"a": "2020-01", "b": "2020-02"})
    assert_clean(app)
    assert any("No orders in either period" in item.value for item in app.info)
    assert not app.get("plotly_chart")


def test_a_bad_period_text_is_explained(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/compare.py")
    app.radio(key="w.compare:b.mode").set_value("Other").run()
    app.text_input(key="w.compare:b.text").input("2025-13").run()
    assert not app.exception
    assert any("2025-13" in item.value and "Accepted" in item.value for item in app.error)


def test_overview_tiles_are_the_core_comparisons(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch)
    assert_clean(app)
    analytics = core(demo_store)
    today = local_now(analytics.sync_status().timezone).date()
    registrations = [item for item in app.metric if item.label == "Registrations"]
    assert len(registrations) == 3
    for tile, pair in zip(registrations, kpi_pairs(today)):
        figures = comparison_of(analytics.compare_periods(pair.previous, pair.current))
        assert tile.value == fmt.count(figures.count_b)
        assert tile.delta == fmt.change(figures.delta, figures.delta_pct)
        assert any(item.value.startswith(figures.ranges()) for item in app.caption)
    tile_links = [query["p"][0] for label, query in links(app) if label.startswith("Open these")]
    assert tile_links[1] == kpi_pairs(today)[1].current and tile_links[2].startswith(f"{today.year}-01-01..")
    trend = app.get("plotly_chart")[0]
    bars = json.loads(trend.proto.spec)["data"][0]["y"]
    assert len(bars) == 24 and bars[-2] == analytics.count_orders(kpi_pairs(today)[1].current).count


def test_breakdown_top_n_folds_the_rest_into_other(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/breakdown.py")
    app.selectbox(key="w.breakdown:by").set_value("city").run()
    app.number_input(key="w.breakdown:top").set_value(3).run()
    assert_clean(app)
    table = app.dataframe[0].value
    answer = core(demo_store).breakdown("2025-11", "city", top_n=3)
    assert list(table["Orders"]) == [row.count for row in answer.rows]
    assert len(table) == 4 and table["Code"].iloc[-1] == "__other__"
    assert int(table["Orders"].sum()) == answer.total == 1447


def test_breakdown_by_two_dimensions(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/breakdown.py")
    app.selectbox(key="w.breakdown:by2").set_value("site").run()
    assert_clean(app)
    table = app.dataframe[0].value
    assert list(table.columns[:4]) == ["Status group", "Code", "Site (store)", "Site (store) code"]
    assert int(table["Orders"].sum()) == 1447


def test_orders_search_finds_one_order_without_personal_data(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    newest = core(demo_store).find_orders("2025-11", limit=1).rows[0]
    app = open_app(demo_store, monkeypatch, "pages/orders.py")
    assert_clean(app)
    assert len(app.dataframe[0].value) == 100
    app.text_input(key="w.orders:q").input(newest.number).run()
    assert_clean(app)
    table = app.dataframe[0].value
    assert list(table["Number"]) == [newest.number]
    assert list(table.columns) == ["Number", "Created", "Status", "Status code", "Site", "Type", "Method", "Total",
                                   "City", "Order id"]


def test_orders_page_lists_what_a_drill_link_asks(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compare = open_app(demo_store, monkeypatch, "pages/compare.py")
    label, query = links(compare)[1]
    assert label == "Open the 1,447 orders of Nov 2025"
    app = open_app(demo_store, monkeypatch, "pages/orders.py", query)
    assert_clean(app)
    assert any(item.value.startswith("**1,447** orders") for item in app.markdown)


def test_sync_page_shows_the_store_and_why_sync_now_is_off(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/sync_health.py")
    assert_clean(app)
    status = core(demo_store).sync_status()
    values = [item.value for item in app.markdown]
    assert f"**{fmt.count(status.orders_stored)}**" in values
    assert app.button[0].disabled
    assert any("RETAILCRM_API_KEY" in item.value for item in app.caption)


def test_postgresql_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for url in new_database_url("postgresql", tmp_path):
        engine = make_engine(url)
        init_db(engine)
        load_account(engine, generate(42, scale=0.05))
        engine.dispose()
        answer = core(url).compare_periods("2024-11", "2025-11")
        for page in PAGES:
            st.cache_data.clear()
            app = open_app(url, monkeypatch, page)
            assert_clean(app)
        app = open_app(url, monkeypatch, "pages/compare.py")
        assert metric(app, "Nov 2025 · registrations").value == fmt.count(answer.b.count)
        assert metric(app, "Nov 2024 · registrations").value == fmt.count(answer.a.count)


def test_a_committed_sync_shows_up_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    engine = make_engine(url)
    init_db(engine)
    load_account(engine, generate(42, scale=0.05))
    app = open_app(url, monkeypatch, "pages/compare.py")
    before = core(url).count_orders("2025-11").count
    assert metric(app, "Nov 2025 · registrations").value == fmt.count(before)
    write_orders(engine, [{"id": 10**9, "number": "NEW1", "createdAt": "2025-11-15 12:00:00", "status": "new",
                           "site": "main-store", "totalSumm": 100}])
    app.run()
    assert_clean(app)
    assert metric(app, "Nov 2025 · registrations").value == fmt.count(before + 1)
    engine.dispose()


def test_a_running_month_is_compared_over_the_same_elapsed_time(demo_store: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    analytics = core(demo_store)
    today = local_now(analytics.sync_status().timezone).date()
    current, previous = f"{today:%Y-%m}", f"{today.year - 1}-{today.month:02d}"
    answer = analytics.compare_periods(previous, current)
    assert answer.in_progress and answer.elapsed is not None
    app = open_app(demo_store, monkeypatch, "pages/compare.py", {"a": previous, "b": current})
    assert_clean(app)
    label = [item.label for item in app.metric][1]
    assert app.metric[1].value == fmt.count(answer.elapsed.b.count)
    assert app.metric[0].value == fmt.count(answer.elapsed.a.count)
    assert any("same elapsed time" in item.value for item in app.caption)
    table = app.dataframe[0].value  # by status group, over the same cut as the tiles
    assert int(table.iloc[:, 2].sum()) == answer.elapsed.a.count and int(table.iloc[:, 3].sum()) == answer.elapsed.b.count

    app.toggle(key="w.compare:full").set_value(True).run()
    assert_clean(app)
    whole = analytics.compare_periods(previous, current, full_period=True)
    assert metric(app, label).value == fmt.count(whole.b.count)
    assert app.metric[0].value == fmt.count(whole.a.count)
    table = app.dataframe[0].value
    assert int(table.iloc[:, 2].sum()) == whole.a.count and int(table.iloc[:, 3].sum()) == whole.b.count


def test_clear_filters_brings_back_every_order(demo_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_app(demo_store, monkeypatch, "pages/compare.py", {"status_group": "cancel"})
    cancelled = core(demo_store).count_orders("2025-11", Filters(status_groups=["cancel"])).count
    assert metric(app, "Nov 2025 · registrations").value == fmt.count(cancelled)
    [clear] = [button for button in app.button if button.label == "Clear filters"]
    clear.click().run()
    assert_clean(app)
    assert metric(app, "Nov 2025 · registrations").value == "1,447"
    assert app.multiselect(key="w.compare:f.status_group").value == []
    assert "status_group" not in app.session_state["dashboard.written_query"]
