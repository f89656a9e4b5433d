"""The shared view in Streamlit: kept in session state, mirrored in the URL, bound to widgets.

`load_view()` runs first on every page: a link (query parameters that differ from what this session
last wrote) replaces the view; sidebar navigation, which drops the parameters, keeps it. Pages read
the view, change it through `widget_key()`-bound widgets and `set_view()`, and write it back to the
URL with `publish_view()` when done.

Widget keys are per page: Streamlit forgets a widget's value when the manager switches pages, so
each page seeds its widgets from the view when they are new, and the view carries the choice over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.dashboard.state import ViewState

VIEW_KEY = "dashboard.view"
WRITTEN_KEY = "dashboard.written_query"
PAGE_KEY = "dashboard.page"
WIDGET_PREFIX = "w."


def _current_query() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def _as_lists(query: dict[str, str | list[str]]) -> dict[str, list[str]]:
    return {key: [value] if isinstance(value, str) else list(value) for key, value in query.items()}


def forget_widgets() -> None:
    """Drop every bound widget's value, so the widgets start again from the view."""
    for key in [key for key in st.session_state if str(key).startswith(WIDGET_PREFIX)]:
        del st.session_state[key]


def load_view() -> ViewState:
    """The view of this run: from a newly opened link, else the session's, else the defaults."""
    query = _current_query()
    stored = st.session_state.get(VIEW_KEY)
    if query and query != st.session_state.get(WRITTEN_KEY):
        view = ViewState.from_query(query)
        if stored is not None and view != stored:
            forget_widgets()
        st.session_state[WRITTEN_KEY] = query
    else:
        view = stored if isinstance(stored, ViewState) else ViewState()
    st.session_state[VIEW_KEY] = view
    return view


def current_view() -> ViewState:
    """The view as the page has left it so far."""
    view = st.session_state.get(VIEW_KEY)
    return view if isinstance(view, ViewState) else load_view()


def set_view(view: ViewState) -> ViewState:
    """Record a changed view (written to the URL once the page is done)."""
    st.session_state[VIEW_KEY] = view
    return view


def publish_view() -> None:
    """Mirror the view in the URL, so the address bar is always a shareable link to it."""
    query = _as_lists(current_view().to_query())
    if query != _current_query():
        st.query_params.from_dict(query)
    st.session_state[WRITTEN_KEY] = query


def enter_page(page: str) -> None:
    """Name the page being drawn, so its widgets get keys of their own."""
    st.session_state[PAGE_KEY] = page


def widget_key(name: str, value: Any, valid: Callable[[Any], bool] | None = None) -> str:
    """The session key of this page's widget `name`, seeded with `value` when new or invalid."""
    key = f"{WIDGET_PREFIX}{st.session_state.get(PAGE_KEY, '')}:{name}"
    if key not in st.session_state or (valid is not None and not valid(st.session_state[key])):
        st.session_state[key] = value
    return key
