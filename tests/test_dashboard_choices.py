"""The filters' value lists: loaded in the background, never waited for, and a panel that copes meanwhile."""

from __future__ import annotations

import threading
from dataclasses import replace

from streamlit.testing.v1 import AppTest

from core.analytics import Analytics, DimensionsAnswer
from core.analytics.answers import DimensionInfo, DimensionValue
from core.config import load_settings
from core.dashboard.choices import Choices
from core.dashboard.dimension_lists import MAX_AGE_SECONDS, DimensionLists, list_dimensions_in_subprocess
from retailcrm_emulator import generate
from tests.support.store_loader import load_account


def _answer(*cities: str) -> DimensionsAnswer:
    values = [DimensionValue(key=city.lower(), label=city, count=1) for city in cities]
    city = DimensionInfo(name="city", label="Delivery city", filter="cities", values=values)
    return DimensionsAnswer(dimensions=[city], data_as_of=None, source="store", source_detail="test")


class SlowListing:
    """A listing that finishes only when told to, and counts how often it ran."""

    def __init__(self, *answers: DimensionsAnswer) -> None:
        self.answers = list(answers)
        self.release = threading.Event()
        self.calls = 0

    def __call__(self) -> DimensionsAnswer:
        self.calls += 1
        assert self.release.wait(10)
        return self.answers[min(self.calls, len(self.answers)) - 1]


def test_nobody_waits_for_the_first_list_and_one_thread_loads_it() -> None:
    listing = SlowListing(_answer("Москва"))
    lists = DimensionLists(listing)
    assert lists.latest(True) is None and lists.latest(True) is None
    listing.release.set()
    answer = lists.wait(True, timeout=5)
    assert answer is not None and answer.dimensions[0].values[0].label == "Москва"
    assert listing.calls == 1


def test_an_old_list_is_served_while_a_new_one_loads() -> None:
    now = [0.0]
    listing = SlowListing(_answer("Москва"), _answer("Москва", "Казань"))
    lists = DimensionLists(listing, clock=lambda: now[0])
    listing.release.set()
    assert lists.wait(True, timeout=5) is not None
    listing.release.clear()
    now[0] += MAX_AGE_SECONDS + 1
    stale = lists.latest(True)
    assert stale is not None and len(stale.dimensions[0].values) == 1
    listing.release.set()
    fresh = lists.wait(True, timeout=5)
    assert fresh is not None and listing.calls == 2
    assert [value.label for value in fresh.dimensions[0].values] == ["Москва", "Казань"]


def test_the_list_of_an_empty_store_is_not_used_once_orders_arrive() -> None:
    listing = SlowListing(_answer(), _answer("Москва"))
    lists = DimensionLists(listing)
    listing.release.set()
    assert lists.wait(False, timeout=5) is not None
    listing.release.clear()
    assert lists.latest(True) is None
    listing.release.set()
    answer = lists.wait(True, timeout=5)
    assert answer is not None and answer.dimensions[0].values[0].key == "москва"


def test_a_failed_listing_is_tried_again() -> None:
    attempts: list[int] = []

    def flaky() -> DimensionsAnswer:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("store went away")
        return _answer("Москва")

    lists = DimensionLists(flaky)
    assert lists.wait(True, timeout=5) is None
    assert lists.wait(True, timeout=5) is not None and len(attempts) == 2


def _panel_while_listing() -> None:
    import streamlit as st

    from core.dashboard.choices import Choices
    from core.dashboard.state import ViewState
    from core.dashboard.widgets import dimension_picker, filters_caption, filters_panel

    choices = Choices.pending()
    view = filters_panel(ViewState(by="custom:gift_wrap").with_filter("site", ["main-store"]), choices)
    st.text(repr(view.to_query()))
    st.text(filters_caption(view, choices))
    st.text(repr(dimension_picker("Group by", "by", view.by, choices)))


def test_while_values_are_listed_the_filters_of_a_link_still_apply() -> None:
    app = AppTest.from_function(_panel_while_listing).run()
    assert not app.exception, [item.value for item in app.exception]
    assert not app.multiselect
    assert any("still being listed" in item.value for item in app.caption)
    query, caption, by = (item.value for item in app.text)
    assert query == repr({"by": "custom:gift_wrap", "site": ["main-store"]})
    assert caption == "Filters: Site (store): main-store"
    assert by == repr("custom:gift_wrap")
    assert [option for option in app.selectbox[0].options][:2] == ["Status", "Status group"]


def test_pending_choices_offer_every_built_in_dimension_with_its_title() -> None:
    choices = Choices.pending()
    assert not choices.ready
    assert choices.label("utm_source") == "UTM source" and choices.value_codes("site") == []


def test_the_child_process_lists_what_the_core_lists(database_url: str, engine) -> None:  # type: ignore[no-untyped-def]
    load_account(engine, generate(42, scale=0.01))
    expected = Analytics.from_settings(replace(load_settings(dotenv=False), database_url=database_url))
    listed = list_dimensions_in_subprocess(database_url)
    assert listed.dimensions == expected.list_dimensions().dimensions
    assert any(value.key for info in listed.dimensions if info.name == "city" for value in info.values)
