"""Compare periods: two periods' totals, cumulative and daily registrations, and a table by dimension."""

from dataclasses import replace

import streamlit as st

from core.analytics import Filters, PeriodError
from core.dashboard import format as fmt
from core.dashboard.charts import cumulative_figure, daily_figure
from core.dashboard.choices import Choices
from core.dashboard.comparison import Comparison, comparison_of, row_figures
from core.dashboard.data import Store
from core.dashboard.ranges import aligned_previous, drill_period, months_between
from core.dashboard.session import current_view, set_view, widget_key
from core.dashboard.state import ViewState
from core.dashboard.tables import NOT_A_VALUE, compare_table, side_labels
from core.dashboard.widgets import (ORDERS_PAGE, account_today, ask, dashboard_page, dimension_picker,
                                    filters_caption, filters_panel, page_fragment, period_picker, require_orders,
                                    show_table)
from core.periods import local_now, parse_period

def in_progress(texts: tuple[str, str], timezone: str) -> bool:
    """True when either period has not ended yet (then the default compares the same elapsed time)."""
    now = local_now(timezone)
    try:
        return any(parse_period(text, timezone, now=now).is_in_progress(now) for text in texts)
    except PeriodError:
        return False


def totals(figures: Comparison, label_a: str, label_b: str) -> None:
    """Both totals and the change, counts and revenue."""
    first, second, third = st.columns(3)
    first.metric(f"{label_a} · registrations", fmt.count(figures.count_a), help=figures.range_a, border=True)
    second.metric(f"{label_b} · registrations", fmt.count(figures.count_b),
                  delta=fmt.change(figures.delta, figures.delta_pct), help=figures.range_b, border=True)
    revenue_delta = fmt.signed_money(figures.revenue_delta, figures.currency)
    if figures.revenue_delta_pct is not None:
        revenue_delta += f" ({fmt.percent(figures.revenue_delta_pct)})"
    third.metric(f"{label_b} · revenue", fmt.money(figures.revenue_b, figures.currency), delta=revenue_delta,
                 help=f"{label_a}: {fmt.money(figures.revenue_a, figures.currency)}", border=True)
    note = f"{figures.ranges()}; revenue {label_a}: {fmt.money(figures.revenue_a, figures.currency)}"
    if figures.is_cut:
        note += (f". Compared over the same elapsed time ({figures.elapsed_days:g} days) because a period is still "
                 "running")
    st.caption(note)


def drill_links(view: ViewState, figures: Comparison, label_a: str, label_b: str, dimension: str | None = None,
                code: str | None = None, label: str | None = None, counts: tuple[int, int] | None = None) -> None:
    """Links to the Orders page listing exactly the orders behind each side's figure."""
    counts = counts or (figures.count_a, figures.count_b)
    what = f"{label} " if label else ""
    for period, side, count in ((figures.period_a, label_a, counts[0]), (figures.period_b, label_b, counts[1])):
        target = replace(view, period=drill_period(period), search="")
        if dimension and code is not None:
            target = target.with_filter(dimension, [code])
        st.page_link(ORDERS_PAGE, label=f"Open the {fmt.count(count)} {what}orders of {side}",
                     query_params=target.to_query(), icon=":material/open_in_new:")


def render(store: Store) -> None:
    status = require_orders(store)
    choices = store.choices()
    view = filters_panel(current_view(), choices)
    filters = view.to_filters()
    today = account_today(status)
    months = months_between(status.earliest_order.date() if status.earliest_order else today, today)
    left, right = st.columns(2)
    with left:
        period_a = period_picker("Previous period (A)", "a", view.period_a, months, status.timezone)
    with right:
        period_b = period_picker("Current period (B)", "b", view.period_b, months, status.timezone)
    if period_a is None or period_b is None:
        return
    view = set_view(replace(view, period_a=period_a, period_b=period_b))
    full_period = False
    if in_progress((period_a, period_b), status.timezone):
        full_period = st.toggle("Compare the full periods", key=widget_key("full", view.full_period),
                                help="A period is still running: by default both are compared over the same "
                                     "elapsed time. Switch on to compare them whole.")
    view = set_view(replace(view, full_period=full_period))
    if caption := filters_caption(view, choices):
        st.caption(caption)

    answer = ask(lambda: store.compare_periods(period_a, period_b, filters, cumulative=True, full_period=full_period))
    figures = comparison_of(answer, full_period=full_period)
    label_a, label_b = side_labels(answer)
    totals(figures, label_a, label_b)
    if figures.count_a == 0 and figures.count_b == 0:
        st.info("No orders in either period for these filters: nothing to chart.")
        return
    drill_links(view, figures, label_a, label_b)

    st.markdown("#### Cumulative registrations by day of period")
    st.plotly_chart(cumulative_figure(answer, label_a, label_b), key="cumulative")
    st.markdown("#### Registrations per day")
    daily_chart(store, figures, filters, label_a, label_b)
    st.subheader("Side by side")
    side_by_side(store, choices, (period_a, period_b), filters, full_period, (label_a, label_b))


@page_fragment
def daily_chart(store: Store, figures: Comparison, filters: Filters, label_a: str, label_b: str) -> None:
    """Both periods' orders per day, optionally weekday-aligned (the toggle reruns only this part)."""
    align = st.toggle("Align weekdays (shift the previous period up to 3 days; 364 days for a year)",
                      key=widget_key("align", current_view().align_weekdays))
    set_view(replace(current_view(), align_weekdays=align))
    current_days = drill_period(figures.period_b)
    previous_days = aligned_previous(figures.period_a, figures.period_b) if align else drill_period(figures.period_a)
    daily_a = ask(lambda: store.orders_timeseries(previous_days, "day", filters))
    daily_b = ask(lambda: store.orders_timeseries(current_days, "day", filters))
    if align:
        st.caption(f"Previous period shown as {fmt.span(daily_a.period.start, daily_a.period.end)}, "
                   "so each bar faces the same weekday.")
    st.plotly_chart(daily_figure(daily_a, daily_b, label_a, label_b), key="daily")


@page_fragment
def side_by_side(store: Store, choices: Choices, periods: tuple[str, str], filters: Filters, full_period: bool,
                 labels: tuple[str, str]) -> None:
    """Both periods split by a dimension, with links to a row's orders (picking reruns only this part)."""
    (period_a, period_b), (label_a, label_b) = periods, labels
    by = dimension_picker("Compare by", "by", current_view().by, choices)
    view = set_view(replace(current_view(), by=by))
    by_answer = ask(lambda: store.compare_periods(period_a, period_b, filters, by=by, full_period=full_period))
    table = compare_table(by_answer, choices.label(by))
    if table.is_empty:
        st.info(f"No orders to split by {choices.label(by).lower()}.")
        return
    selected = show_table(table, f"compare_{period_a}_vs_{period_b}_by_{by}", "compare_table", selectable=True)
    if not selected:
        st.caption("Select a row to open the orders behind it.")
        return
    row = (by_answer.rows or [])[selected[0]]
    if row.key in NOT_A_VALUE:
        st.caption(f"“{row.label}” is not a single value, so its orders cannot be listed by filter.")
        return
    counts = row_figures(row)
    drill_links(view, comparison_of(by_answer, full_period=full_period), label_a, label_b, by, row.key, row.label,
                (counts.a, counts.b))


with dashboard_page("compare", "Compare periods") as store:
    render(store)
