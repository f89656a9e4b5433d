"""Property tests: for random periods, filters and dimensions, every answer equals a plain count over the
raw `orders` rows (Python over rows, written independently of the analytics code).

The store is a small emulator account (about 1,100 orders, some deleted), loaded once per database.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from core.analytics import Analytics
from core.config import load_settings
from core.db import init_db, make_engine, session_for
from core.models import Order
from core.normalize import city_key
from core.store import mark_removed, refresh_order_days
from retailcrm_emulator import catalog, generate
from tests.conftest import new_database_url
from tests.support.store_loader import load_account

END = date(2026, 1, 1)
GROUP_OF = {code: group for code, _, group, _ in catalog.STATUSES}
MULTISELECT = {"interests"}
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Row:
    created_at: datetime
    status: str
    site: str
    order_method: str
    manager: str
    city_key: str
    utm_source: str
    total_minor: int
    custom: dict[str, Any]


@dataclass
class Store:
    engine: Engine
    analytics: Analytics
    rows: list[Row]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    urls = new_database_url(request.param, tmp_path_factory.mktemp("properties"))
    engine = make_engine(next(urls))
    init_db(engine)
    account = generate(seed=11, scale=0.05, end=END)
    load_account(engine, account)
    ids = sorted(order["id"] for order in account.live_orders())
    with session_for(engine) as session:
        refresh_order_days(session, mark_removed(session, Order, random.Random(3).sample(ids, len(ids) // 30)))
        session.commit()
    analytics = Analytics(engine, load_settings({}, dotenv=False), now=lambda: datetime(2026, 1, 1, 12))
    yield Store(engine, analytics, _raw_rows(engine))
    engine.dispose()
    next(urls, None)


def _raw_rows(engine: Engine) -> list[Row]:
    columns = (Order.created_at, Order.status, Order.site, Order.order_method, Order.manager_id, Order.city_key,
               Order.utm_source, Order.total_minor, Order.custom_fields)
    with engine.connect() as connection:
        result = connection.execute(select(*columns).where(Order.is_deleted.is_(False)))
        return [Row(created, status, site, method, "" if manager is None else str(manager), city, utm, total,
                    fields or {})
                for created, status, site, method, manager, city, utm, total, fields in result]


# --- periods with bounds computed independently -------------------------------------------------

def _month_end(year: int, month: int) -> datetime:
    return datetime(year + month // 12, month % 12 + 1, 1)


@st.composite
def periods(draw: st.DrawFn) -> tuple[str, datetime, datetime]:
    year = draw(st.sampled_from([2024, 2025]))
    kind = draw(st.sampled_from(["year", "quarter", "month", "day", "range"]))
    if kind == "year":
        return str(year), datetime(year, 1, 1), datetime(year + 1, 1, 1)
    if kind == "quarter":
        quarter = draw(st.integers(1, 4))
        return f"{year}-Q{quarter}", datetime(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
    if kind == "month":
        month = draw(st.integers(1, 12))
        return f"{year}-{month:02d}", datetime(year, month, 1), _month_end(year, month)
    first = date(year, 1, 1) + timedelta(days=draw(st.integers(0, 364)))
    if kind == "day":
        return first.isoformat(), datetime.combine(first, datetime.min.time()), datetime.combine(
            first + timedelta(days=1), datetime.min.time())
    last = first + timedelta(days=draw(st.integers(0, 200)))
    return (f"{first}..{last}", datetime.combine(first, datetime.min.time()),
            datetime.combine(last + timedelta(days=1), datetime.min.time()))


# --- filters drawn from the catalogue, checked by plain Python --------------------------------

CITY_SPELLINGS = [variant for _, _, variants in catalog.CITIES for variant in variants]


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    sometimes = lambda: draw(st.integers(0, 3)) == 0  # noqa: E731 - one filter in four, so answers are rarely empty
    pick = lambda values: draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))  # noqa: E731
    if sometimes():
        chosen["statuses"] = pick([code for code, *_ in catalog.STATUSES])
    if sometimes():
        chosen["status_groups"] = pick([code for code, _ in catalog.STATUS_GROUPS])
    if sometimes():
        chosen["sites"] = pick([code for code, *_ in catalog.SITES])
    if sometimes():
        chosen["order_methods"] = pick([code for code, *_ in catalog.ORDER_METHODS])
    if sometimes():
        chosen["managers"] = pick([str(manager[0]) for manager in catalog.MANAGERS])
    if sometimes():
        chosen["cities"] = pick(CITY_SPELLINGS)
    if sometimes():
        chosen["utm_sources"] = pick(sorted({source[0] for source in catalog.UTM_SOURCES}))
    if sometimes():
        custom: dict[str, Any] = {}
        if draw(st.booleans()):
            custom["interests"] = draw(st.one_of(st.just("*"), st.lists(st.sampled_from(catalog.INTERESTS),
                                                                          min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()):
            custom["registration_method"] = draw(st.sampled_from(["*", *catalog.REGISTRATION_METHODS]))
        if draw(st.booleans()):
            custom["gift_wrap"] = "*"
        if draw(st.integers(0, 3)) == 0:
            custom["adress_client"] = "*"  # free text: read from the orders table, not from memory
        if custom:
            chosen["custom_fields"] = custom
    return chosen


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [("true" if item else "false") if isinstance(item, bool) else str(item)
            for item in items if item not in (None, "")]


def _matches(row: Row, wanted: dict[str, Any]) -> bool:
    checks = [
        ("statuses", row.status), ("sites", row.site), ("order_methods", row.order_method),
        ("managers", row.manager), ("utm_sources", row.utm_source),
    ]
    for name, value in checks:
        if name in wanted and value not in wanted[name]:
            return False
    if "status_groups" in wanted and GROUP_OF.get(row.status) not in wanted["status_groups"]:
        return False
    if "cities" in wanted and row.city_key not in {city_key(city) for city in wanted["cities"]}:
        return False
    for code, expected in wanted.get("custom_fields", {}).items():
        values = _values(row.custom.get(code))
        if not values or (expected != "*" and not set(values) & set([expected] if isinstance(expected, str) else expected)):
            return False
    return True


def _selected(store: Store, start: datetime, end: datetime, wanted: dict[str, Any]) -> list[Row]:
    return [row for row in store.rows if start <= row.created_at < end and _matches(row, wanted)]


DIMENSION_VALUE = {
    "status": lambda row: [row.status],
    "status_group": lambda row: [GROUP_OF.get(row.status, "")],
    "site": lambda row: [row.site],
    "order_method": lambda row: [row.order_method],
    "manager": lambda row: [row.manager],
    "city": lambda row: [row.city_key],
    "utm_source": lambda row: [row.utm_source],
    "custom:interests": lambda row: _values(row.custom.get("interests")) or [""],
    "custom:registration_method": lambda row: _values(row.custom.get("registration_method")) or [""],
}


@PROPERTY_SETTINGS
@given(period=periods(), wanted=filters())
def test_count_equals_a_plain_count_of_rows(store: Store, period: tuple[str, datetime, datetime],
                                            wanted: dict[str, Any]) -> None:
    text, start, end = period
    selected = _selected(store, start, end, wanted)
    answer = store.analytics.count_orders(text, wanted)
    assert (answer.period.start, answer.period.end) == (start, end)
    assert answer.count == len(selected)
    assert answer.revenue == f"{sum(row.total_minor for row in selected) / 100:.2f}"


@PROPERTY_SETTINGS
@given(period=periods(), wanted=filters(), by=st.sampled_from(sorted(DIMENSION_VALUE)))
def test_breakdown_rows_equal_plain_groups_and_sum_to_the_count(store: Store, period: tuple[str, datetime, datetime],
                                                                 wanted: dict[str, Any], by: str) -> None:
    text, start, end = period
    selected = _selected(store, start, end, wanted)
    expected = Counter(value for row in selected for value in DIMENSION_VALUE[by](row))
    answer = store.analytics.breakdown(text, by, wanted, top_n=100)
    assert {row.key: row.count for row in answer.rows} == dict(expected)
    assert answer.total == len(selected)
    if by not in {f"custom:{code}" for code in MULTISELECT}:
        assert sum(row.count for row in answer.rows) == answer.total


@PROPERTY_SETTINGS
@given(period=periods(), wanted=filters(), granularity=st.sampled_from(["day", "week", "month"]),
       split_by=st.sampled_from([None, "status_group", "city", "custom:registration_method"]))
def test_timeseries_sums_to_the_count(store: Store, period: tuple[str, datetime, datetime], wanted: dict[str, Any],
                                      granularity: str, split_by: str | None) -> None:
    text, start, end = period
    selected = _selected(store, start, end, wanted)
    answer = store.analytics.orders_timeseries(text, granularity, wanted, split_by=split_by)
    assert sum(point.count for point in answer.points) == len(selected) == answer.total
    assert answer.points[0].bucket == start.date()
    if granularity == "day":
        assert len(answer.points) == (end - start).days
    for series in answer.series or []:
        assert len(series.points) == len(answer.points)
    if answer.series is not None:
        assert sum(p.count for series in answer.series for p in series.points) == len(selected)


@PROPERTY_SETTINGS
@given(period=periods(), wanted=filters(), limit=st.integers(1, 30), offset=st.integers(0, 40))
def test_find_orders_pages_through_the_same_rows(store: Store, period: tuple[str, datetime, datetime],
                                                 wanted: dict[str, Any], limit: int, offset: int) -> None:
    text, start, end = period
    selected = sorted(_selected(store, start, end, wanted), key=lambda row: row.created_at, reverse=True)
    answer = store.analytics.find_orders(text, wanted, limit=limit, offset=offset)
    assert answer.total == len(selected)
    assert [row.created_at for row in answer.rows] == [row.created_at for row in selected[offset: offset + limit]]
