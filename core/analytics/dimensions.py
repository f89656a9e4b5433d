"""Dimensions and their labels, and the check of filter codes against the store.

Codes come back with labels from `reference_items`; a filter code must be a known reference code or a
value present in the store, otherwise `FilterError` names the valid ones (never a silent zero).
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Engine, String, cast, false, func, select

from core.filters import ANY_VALUE, DIMENSIONS, FILTER_DIMENSIONS, FilterError, Filters, custom_code
from core.models import Order, ReferenceItem
from core.normalize import city_key, city_label

NOT_SET = "(not set)"

# Dimension -> column of `daily_order_stats` (status_group is derived from status).
STATS_COLUMNS = {
    "status": "status",
    "status_group": "status",
    "order_type": "order_type",
    "order_method": "order_method",
    "site": "site",
    "manager": "manager_id",
    "city": "city_key",
    "utm_source": "utm_source",
}
DIMENSION_LABELS = {
    "status": "Status",
    "status_group": "Status group",
    "order_type": "Order type",
    "order_method": "Order method",
    "site": "Site (store)",
    "manager": "Manager",
    "city": "Delivery city",
    "utm_source": "UTM source",
}
_REFERENCE_KINDS = {"status", "status_group", "order_type", "order_method", "site"}
# Custom field types whose values are few and not personal: listed with counts by list_dimensions.
ENUMERABLE_TYPES = ("dictionary", "multiselect_dictionary", "boolean")
_LISTED_IN_ERRORS = 40


@dataclass(frozen=True)
class CustomField:
    """An order custom field from reference data."""

    code: str
    name: str
    type: str
    dictionary: str | None


@dataclass(frozen=True)
class Scope:
    """Filters resolved to stored codes: allowed values per stats column, and custom-field conditions."""

    columns: dict[str, frozenset[str]] = field(default_factory=dict)
    custom: dict[str, frozenset[str] | None] = field(default_factory=dict)  # None = any non-empty value

    @property
    def needs_orders(self) -> bool:
        """Custom fields are not pre-aggregated: such a question reads the orders table."""
        return bool(self.custom)


def custom_field(code: str, dialect: str) -> Any:
    """The JSON value of order custom field `code` (`->` keeps JSON types on SQLite >= 3.38 and PostgreSQL)."""
    key = f'$."{code}"' if dialect == "sqlite" else code
    return Order.custom_fields.op("->", return_type=JSON)(key)


def custom_values(value: Any) -> list[str]:
    """The values of one stored custom field as strings; [] when unset. Lists give each element."""
    items = value if isinstance(value, list) else [value]
    values: list[str] = []
    for item in items:
        if item is None or item == "" or isinstance(item, (dict, list)):
            continue
        text = ("true" if item else "false") if isinstance(item, bool) else str(item).strip()
        if text and text not in values:
            values.append(text)
    return values


class Catalogue:
    """Reference labels of one data version, plus cached look-ups of codes present in the store."""

    def __init__(self, engine: Engine, items: list[Any]) -> None:
        self._engine = engine
        self._labels: dict[str, dict[str, str]] = {}
        self.status_group_of: dict[str, str] = {}
        self.custom_fields: dict[str, CustomField] = {}
        for item in items:
            self._labels.setdefault(item.kind, {})[item.code] = item.name
            if item.kind == "status" and item.parent:
                self.status_group_of[item.code] = item.parent
            if item.kind == "custom_field:order":
                extra = item.extra or {}
                self.custom_fields[item.code] = CustomField(
                    item.code, item.name, str(extra.get("type") or ""), item.parent or extra.get("dictionary")
                )
        self._presence: dict[tuple[str, str], bool] = {}
        self._custom_present: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, engine: Engine) -> "Catalogue":
        """Read every reference item."""
        columns = (ReferenceItem.kind, ReferenceItem.code, ReferenceItem.name, ReferenceItem.parent, ReferenceItem.extra)
        with engine.connect() as connection:
            return cls(engine, connection.execute(select(*columns)).all())

    def forget_store_lookups(self) -> None:
        """Drop the cached answers about which codes the store holds (the data changed)."""
        with self._lock:
            self._presence.clear()
            self._custom_present.clear()

    # Labels ------------------------------------------------------------------------------------------
    def label(self, dimension: str, key: str) -> str:
        """The display label of `key` in `dimension` ("" is "(not set)")."""
        if key == "":
            return NOT_SET
        code = custom_code(dimension)
        if code is not None:
            return self.custom_label(code, key)
        if dimension == "city":
            return city_label(key)
        if dimension == "manager":
            return self._labels.get("manager", {}).get(key) or f"Manager #{key}"
        return self._labels.get(dimension, {}).get(key, key)

    def custom_label(self, code: str, value: str) -> str:
        """A custom field value's label: the dictionary element's name, Yes/No for booleans."""
        definition = self.custom_fields.get(code)
        if definition and definition.dictionary:
            return self._labels.get(f"dictionary:{definition.dictionary}", {}).get(value, value)
        if definition and definition.type == "boolean":
            return {"true": "Yes", "false": "No"}.get(value, value)
        return value

    def dimension_label(self, dimension: str) -> str:
        """A human name of the dimension itself."""
        code = custom_code(dimension)
        if code is not None:
            definition = self.custom_fields.get(code)
            return definition.name if definition else code
        return DIMENSION_LABELS.get(dimension, dimension)

    def enumerable_custom_fields(self) -> list[str]:
        """Codes of custom fields with few, non-personal values (dictionaries and booleans)."""
        return sorted(code for code, field in self.custom_fields.items()
                      if field.dictionary or field.type in ENUMERABLE_TYPES)

    def is_multi_valued(self, dimension: str) -> bool:
        """Multiselect custom fields: an order counts under each of its values."""
        code = custom_code(dimension)
        definition = self.custom_fields.get(code or "")
        return bool(definition and "multiselect" in definition.type)

    def reference_codes(self, kind: str) -> dict[str, str]:
        """Codes and labels of one reference kind."""
        return dict(self._labels.get(kind, {}))

    # Validation --------------------------------------------------------------------------------------
    def check_dimension(self, dimension: str) -> str:
        """`dimension` if known (custom fields must exist), else `FilterError` naming the valid ones."""
        dimension = dimension.strip()
        code = custom_code(dimension)
        if code is None:
            if dimension in DIMENSIONS:
                return dimension
            raise FilterError(
                f"`{dimension}` is not a dimension; use one of {', '.join(DIMENSIONS)} or custom:<code> "
                f"with an order custom field code ({self._custom_codes_text()})"
            )
        if code not in self.custom_fields:  # field definitions are reference data, refreshed by the sync
            raise FilterError(f"`{code}` is not an order custom field; known: {self._custom_codes_text()}")
        return f"custom:{code}"

    def resolve(self, filters: Filters) -> Scope:
        """Validate every code of `filters` and turn them into stored values per column."""
        columns: dict[str, frozenset[str]] = {}
        for name, dimension in FILTER_DIMENSIONS.items():
            codes = getattr(filters, name)
            if not codes:
                continue
            stored = frozenset(self._stored_codes(name, dimension, codes))
            column = STATS_COLUMNS[dimension]
            columns[column] = columns[column] & stored if column in columns else stored
        custom: dict[str, frozenset[str] | None] = {}
        for code, wanted in (filters.custom_fields or {}).items():
            self.check_dimension(f"custom:{code}")
            if wanted == ANY_VALUE:
                custom[code] = None
                continue
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            self._check_custom_values(code, values)
            custom[code] = frozenset(values)
        return Scope(columns, custom)

    def _stored_codes(self, name: str, dimension: str, codes: list[str]) -> list[str]:
        if dimension == "status_group":
            groups = self.reference_codes("status_group") | {group: group for group in self.status_group_of.values()}
            self._require_known(name, codes, lambda code: code in groups, lambda: groups)
            return sorted(status for status, group in self.status_group_of.items() if group in set(codes))
        if dimension == "city":
            keys = [city_key(code) for code in codes]
            self._require_known(name, codes, lambda code: self._present("city", city_key(code)),
                                lambda: {key: city_label(key) for key in self._present_values("city")})
            return keys
        known = self.reference_codes(dimension) if dimension in _REFERENCE_KINDS else {}
        self._require_known(
            name, codes, lambda code: code in known or self._present(dimension, code),
            lambda: known | {value: self.label(dimension, value) for value in self._present_values(dimension)},
        )
        return codes

    def _require_known(self, name: str, codes: list[str], is_known, valid) -> None:  # type: ignore[no-untyped-def]
        unknown = [code for code in codes if not is_known(code)]
        if not unknown:
            return
        choices: dict[str, str] = {key: label for key, label in valid().items() if key}
        raise FilterError(_unknown_message(name, unknown, choices))

    def _check_custom_values(self, code: str, values: list[str]) -> None:
        definition = self.custom_fields.get(code)
        elements = self.reference_codes(f"dictionary:{definition.dictionary}") if definition and definition.dictionary else {}
        if definition and definition.type == "boolean":
            elements = {"true": "Yes", "false": "No"}
        if all(value in elements for value in values):
            return
        present = self._present_custom_values(code)
        self._require_known(f"custom_fields.{code}", values, lambda v: v in elements or v in present,
                            lambda: elements | {v: self.custom_label(code, v) for v in present})

    # Store look-ups (cached for this data version) ---------------------------------------------------
    def _present(self, dimension: str, value: str) -> bool:
        key = (dimension, value)
        with self._lock:
            if key in self._presence:
                return self._presence[key]
        with self._engine.connect() as connection:
            found = connection.execute(select(Order.id).where(_equals(dimension, value)).limit(1)).first() is not None
        with self._lock:
            self._presence[key] = found
        return found

    def _present_values(self, dimension: str) -> set[str]:
        column = _order_column(dimension)
        with self._engine.connect() as connection:
            return {value for value in connection.execute(select(column).distinct()).scalars() if value is not None}

    def _present_custom_values(self, code: str) -> set[str]:
        with self._lock:
            if code in self._custom_present:
                return self._custom_present[code]
        expression = custom_field(code, self._engine.dialect.name)
        with self._engine.connect() as connection:
            rows = connection.execute(select(expression).where(expression.isnot(None)).distinct()).scalars()
            values = {value for raw in rows for value in custom_values(raw)}
        with self._lock:
            self._custom_present[code] = values
        return values

    def _custom_codes_text(self) -> str:
        return ", ".join(sorted(self.custom_fields)) or "none defined"


def _order_column(dimension: str):  # type: ignore[no-untyped-def]
    if dimension == "manager":
        return func.coalesce(cast(Order.manager_id, String), "")
    return getattr(Order, STATS_COLUMNS[dimension])


def _equals(dimension: str, value: str):  # type: ignore[no-untyped-def]
    """`column = value` in a form that uses the orders table's indexes."""
    if dimension != "manager":
        return _order_column(dimension) == value
    if value == "":
        return Order.manager_id.is_(None)
    return Order.manager_id == int(value) if value.isdigit() else false()


def _unknown_message(name: str, unknown: list[str], choices: dict[str, str]) -> str:
    """The valid codes (with labels), and for each unknown value the codes whose code or label is close to it."""
    def shown(key: str) -> str:
        return f"{key} ({choices[key]})" if choices[key] != key else key

    listed = sorted(choices)[:_LISTED_IN_ERRORS]
    listing = ", ".join(shown(key) for key in listed)
    more = f" and {len(choices) - len(listed)} more" if len(choices) > len(listed) else ""
    code_of = {**{label: key for key, label in choices.items()}, **{key: key for key in choices}}
    hints = []
    for code in unknown:
        close = dict.fromkeys(code_of[text] for text in difflib.get_close_matches(code, list(code_of), n=3, cutoff=0.6))
        if close:
            hints.append(f"did you mean {', '.join(shown(key) for key in close)} for `{code}`?")
    hint = (" " + " ".join(hints)) if hints else ""
    codes = ", ".join(f"`{code}`" for code in unknown)
    if not choices:
        return f"{name}: unknown {codes}; the store has no values for it yet"
    return f"{name}: unknown {codes}; valid: {listing}{more}.{hint}"
