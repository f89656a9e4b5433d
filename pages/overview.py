"""Overview: this month, last month and this year against a year earlier; the 24-month trend."""

from dataclasses import replace

import streamlit as st

from core.dashboard import format as fmt
from core.dashboard.charts import trend_figure
from core.dashboard.comparison import Comparison, comparison_of
from core.dashboard.data import Store
from core.dashboard.ranges import KpiPair, drill_period, kpi_pairs, trend_period
from core.dashboard.session import current_view
from core.dashboard.state import ViewState
from core.dashboard.widgets import (ORDERS_PAGE, account_today, ask, dashboard_page, filters_caption, filters_panel,
                                    require_orders)


def kpi_tile(pair: KpiPair, figures: Comparison, view: ViewState) -> None:
    """Registrations and revenue of one period against the same period a year earlier, with a link to its orders."""
    with st.container(border=True):
        st.markdown(f"**{pair.title}**")
        st.caption(figures.ranges() + (" (same elapsed time)" if figures.is_cut else ""))
        st.metric("Registrations", fmt.count(figures.count_b), delta=fmt.change(figures.delta, figures.delta_pct),
                  help=f"{figures.range_a}: {fmt.count(figures.count_a)} orders")
        st.caption(f"A year earlier: {fmt.count(figures.count_a)}")
        revenue_delta = fmt.signed_money(figures.revenue_delta, figures.currency)
        if figures.revenue_delta_pct is not None:
            revenue_delta += f" ({fmt.percent(figures.revenue_delta_pct)})"
        st.metric("Revenue", fmt.money(figures.revenue_b, figures.currency), delta=revenue_delta,
                  help=f"{figures.range_a}: {fmt.money(figures.revenue_a, figures.currency)}")
        st.caption(f"A year earlier: {fmt.money(figures.revenue_a, figures.currency)}")
        target = replace(view, period=drill_period(figures.period_b), search="")
        st.page_link(ORDERS_PAGE, label=f"Open these {fmt.count(figures.count_b)} orders",
                      query_params=target.to_query(), icon=":material/open_in_new:")


def render(store: Store) -> None:
    status = require_orders(store)
    choices = store.choices()
    view = filters_panel(current_view(), choices)
    filters = view.to_filters()
    if caption := filters_caption(view, choices):
        st.caption(caption)
    today = account_today(status)
    for column, pair in zip(st.columns(3), kpi_pairs(today)):
        answer = ask(lambda pair=pair: store.compare_periods(pair.previous, pair.current, filters))
        with column:
            kpi_tile(pair, comparison_of(answer), view)
    trend = ask(lambda: store.orders_timeseries(trend_period(today), "month", filters))
    if trend.total == 0:
        st.info("No orders in the last 24 months for these filters.")
        return
    st.markdown("#### Registrations and revenue, last 24 months")
    st.plotly_chart(trend_figure(trend, today), key="trend")
    st.caption("The palest bar is the current month, still in progress.")


with dashboard_page("overview", "Overview") as store:
    render(store)
