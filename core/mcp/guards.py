"""Checks made at the agent boundary before a question reaches the analytics core.

They keep answers fit for an agent's context, free of customers' own text, and errors actionable:
- no string argument may hold a NUL character or a lone surrogate (PostgreSQL cannot query with them);
- a time series has at most MAX_TIMESERIES_BUCKETS buckets ("1900..2999" by day would be 400,000);
- `by`/`split_by` must be a built-in dimension or a custom field that list_dimensions offers (fields
  with a closed set of values), and only those custom fields are filtered by value. Free-text fields,
  such as a delivery address typed into a custom field, would otherwise come back as row labels or in
  the list of valid values of an error;
- arguments of the wrong type or out of range get one short line per argument, not pydantic's report.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import pydantic
from fastmcp.exceptions import ToolError
from fastmcp.exceptions import ValidationError as ArgumentsError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from core.analytics import Analytics, Filters
from core.filters import ANY_VALUE, DIMENSIONS, custom_code
from core.periods import parse_period

Granularity = Literal["day", "week", "month"]
MAX_TIMESERIES_BUCKETS = 1000
_SHOWN_INPUT_CHARS = 60
_DAYS_PER_BUCKET = {"day": 1, "week": 7, "month": 365.25 / 12}


def check_bucket_count(period: str, granularity: Granularity) -> None:
    """Refuse a series longer than MAX_TIMESERIES_BUCKETS before computing it (from the period's length)."""
    days = parse_period(period, "UTC").days()
    buckets = math.ceil(days / _DAYS_PER_BUCKET[granularity])
    if buckets > MAX_TIMESERIES_BUCKETS:
        coarser = " or ".join(g for g in ("week", "month") if days / _DAYS_PER_BUCKET[g] <= MAX_TIMESERIES_BUCKETS)
        advice = f"use {coarser} granularity or a shorter period" if coarser else "use a shorter period"
        raise ToolError(
            f"`{period}` by {granularity} makes about {buckets:,} buckets; at most {MAX_TIMESERIES_BUCKETS} "
            f"are answered: {advice}"
        )


def check_dimension(analytics: Analytics, parameter: str, dimension: str | None) -> None:
    """Refuse a `parameter` (by, split_by) that is neither a built-in dimension nor a custom field that
    list_dimensions offers, naming every valid one, the account's custom fields included."""
    if dimension is None or dimension.strip() in DIMENSIONS:
        return
    code = custom_code(dimension)
    offered = _offered_custom_fields(analytics)
    if code in offered:
        return
    problem = f"`{dimension}` is not a dimension" if code is None else f"`custom:{code}` cannot be grouped by"
    valid = ", ".join([*DIMENSIONS, *(f"custom:{field}" for field in offered)])
    raise ToolError(f"`{parameter}`: {problem}; use one of {valid} (see list_dimensions)")


def check_custom_filters(analytics: Analytics, filters: Filters | None) -> None:
    """Refuse filtering by a value of a custom field that list_dimensions does not offer."""
    by_value = [code for code, value in ((filters.custom_fields or {}) if filters else {}).items() if value != ANY_VALUE]
    if not by_value:
        return
    offered = _offered_custom_fields(analytics)
    listing = ", ".join(f"custom:{code}" for code in offered) or "none"
    for code in by_value:
        if code not in offered:
            raise ToolError(
                f"custom field `{code}` can only be filtered with \"*\" (any value), not by value; custom "
                f"fields with listed values: {listing}"
            )


def _offered_custom_fields(analytics: Analytics) -> list[str]:
    names = (info.name for info in analytics.list_dimensions().dimensions)
    return [code for code in (custom_code(name) for name in names) if code]


class RefuseUnstorableText(Middleware):
    """Refuse tool arguments holding a NUL character or a lone surrogate before any tool runs.

    No stored code or number contains them, and PostgreSQL cannot even compare with them (the query
    fails), so the agent would get a masked internal error instead of what to fix.
    """

    async def on_call_tool(self, context: MiddlewareContext, call_next: CallNext) -> Any:
        where = _unstorable_text(context.message.arguments or {}, "")
        if where is not None:
            raise ToolError(f"`{where}` contains a NUL character or a lone surrogate; remove it and call again")
        return await call_next(context)


class ShortArgumentErrors(Middleware):
    """Invalid arguments as "find_orders: `limit`: input should be less than or equal to 50 (got 1000)", one
    clause per argument, instead of pydantic's multi-line report with error codes and links."""

    async def on_call_tool(self, context: MiddlewareContext, call_next: CallNext) -> Any:
        try:
            return await call_next(context)
        except ArgumentsError as error:
            report = error.__cause__
            if not isinstance(report, pydantic.ValidationError):
                raise
            clauses = "; ".join(_argument_error(item) for item in report.errors())
            raise ToolError(f"{context.message.name}: {clauses}") from None


def _argument_error(item: Any) -> str:
    where = ".".join(str(part) for part in item["loc"]) or "arguments"
    if item["type"] in ("missing", "missing_argument"):
        return f"`{where}` is required"
    shown = repr(item.get("input"))
    if len(shown) > _SHOWN_INPUT_CHARS:
        shown = shown[:_SHOWN_INPUT_CHARS] + "…"
    return f"`{where}`: {item['msg'][0].lower()}{item['msg'][1:]} (got {shown})"


def _unstorable_text(value: Any, path: str) -> str | None:
    """The path of the first string (key or value) with a NUL or a lone surrogate, else None."""
    if isinstance(value, str):
        return (path or "argument") if _is_unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{_shown(str(key))}" if path else _shown(str(key))
            if _is_unstorable(str(key)):
                return inner
            found = _unstorable_text(item, inner)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable_text(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _is_unstorable(text: str) -> bool:
    return any(char == "\x00" or "\ud800" <= char <= "\udfff" for char in text)


def _shown(text: str) -> str:
    """`text` with NULs and lone surrogates written as escapes, fit for an error message."""
    return "".join(f"\\u{ord(char):04x}" if char == "\x00" or "\ud800" <= char <= "\udfff" else char
                   for char in text)
