"""The view a manager has chosen (periods, filters, dimensions), shared by every page and by the URL.

`ViewState` is plain data with a URL form: `to_query()` keeps only what differs from the defaults and
`from_query()` tolerates anything a hand-edited link may hold (unknown or broken values fall back to the
defaults). Streamlit glue lives in `core.dashboard.session`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.filters import CUSTOM_PREFIX, DIMENSIONS, FILTER_DIMENSIONS, Filters, custom_code

DEFAULT_PERIOD_A = "2024-11"
DEFAULT_PERIOD_B = "2025-11"
DEFAULT_BY = "status_group"
DEFAULT_TOP_N = 10
MAX_TOP_N = 100
CUSTOM_PARAM_PREFIX = "cf."
_DIMENSION_FILTER = {dimension: name for name, dimension in FILTER_DIMENSIONS.items()}
_TRUE = {"1", "true", "yes", "on"}


def is_dimension(name: str | None) -> bool:
    """True for a built-in dimension or a `custom:<code>` one."""
    return bool(name) and (name in DIMENSIONS or custom_code(name) is not None)


def _clean_values(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({value.strip() for value in values if value and value.strip()}))


@dataclass(frozen=True)
class ViewState:
    """Everything the pages share; filters map a dimension (or `custom:<code>`) to the codes kept."""

    period: str | None = None
    period_a: str = DEFAULT_PERIOD_A
    period_b: str = DEFAULT_PERIOD_B
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by: str = DEFAULT_BY
    then_by: str | None = None
    top_n: int = DEFAULT_TOP_N
    full_period: bool = False
    align_weekdays: bool = False
    search: str = ""

    @property
    def single_period(self) -> str:
        """The period of the one-period pages; until chosen it follows the compare view's current side."""
        return self.period or self.period_b

    def with_filter(self, dimension: str, values: Sequence[str]) -> "ViewState":
        """A copy with the filter on `dimension` replaced (an empty selection removes it)."""
        updated = dict(self.filters)
        cleaned = _clean_values(values)
        if cleaned:
            updated[dimension] = cleaned
        else:
            updated.pop(dimension, None)
        return replace(self, filters=dict(sorted(updated.items())))

    def to_filters(self) -> Filters | None:
        """The core `Filters` of this view, or None when nothing is filtered."""
        arguments: dict[str, Any] = {}
        custom: dict[str, list[str]] = {}
        for dimension, values in self.filters.items():
            if code := custom_code(dimension):
                custom[code] = list(values)
            elif dimension in _DIMENSION_FILTER:
                arguments[_DIMENSION_FILTER[dimension]] = list(values)
        if custom:
            arguments["custom_fields"] = custom
        return Filters(**arguments) if arguments else None

    def to_query(self) -> dict[str, str | list[str]]:
        """URL query parameters holding this view; defaults are left out to keep links short."""
        default = ViewState()
        query: dict[str, str | list[str]] = {}
        for name, key in (("period", "p"), ("period_a", "a"), ("period_b", "b"), ("by", "by"),
                          ("then_by", "by2"), ("search", "q")):
            value = getattr(self, name)
            if value and value != getattr(default, name):
                query[key] = value
        if self.top_n != default.top_n:
            query["top"] = str(self.top_n)
        if self.full_period:
            query["full"] = "1"
        if self.align_weekdays:
            query["align"] = "1"
        for dimension, values in self.filters.items():
            key = CUSTOM_PARAM_PREFIX + custom_code(dimension) if custom_code(dimension) else dimension
            query[key] = list(values)
        return query

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]]) -> "ViewState":
        """The view a link describes; every parameter is optional and bad values are ignored."""

        def first(key: str) -> str | None:
            values = [value.strip() for value in query.get(key, ()) if value and value.strip()]
            return values[0] if values else None

        view = cls()
        changes: dict[str, Any] = {}
        for name, key in (("period", "p"), ("period_a", "a"), ("period_b", "b"), ("search", "q")):
            if (value := first(key)) is not None:
                changes[name] = value[:120]
        if is_dimension(by := first("by")):
            changes["by"] = by
        if is_dimension(then_by := first("by2")) and then_by != changes.get("by", view.by):
            changes["then_by"] = then_by
        if (top := first("top")) is not None and top.isdigit():
            changes["top_n"] = min(max(int(top), 1), MAX_TOP_N)
        changes["full_period"] = (first("full") or "").lower() in _TRUE
        changes["align_weekdays"] = (first("align") or "").lower() in _TRUE
        view = replace(view, **changes)
        for key, values in query.items():
            if key in DIMENSIONS:
                view = view.with_filter(key, list(values))
            elif key.startswith(CUSTOM_PARAM_PREFIX) and len(key) > len(CUSTOM_PARAM_PREFIX):
                view = view.with_filter(CUSTOM_PREFIX + key[len(CUSTOM_PARAM_PREFIX):], list(values))
        return view

