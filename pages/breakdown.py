"""Breakdown: one period split by one or two dimensions, top N with the rest as "other"."""

from dataclasses import replace

import streamlit as st

from core.dashboard import format as fmt
from core.dashboard.charts import breakdown_figure
from core.dashboard.data import Store
from core.dashboard.ranges import months_between
from core.dashboard.session import current_view, set_view, widget_key
from core.dashboard.state import MAX_TOP_N
from core.dashboard.tables import NOT_A_VALUE, breakdown_table, period_label
from core.dashboard.widgets import (ORDERS_PAGE, account_today, ask, dashboard_page, dimension_picker,
                                    filters_caption, filters_panel, period_picker, require_orders, show_table)

def render(store: Store) -> None:
    status = require_orders(store)
    choices = store.choices()
    view = filters_panel(current_view(), choices)
    filters = view.to_filters()
    today = account_today(status)
    months = months_between(status.earliest_order.date() if status.earliest_order else today, today)
    period_column, by_column, then_column, top_column = st.columns([3, 2, 2, 1])
    with period_column:
        period = period_picker("Period", "p", view.single_period, months, status.timezone)
    with by_column:
        by = dimension_picker("Group by", "by", view.by, choices)
    with then_column:
        then_by = dimension_picker("Then by", "by2", view.then_by, choices, optional=True, exclude=by)
    with top_column:
        top_n = st.number_input("Top N", min_value=1, max_value=MAX_TOP_N, step=1,
                                key=widget_key("top", view.top_n))
    if period is None:
        return
    view = set_view(replace(view, period=period, by=by, then_by=then_by, top_n=int(top_n)))
    if caption := filters_caption(view, choices):
        st.caption(caption)

    answer = ask(lambda: store.breakdown(period, by, filters, top_n=int(top_n), then_by=then_by))
    by_label, then_label = choices.label(by), (choices.label(then_by) if then_by else None)
    if answer.total == 0:
        st.info(f"No orders in {period_label(answer.period)} for these filters.")
        return
    st.markdown(f"**{fmt.count(answer.total)}** orders, **{fmt.money(answer.total_revenue, answer.currency)}** "
                f"in {fmt.span(answer.period.start, answer.period.end)}"
                + (f" · top {top_n} of {answer.total_groups} values, the rest as “other”" if answer.truncated else ""))
    if answer.multi_valued:
        st.caption("An order can hold several values of this field, so it counts once under each of them.")
    st.markdown(f"#### Orders by {by_label.lower()}" + (f" and {then_label.lower()}" if then_label else ""))
    st.plotly_chart(breakdown_figure(answer, then_label), key="breakdown_chart")
    table = breakdown_table(answer, by_label, then_label)
    selected = show_table(table, f"breakdown_{period}_by_{by}" + (f"_{then_by}" if then_by else ""),
                          "breakdown_table", selectable=True)
    if not selected:
        st.caption("Select a row to open the orders behind it.")
        return
    record = table.frame.row(selected[0], named=True)
    target = replace(view, search="")
    described = [str(record[by_label])]
    for dimension, code, label in ((by, record["Code"], record[by_label]),
                                   (then_by, record.get(f"{then_label} code"), record.get(then_label))):
        if dimension is None or code is None:
            continue
        if code in NOT_A_VALUE:
            st.caption(f"“{label}” is not a single value, so its orders cannot be listed by filter.")
            return
        target = target.with_filter(dimension, [code])
        if dimension == then_by:
            described.append(str(label))
    st.page_link(ORDERS_PAGE, label=f"Open the {fmt.count(record['Orders'])} orders of {' · '.join(described)}",
                 query_params=target.to_query(), icon=":material/open_in_new:")


with dashboard_page("breakdown", "Breakdown") as store:
    render(store)
