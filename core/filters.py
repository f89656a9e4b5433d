"""What an analytics question can be filtered and grouped by.

`Filters` only checks shapes; whether each code exists is checked against the store's reference data
by the analytics core, which raises `FilterError` naming the valid codes (never a silent zero).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

DIMENSIONS = ("status", "status_group", "order_type", "order_method", "site", "manager", "city", "utm_source")
CUSTOM_PREFIX = "custom:"
ANY_VALUE = "*"

# Filter field -> the dimension whose codes it takes.
FILTER_DIMENSIONS = {
    "statuses": "status",
    "status_groups": "status_group",
    "order_types": "order_type",
    "order_methods": "order_method",
    "sites": "site",
    "managers": "manager",
    "cities": "city",
    "utm_sources": "utm_source",
}


class FilterError(ValueError):
    """An unknown dimension, filter or code; the message names the valid ones."""


def _as_codes(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple, set)) else [value]
    codes = [str(item).strip() for item in items if item is not None and str(item).strip()]
    return sorted(set(codes)) or None


class Filters(BaseModel):
    """Optional restrictions, combined with AND; within one list the codes are alternatives (OR)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statuses: list[str] | None = None
    status_groups: list[str] | None = None
    order_types: list[str] | None = None
    order_methods: list[str] | None = None
    sites: list[str] | None = None
    managers: list[str] | None = None
    cities: list[str] | None = None
    utm_sources: list[str] | None = None
    custom_fields: dict[str, str | list[str]] | None = None

    @field_validator(*FILTER_DIMENSIONS, mode="before")
    @classmethod
    def _codes(cls, value: Any) -> list[str] | None:
        return _as_codes(value)

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _custom(cls, value: Any) -> dict[str, str | list[str]] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("custom_fields must be an object {code: value | [values] | \"*\"}")
        cleaned: dict[str, str | list[str]] = {}
        for code, wanted in value.items():
            if isinstance(wanted, str) and wanted.strip() == ANY_VALUE:
                cleaned[str(code).strip()] = ANY_VALUE
                continue
            values = _as_codes(wanted)
            if values is None:
                raise ValueError(f"custom field `{code}` needs a value, a list of values or \"*\"")
            cleaned[str(code).strip()] = values[0] if len(values) == 1 else values
        return dict(sorted(cleaned.items())) or None

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not self.applied()

    def applied(self) -> dict[str, Any]:
        """Only the filters that are set, as plain JSON-ready data (echoed in every answer)."""
        return self.model_dump(exclude_none=True)

    def cache_key(self) -> str:
        """A stable text form for cache keys."""
        return self.model_dump_json(exclude_none=True)



def custom_code(dimension: str) -> str | None:
    """The field code of a `custom:<code>` dimension, else None."""
    if dimension.startswith(CUSTOM_PREFIX):
        return dimension[len(CUSTOM_PREFIX):].strip() or None
    return None
