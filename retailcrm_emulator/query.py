"""PHP-style bracket query strings and the list filters of /orders and /customers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from . import catalog
from .clock import parse as parse_time
from .rows import NONE, CustomerRow, OrderRow, Strings, address_text, interests_codes

_SEGMENT = re.compile(r"\[([^\]]*)\]")
ALLOWED_LIMITS = (20, 50, 100)


class BadRequest(Exception):
    """A request RetailCRM would answer with HTTP 400."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


def parse_php_query(query: str) -> dict[str, Any]:
    """Parse `a[b][]=1&a[b][]=2&a[c][d]=x` into {"a": {"b": ["1", "2"], "c": {"d": "x"}}}.

    Like PHP: `[]` appends, a later scalar overwrites an earlier one, malformed keys are kept flat.
    """
    result: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        bracket = key.find("[")
        if bracket <= 0 or not key.endswith("]"):
            result[key] = value
            continue
        path = [key[:bracket], *_SEGMENT.findall(key[bracket:])]
        node: Any = result
        for name, following in zip(path, path[1:]):
            child = _child(node, name, [] if following == "" else {})
            if child is None:
                break
            node = child
        else:
            if isinstance(node, list):
                node.append(value)
            elif isinstance(node, dict):
                node[path[-1]] = value
    return result


def _child(node: Any, name: str, empty: Any) -> Any:
    """The container under `name` (created when missing); None when a scalar is in the way."""
    if isinstance(node, list):
        node.append(empty)
        return empty
    current = node.get(name)
    if current is None or not isinstance(current, (dict, list)):
        node[name] = current = empty
    return current


def pagination(params: dict[str, Any]) -> tuple[int, int]:
    """(limit, page) with RetailCRM's rules: limit in {20, 50, 100}, page >= 1."""
    try:
        limit = int(params.get("limit", 20))
        page = int(params.get("page", 1))
    except (TypeError, ValueError):
        raise BadRequest("Errors in the pagination parameters",
                         {"limit": "This value is not valid."}) from None
    if limit not in ALLOWED_LIMITS:
        raise BadRequest("Errors in the pagination parameters",
                         {"limit": "The value you selected is not a valid choice."})
    if page < 1:
        raise BadRequest("Errors in the pagination parameters",
                         {"page": "This value should be greater than or equal to 1."})
    return limit, page


def _strings(filters: dict[str, Any], name: str) -> tuple[str, ...] | None:
    value = filters.get(name)
    if value is None:
        return None
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        value = [value]
    return tuple(str(v) for v in value)


def _ints(filters: dict[str, Any], name: str) -> frozenset[int] | None:
    values = _strings(filters, name)
    if values is None:
        return None
    try:
        return frozenset(int(v) for v in values)
    except ValueError:
        raise BadRequest("Errors in the input parameters", {name: "This value is not valid."}) from None


def _time(filters: dict[str, Any], name: str, *, upper: bool) -> int | None:
    value = filters.get(name)
    if value in (None, ""):
        return None
    try:
        return parse_time(str(value), end_of_day=upper)
    except ValueError:
        raise BadRequest("Errors in the input parameters", {name: "This value is not a valid datetime."}) from None


def _codes(values: tuple[str, ...] | None, table: tuple[tuple[Any, ...], ...]) -> frozenset[int] | None:
    if values is None:
        return None
    index = {entry[0]: i for i, entry in enumerate(table)}
    return frozenset(index[v] for v in values if v in index)


def _statuses(values: tuple[str, ...] | None) -> frozenset[int] | None:
    if values is None:
        return None
    chosen = set()
    for value in values:
        group = value[:-len("-group")] if value.endswith("-group") else None
        for i, (code, _, status_group, _) in enumerate(catalog.STATUSES):
            if code == value or status_group == group:
                chosen.add(i)
    return frozenset(chosen)


Predicate = Callable[[OrderRow], bool]


