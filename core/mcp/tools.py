"""The eight MCP tools: typed, documented, read-only wrappers over `Analytics` methods.

Each tool forwards its arguments to the analytics core and returns the core's answer model (so MCP
clients get an output schema and structured content); the numbers are the dashboard's numbers. The
only checks of their own (`core.mcp.guards`) keep answers small and free of customers' free text.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastmcp import FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from core.analytics import (
    Analytics,
    BreakdownAnswer,
    CompareAnswer,
    CountAnswer,
    DimensionsAnswer,
    Filters,
    NewCustomersAnswer,
    OrdersAnswer,
    SyncStatusAnswer,
    TimeseriesAnswer,
)
from core.mcp.errors import tool_errors
from core.mcp.guards import (
    MAX_TIMESERIES_BUCKETS,
    Granularity,
    check_bucket_count,
    check_custom_filters,
    check_dimension,
)
from core.periods import ACCEPTED_FORMS

TOOL_NAMES = (
    "count_orders",
    "compare_periods",
    "orders_timeseries",
    "breakdown",
    "count_new_customers",
    "find_orders",
    "list_dimensions",
    "sync_status",
)
MAX_TOP_N = 100
MAX_FIND_ROWS = 50

BuiltInDimension = Literal[
    "status", "status_group", "order_type", "order_method", "site", "manager", "city", "utm_source"
]
# The schema tells agents the allowed names; the value is checked by `check_dimension`, whose error names
# the account's custom fields too (a Literal | pattern union would answer with two raw validation errors).
Dimension = Annotated[
    str,
    Field(max_length=100, json_schema_extra={"anyOf": [
        {"type": "string", "enum": list(get_args(BuiltInDimension))},
        {"type": "string", "pattern": r"^custom:\S+$"},
    ]}),
]

PeriodArg = Annotated[
    str,
    Field(
        description=f"Period in the account's local time. Forms: {ACCEPTED_FORMS}. Example: 2025-11",
        max_length=100,
    ),
]
FiltersArg = Annotated[
    Filters | None,
    Field(
        description=(
            "Optional restrictions, combined with AND; the codes within one list are alternatives (OR). "
            "Keys: statuses, status_groups, order_types, order_methods, sites, managers, cities, "
            "utm_sources (lists of codes), custom_fields ({field code: value | [values] | \"*\" for any "
            "non-empty value}). Take codes from list_dimensions; unknown codes are refused with the valid ones."
        ),
    ),
]
DimensionArg = Annotated[
    Dimension,
    Field(description="Dimension to group by: one of the listed names or custom:<order custom field code>"),
]

# readOnlyHint / idempotentHint / openWorldHint on the wire.
READ_ONLY = {"read_only_hint": True, "idempotent_hint": True, "open_world_hint": False}


def _annotations(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, **READ_ONLY)


def register_tools(server: FastMCP, analytics: Analytics) -> None:
    """Add the eight tools, each answering from `analytics`."""

    @server.tool(annotations=_annotations("Count orders"))
    def count_orders(period: PeriodArg, filters: FiltersArg = None) -> CountAnswer:
        """Number of orders (registrations) created in a period, and their revenue.

        Answers "how many orders in November 2025?", optionally filtered (e.g. by status, site or city).
        The answer repeats the resolved period (local start/end, time zone), the filters applied,
        `data_as_of` and `source`.
        """
        with tool_errors():
            check_custom_filters(analytics, filters)
            return analytics.count_orders(period, filters)

    @server.tool(annotations=_annotations("Compare two periods"))
    def compare_periods(
        period_a: Annotated[str, Field(description="The earlier/baseline period, e.g. 2024-11", max_length=100)],
        period_b: Annotated[str, Field(description="The period compared with it, e.g. 2025-11", max_length=100)],
        filters: FiltersArg = None,
        by: Annotated[
            Dimension | None,
            Field(description="Optional dimension for per-value rows (a, b, delta, delta_pct, and elapsed)"),
        ] = None,
    ) -> CompareAnswer:
        """Orders and revenue of two periods side by side, with the change from A to B.

        `delta` = B - A and `delta_pct` = (B - A) / A in percent. When a period is still in progress,
        `elapsed` also compares both periods cut to the same elapsed time, which is the fair comparison
        (counts, revenue and their deltas). With `by`, `rows` give the comparison per value of that
        dimension over the whole periods, and each row's `elapsed` gives it over the same cut.
        Periods use the same forms as count_orders.
        """
        with tool_errors():
            check_dimension(analytics, "by", by)
            check_custom_filters(analytics, filters)
            return analytics.compare_periods(period_a, period_b, filters, by=by)

    @server.tool(annotations=_annotations("Orders over time"))
    def orders_timeseries(
        period: PeriodArg,
        granularity: Annotated[
            Granularity,
            Field(description=f"Bucket size (weeks start on Monday); at most {MAX_TIMESERIES_BUCKETS} buckets"),
        ] = "month",
        filters: FiltersArg = None,
        split_by: Annotated[
            Dimension | None,
            Field(description="Optional dimension: one series per value in `series`"),
        ] = None,
    ) -> TimeseriesAnswer:
        """Orders and revenue per day, week or month of a period; every bucket is present, empty ones as 0."""
        with tool_errors():
            check_bucket_count(period, granularity)
            check_dimension(analytics, "split_by", split_by)
            check_custom_filters(analytics, filters)
            return analytics.orders_timeseries(period, granularity, filters, split_by=split_by)

    @server.tool(annotations=_annotations("Break orders down by a dimension"))
    def breakdown(
        period: PeriodArg,
        by: DimensionArg,
        filters: FiltersArg = None,
        top_n: Annotated[
            int, Field(description="Largest groups to list; the rest are summed in one row", ge=1, le=MAX_TOP_N)
        ] = 20,
    ) -> BreakdownAnswer:
        """Orders of a period grouped by a dimension (status, city, site...), largest first.

        Rows carry key (code), label, count, revenue and share (percent of all orders in the period);
        beyond `top_n` the rest is summed in a row with key `__other__` and `truncated` is true.
        `total_groups` is the number of distinct values.
        """
        with tool_errors():
            check_dimension(analytics, "by", by)
            check_custom_filters(analytics, filters)
            return analytics.breakdown(period, by, filters, top_n=top_n)

    @server.tool(annotations=_annotations("Count new customers"))
    def count_new_customers(period: PeriodArg, filters: FiltersArg = None) -> NewCustomersAnswer:
        """Customers registered (created in RetailCRM) in a period; only the `sites` filter applies."""
        with tool_errors():
            return analytics.count_new_customers(period, filters)

    @server.tool(annotations=_annotations("Find orders"))
    def find_orders(
        period: Annotated[
            str | None, Field(description=f"Optional period ({ACCEPTED_FORMS})", max_length=100)
        ] = None,
        filters: FiltersArg = None,
        number: Annotated[
            str | None, Field(description="Optional order number as shown in RetailCRM, e.g. 7141C", max_length=64)
        ] = None,
        limit: Annotated[int, Field(description="Rows to return, newest first", ge=1, le=MAX_FIND_ROWS)] = 20,
    ) -> OrdersAnswer:
        """Individual orders, newest first: id, number, creation time, status, type, method, site, total, city.

        For looking up examples or a specific order number; `total` says how many orders match. Never
        returns customers' names, phones or e-mails. Use count_orders for counting.
        """
        with tool_errors():
            check_custom_filters(analytics, filters)
            return analytics.find_orders(period, filters, number=number, limit=limit)

    @server.tool(annotations=_annotations("List dimensions and their codes"))
    def list_dimensions() -> DimensionsAnswer:
        """Every dimension (status, status_group, order_type, order_method, site, manager, city,
        utm_source, custom:<code>) with its values: code, label and number of orders.

        Call it before filtering or grouping so that codes are never guessed.
        """
        with tool_errors():
            return analytics.list_dimensions()

    @server.tool(annotations=_annotations("Sync status"))
    def sync_status() -> SyncStatusAnswer:
        """How fresh the local copy is: last successful sync, lag, orders and customers stored,
        earliest and latest order, sync cursors and the last error."""
        with tool_errors():
            return analytics.sync_status()
