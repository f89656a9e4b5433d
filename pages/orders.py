"""Orders: the orders behind any figure, searchable by number; order facts only, never personal data."""

from dataclasses import replace

import streamlit as st

from core.dashboard import format as fmt
from core.dashboard.data import Store
from core.dashboard.ranges import months_between
from core.dashboard.session import current_view, set_view, widget_key
from core.dashboard.tables import orders_table
from core.dashboard.widgets import (account_today, ask, dashboard_page, filters_caption, filters_panel,
                                    period_picker, require_orders, show_table)

PAGE_SIZES = (50, 100, 200, 500)


def render(store: Store) -> None:
    status = require_orders(store)
    choices = store.choices()
    view = filters_panel(current_view(), choices)
    filters = view.to_filters()
    today = account_today(status)
    months = months_between(status.earliest_order.date() if status.earliest_order else today, today)
    period_column, search_column, size_column = st.columns([3, 2, 1])
    with period_column:
        period = period_picker("Period", "p", view.single_period, months, status.timezone)
    with search_column:
        search = st.text_input("Order number", key=widget_key("q", view.search), placeholder="e.g. 5159A",
                               help="The exact order number; searched within the period and filters chosen")
    with size_column:
        size = st.selectbox("Rows per page", PAGE_SIZES, index=1, key="orders.page_size")
    if period is None:
        return
    view = set_view(replace(view, period=period, search=search.strip()))
    if caption := filters_caption(view, choices):
        st.caption(caption)
    first = ask(lambda: store.find_orders(period, filters, number=view.search or None, limit=size, offset=0))
    if first.total == 0:
        st.info("No orders match this period, number and filters.")
        return
    pages = (first.total + size - 1) // size
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {fmt.count(pages)})", min_value=1, max_value=pages, step=1,
                                   key="orders.page"))
    answer = first if page == 1 else ask(lambda: store.find_orders(
        period, filters, number=view.search or None, limit=size, offset=(page - 1) * size))
    start = answer.offset + 1
    st.markdown(f"**{fmt.count(answer.total)}** orders in {fmt.span(answer.period.start, answer.period.end)}"
                f" · showing {fmt.count(start)}-{fmt.count(answer.offset + len(answer.rows))}, newest first")
    show_table(orders_table(answer), f"orders_{period}_page{page}", "orders_table", height=560)


with dashboard_page("orders", "Orders") as store:
    render(store)