@dataclass(frozen=True)
class OrderFilter:
    """The /orders filters the emulator supports; `key` identifies it for result caching."""

    ids: frozenset[int] | None = None
    numbers: frozenset[str] | None = None
    sites: frozenset[int] | None = None
    created_from: int | None = None
    created_to: int | None = None
    status_from: int | None = None
    status_to: int | None = None
    order_types: frozenset[int] | None = None
    order_methods: frozenset[int] | None = None
    statuses: frozenset[int] | None = None
    custom: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> OrderFilter:
        """Build from parsed query parameters (400 on malformed values)."""
        filters = params.get("filter") or {}
        if not isinstance(filters, dict):
            raise BadRequest("Errors in the input parameters", {"filter": "This value should be of type array."})
        numbers = _strings(filters, "numbers")
        custom = filters.get("customFields") or {}
        return cls(
            ids=_ints(filters, "ids"),
            numbers=None if numbers is None else frozenset(numbers),
            sites=_codes(_strings(filters, "sites"), catalog.SITES),
            created_from=_time(filters, "createdAtFrom", upper=False),
            created_to=_time(filters, "createdAtTo", upper=True),
            status_from=_time(filters, "statusUpdatedAtFrom", upper=False),
            status_to=_time(filters, "statusUpdatedAtTo", upper=True),
            order_types=_codes(_strings(filters, "orderTypes"), catalog.ORDER_TYPES),
            order_methods=_codes(_strings(filters, "orderMethods"), catalog.ORDER_METHODS),
            statuses=_statuses(_strings(filters, "extendedStatus")),
            custom=tuple(sorted((str(k), _freeze(v)) for k, v in custom.items())) if isinstance(custom, dict) else (),
        )

    def predicate(self, strings: Strings) -> Predicate | None:
        """A row test, or None when nothing is filtered."""
        tests: list[Predicate] = []
        if self.ids is not None:
            ids = self.ids
            tests.append(lambda r: r.id in ids)
        if self.numbers is not None:
            numbers = self.numbers
            tests.append(lambda r: r.number in numbers)
        for attr, chosen in (("site", self.sites), ("otype", self.order_types),
                             ("method", self.order_methods), ("status", self.statuses)):
            if chosen is not None:
                tests.append(lambda r, a=attr, c=chosen: getattr(r, a) in c)
        for attr, low, high in (("created", self.created_from, self.created_to),
                                ("status_upd", self.status_from, self.status_to)):
            if low is not None or high is not None:
                low = -(2**62) if low is None else low
                high = 2**62 if high is None else high
                tests.append(lambda r, a=attr, lo=low, hi=high: lo <= getattr(r, a) <= hi)
        for code, wanted in self.custom:
            tests.append(_custom_test(code, wanted, strings))
        if len(tests) <= 1:
            return tests[0] if tests else None

        def every(row: OrderRow) -> bool:
            for test in tests:
                if not test(row):
                    return False
            return True

        return every


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    return str(value)


def _custom_test(code: str, wanted: Any, strings: Strings) -> Predicate:
    """The filter[customFields][code] test of one order custom field."""
    if code == "adress_client":
        needle = str(wanted).casefold()
        return lambda r: needle in (address_text(r.addr, strings) or "").casefold()
    if code == "registration_method":
        allowed = set(wanted) if isinstance(wanted, tuple) else {wanted}
        return lambda r: r.reg != NONE and catalog.REGISTRATION_METHODS[r.reg] in allowed
    if code == "interests":
        allowed = set(wanted) if isinstance(wanted, tuple) else {wanted}
        return lambda r: bool(allowed.intersection(interests_codes(r.interests)))
    if code == "gift_wrap":
        flag = 1 if wanted in ("1", "true") else 0
        return lambda r: r.gift == flag
    raise BadRequest("Errors in the input parameters", {f"customFields[{code}]": "Unknown custom field."})


@dataclass(frozen=True)
class CustomerFilter:
    """The /customers filters the emulator supports."""

    ids: frozenset[int] | None = None
    sites: frozenset[int] | None = None
    date_from: int | None = None
    date_to: int | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> CustomerFilter:
        filters = params.get("filter") or {}
        if not isinstance(filters, dict):
            raise BadRequest("Errors in the input parameters", {"filter": "This value should be of type array."})
        return cls(
            ids=_ints(filters, "ids"),
            sites=_codes(_strings(filters, "sites"), catalog.SITES),
            date_from=_time(filters, "dateFrom", upper=False),
            date_to=_time(filters, "dateTo", upper=True),
        )

    def matches(self, row: CustomerRow) -> bool:
        return ((self.ids is None or row.id in self.ids)
                and (self.sites is None or row.site in self.sites)
                and (self.date_from is None or row.created >= self.date_from)
                and (self.date_to is None or row.created <= self.date_to))


@dataclass(frozen=True)
class HistoryFilter:
    """/orders/history and /customers/history parameters (sinceId with page is a 400)."""

    since_id: int = 0
    start: int | None = None
    end: int | None = None
    entity: int | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any], entity_key: str) -> HistoryFilter:
        filters = params.get("filter") or {}
        if not isinstance(filters, dict):
            raise BadRequest("Errors in the input parameters", {"filter": "This value should be of type array."})
        since = filters.get("sinceId")
        if since not in (None, "") and "page" in params:
            raise BadRequest("Errors in the input parameters",
                             {"page": "Parameter page cannot be used together with filter[sinceId]."})
        try:
            since_id = int(since) if since not in (None, "") else 0
            entity = int(filters[entity_key]) if filters.get(entity_key) not in (None, "") else None
        except ValueError:
            raise BadRequest("Errors in the input parameters", {"sinceId": "This value is not valid."}) from None
        return cls(since_id=max(since_id, 0), start=_time(filters, "startDate", upper=False),
                   end=_time(filters, "endDate", upper=True), entity=entity)
