"""Plotly figures of core answers: the 24-month trend, cumulative and daily comparisons, breakdown bars."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import plotly.graph_objects as go

from core.analytics import BreakdownAnswer, CompareAnswer, TimeseriesAnswer
from core.dashboard import format as fmt

CURRENT_COLOR = "#1f6feb"
PREVIOUS_COLOR = "#8b949e"
REVENUE_COLOR = "#d29922"
_LAYOUT = {
    "separators": ".,",
    "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    "hovermode": "x unified",
}


def _currency_sign(currency: str | None) -> str:
    return fmt.CURRENCY_SIGNS.get((currency or "").upper(), currency or "")


def trend_figure(series: TimeseriesAnswer, today: date) -> go.Figure:
    """Registrations (bars) and revenue (line, right axis) per month; the running month is drawn paler."""
    months = [fmt.month_name(point.bucket.year, point.bucket.month) for point in series.points]
    running = [(point.bucket.year, point.bucket.month) == (today.year, today.month) for point in series.points]
    sign = _currency_sign(series.currency)
    figure = go.Figure()
    figure.add_bar(x=months, y=[point.count for point in series.points], name="Registrations",
                   marker={"color": CURRENT_COLOR, "opacity": [0.4 if now else 1.0 for now in running]},
                   customdata=[" (month to date)" if now else "" for now in running],
                   hovertemplate="%{y:,} orders%{customdata}<extra></extra>")
    figure.add_scatter(x=months, y=[float(Decimal(point.revenue)) for point in series.points], name=f"Revenue, {sign}",
                       yaxis="y2", mode="lines+markers", line={"color": REVENUE_COLOR},
                       hovertemplate=f"%{{y:,.0f}} {sign}<extra></extra>")
    figure.update_layout(
        **_LAYOUT,
        yaxis={"title": "Orders", "tickformat": ",", "rangemode": "tozero"},
        yaxis2={"title": f"Revenue, {sign}", "overlaying": "y", "side": "right", "tickformat": "~s", "tickmode": "auto",
                "rangemode": "tozero", "showgrid": False},
        xaxis={"type": "category"},
    )
    return figure


def cumulative_figure(answer: CompareAnswer, label_a: str, label_b: str) -> go.Figure:
    """Orders so far by day of period: the current period solid, the previous one dashed."""
    points = answer.cumulative or []
    figure = go.Figure()
    for name, values, dates, dash, color in (
        (label_a, [p.a for p in points], [p.date_a for p in points], "dash", PREVIOUS_COLOR),
        (label_b, [p.b for p in points], [p.date_b for p in points], "solid", CURRENT_COLOR),
    ):
        figure.add_scatter(
            x=[p.day_index for p in points], y=values, name=name, mode="lines",
            line={"dash": dash, "color": color, "width": 3},
            customdata=[d.isoformat() if d else "" for d in dates],
            hovertemplate="%{customdata}: %{y:,} orders<extra>" + name + "</extra>",
        )
    figure.update_layout(**_LAYOUT,
                         xaxis={"title": "Day of period", "dtick": 1 if len(points) <= 31 else None},
                         yaxis={"title": "Orders so far", "tickformat": ",", "rangemode": "tozero"})
    return figure


def daily_figure(previous: TimeseriesAnswer, current: TimeseriesAnswer, label_a: str, label_b: str) -> go.Figure:
    """Orders per day of both periods side by side, matched by day of period."""
    figure = go.Figure()
    for name, series, color in ((label_a, previous, PREVIOUS_COLOR), (label_b, current, CURRENT_COLOR)):
        figure.add_bar(
            x=list(range(1, len(series.points) + 1)), y=[p.count for p in series.points], name=name,
            marker_color=color, customdata=[f"{p.bucket:%a %d %b %Y}" for p in series.points],
            hovertemplate="%{customdata}: %{y:,} orders<extra>" + name + "</extra>",
        )
    figure.update_layout(**_LAYOUT, barmode="group",
                         xaxis={"title": "Day of period"}, yaxis={"title": "Orders", "tickformat": ","})
    return figure


def breakdown_figure(answer: BreakdownAnswer, then_by_label: str | None = None) -> go.Figure:
    """Horizontal bars per value, largest on top; split by a second dimension as stacked segments."""
    rows = list(reversed(answer.rows))
    labels = [row.label for row in rows]
    figure = go.Figure()
    if then_by_label and any(row.children for row in rows):
        segments: dict[str, dict[str, int]] = {}
        for row in rows:
            for child in row.children or []:
                segments.setdefault(child.label, {})[row.label] = child.count
        for segment, counts in segments.items():
            figure.add_bar(y=labels, x=[counts.get(label, 0) for label in labels], name=segment, orientation="h",
                           hovertemplate="%{y} · " + segment + ": %{x:,} orders<extra></extra>")
        figure.update_layout(barmode="stack")
    else:
        figure.add_bar(y=labels, x=[row.count for row in rows], orientation="h", marker_color=CURRENT_COLOR,
                       text=[f"{row.count:,} ({row.share:.1f}%)" for row in rows], textposition="auto",
                       hovertemplate="%{y}: %{x:,} orders<extra></extra>", name="Orders")
    figure.update_layout(**{**_LAYOUT, "hovermode": "closest"},
                         height=max(320, 28 * len(rows) + 120),
                         xaxis={"title": "Orders", "tickformat": ","}, yaxis={"type": "category", "automargin": True})
    return figure
