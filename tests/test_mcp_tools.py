"""The MCP tools through a real MCP client (in-process), on the demo dataset in SQLite and PostgreSQL.

The store is the emulator's dataset at scale 1.0, loaded once per database. Answers are compared with
the analytics core's own answers (the tools must be thin wrappers) and with the user-measured facts
(November 2024 = 1,163 and November 2025 = 1,447 orders).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from core.analytics import (
    DIMENSIONS,
    Analytics,
    BreakdownAnswer,
    CompareAnswer,
    CountAnswer,
    DimensionsAnswer,
    NewCustomersAnswer,
    OrdersAnswer,
    SyncStatusAnswer,
    TimeseriesAnswer,
)
from core.config import load_settings
from core.db import init_db, make_engine
from core.filters import FILTER_DIMENSIONS
from core.mcp import create_server
from core.mcp.errors import STORE_DOWN_MESSAGE
from core.mcp.server import DIMENSIONS_URI, SYNC_STATUS_URI, instructions as server_instructions
from core.mcp.guards import MAX_TIMESERIES_BUCKETS
from core.mcp.tools import MAX_FIND_ROWS, TOOL_NAMES, BuiltInDimension
from retailcrm_emulator import Account, catalog, generate
from tests.conftest import new_database_url
from tests.support.mcp_session import MASKED_PREFIX, McpSession, error_text
from tests.support.store_loader import load_account

ANSWER_MODELS = {
    "count_orders": CountAnswer,
    "compare_periods": CompareAnswer,
    "orders_timeseries": TimeseriesAnswer,
    "breakdown": BreakdownAnswer,
    "count_new_customers": NewCustomersAnswer,
    "find_orders": OrdersAnswer,
    "list_dimensions": DimensionsAnswer,
    "sync_status": SyncStatusAnswer,
}
ORDER_ROW_FIELDS = {"id", "number", "created_at", "status", "status_label", "order_type", "order_type_label",
                    "order_method", "order_method_label", "site", "site_label", "manager", "total", "currency", "city"}


class DemoStore:
    """A store holding the demo dataset, the analytics over it, and an MCP session to its server."""

    def __init__(self, url: str, account: Account) -> None:
        self.url = url
        self.account = account
        self.engine = make_engine(url)
        init_db(self.engine)
        load_account(self.engine, account)
        self.analytics = Analytics(self.engine, load_settings({"DATABASE_URL": url}, dotenv=False))
        self.mcp = McpSession(create_server(self.analytics))

    def codes(self, dimension: str) -> list[str]:
        """The codes list_dimensions offers for `dimension`, most frequent first."""
        listing = self.analytics.list_dimensions()
        return [value.key for info in listing.dimensions if info.name == dimension for value in info.values]

    def close(self) -> None:
        self.mcp.close()
        self.engine.dispose()


@pytest.fixture(scope="session")
def demo_account() -> Account:
    return generate(scale=1.0)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo(request, tmp_path_factory, demo_account: Account) -> Iterator[DemoStore]:  # type: ignore[no-untyped-def]
    for url in new_database_url(request.param, tmp_path_factory.mktemp(f"mcp-demo-{request.param}")):
        store = DemoStore(url, demo_account)
        try:
            yield store
        finally:
            store.close()


def without_lag(answer: dict[str, Any]) -> dict[str, Any]:
    """A sync status answer without the one field that changes from call to call."""
    return {key: value for key, value in answer.items() if key != "lag_seconds"}


# The server's surface ---------------------------------------------------------------------------------

def test_exactly_the_eight_tools_with_descriptions_schemas_and_read_only_annotations(demo: DemoStore) -> None:
    tools = {tool.name: tool for tool in demo.mcp.list_tools()}
    assert set(tools) == set(TOOL_NAMES) == set(ANSWER_MODELS)
    for name, tool in tools.items():
        assert tool.description and len(tool.description) > 40, name
        assert tool.output_schema and tool.output_schema.get("type") == "object", name
        assert set(ANSWER_MODELS[name].model_json_schema()["required"]) <= set(tool.output_schema["required"]), name
        assert tool.annotations is not None, name
        assert tool.annotations.read_only_hint is True, name
        assert tool.annotations.idempotent_hint is True, name
        assert tool.annotations.open_world_hint is False, name
        assert tool.annotations.destructive_hint in (None, False), name
        for parameter, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), (name, parameter)


def test_parameters_are_typed_with_bounds_and_enums(demo: DemoStore) -> None:
    schemas = {tool.name: tool.input_schema for tool in demo.mcp.list_tools()}
    assert schemas["breakdown"]["properties"]["top_n"]["maximum"] == 100
    assert schemas["find_orders"]["properties"]["limit"]["maximum"] == MAX_FIND_ROWS == 50
    assert schemas["orders_timeseries"]["properties"]["granularity"]["enum"] == ["day", "week", "month"]
    assert set(get_args(BuiltInDimension)) == set(DIMENSIONS)
    by_choices = json.dumps(schemas["breakdown"]["properties"]["by"])
    assert all(f'"{dimension}"' in by_choices for dimension in DIMENSIONS)
    assert schemas["count_orders"]["required"] == ["period"]
    assert schemas["list_dimensions"].get("required", []) == []
    filters = json.dumps(schemas["count_orders"]["properties"]["filters"])
    assert "statuses" in filters and "custom_fields" in filters


def test_instructions_explain_registrations_time_zone_and_freshness(demo: DemoStore) -> None:
    instructions = demo.mcp.instructions or ""
    assert "order created in RetailCRM" in instructions
    assert "createdAt" in instructions and "Europe/Moscow" in instructions
    assert "Deleted" in instructions and "merged" in instructions
    assert "data_as_of" in instructions
    assert f"synced every {demo.analytics.settings.sync_interval_minutes:g} minutes" in instructions
    assert "list_dimensions" in instructions
    assert "synced every 1 minute." in server_instructions("Europe/Moscow", 1)
    assert "synced every 0.5 minutes." in server_instructions("Europe/Moscow", 0.5)


def test_a_store_never_synced_says_so_instead_of_answering_zero(engine) -> None:  # type: ignore[no-untyped-def]
    analytics = Analytics(engine, load_settings({"DATABASE_URL": str(engine.url)}, dotenv=False))
    session = McpSession(create_server(analytics))
    try:
        assert "learned at the first sync" in (session.instructions or "")
        result = session.call("count_orders", {"period": "2025-11"})
        status = session.answer("sync_status")
    finally:
        session.close()
    assert result.is_error and "nothing has been synced" in error_text(result)
    assert status["data_as_of"] is None and status["orders_stored"] == 0


# The user-measured facts ------------------------------------------------------------------------------

def test_november_counts_and_their_comparison(demo: DemoStore) -> None:
    nov_2025 = demo.mcp.answer("count_orders", {"period": "2025-11"})
    nov_2024 = demo.mcp.answer("count_orders", {"period": "2024-11"})
    assert (nov_2024["count"], nov_2025["count"]) == (1163, 1447)
    assert nov_2025["period"]["start"] == "2025-11-01T00:00:00" and nov_2025["period"]["end"] == "2025-12-01T00:00:00"
    assert nov_2025["period"]["timezone"] == "Europe/Moscow"
    assert nov_2025["source"] == "store" and nov_2025["data_as_of"] is not None

    compared = demo.mcp.answer("compare_periods", {"period_a": "2024-11", "period_b": "2025-11"})
    assert (compared["a"]["count"], compared["b"]["count"]) == (1163, 1447)
    assert (compared["delta"], compared["delta_pct"]) == (284, 24.4)


def test_a_period_ahead_is_zero_from_the_store_and_says_it_has_not_started(demo: DemoStore) -> None:
    answer = demo.mcp.answer("count_orders", {"period": "2999"})
    assert (answer["count"], answer["revenue"], answer["source"]) == (0, "0.00", "store")
    assert "2999 has not started yet" in answer["source_detail"]
    assert demo.mcp.answer("breakdown", {"period": "2999", "by": "status"})["total"] == 0


# Thin wrappers: each tool answers exactly what the analytics core answers --------------------------------

def test_every_tool_answers_exactly_what_the_analytics_core_answers(demo: DemoStore) -> None:
    site, status = demo.codes("site")[0], demo.codes("status")[0]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("count_orders", {"period": "2025-11", "filters": {"sites": [site], "statuses": [status]}}),
        ("compare_periods", {"period_a": "2024-11", "period_b": "2025-11", "by": "order_method"}),
        ("orders_timeseries", {"period": "2025", "granularity": "week", "filters": {"sites": [site]},
                               "split_by": "status_group"}),
        ("breakdown", {"period": "2025-11", "by": "city", "top_n": 5}),
        ("count_new_customers", {"period": "2025-11", "filters": {"sites": [site]}}),
        ("find_orders", {"period": "2025-11", "filters": {"statuses": [status]}, "limit": 7}),
        ("list_dimensions", {}),
    ]
    for tool, arguments in calls:
        expected = getattr(demo.analytics, tool)(**arguments).model_dump(mode="json")
        assert demo.mcp.answer(tool, arguments) == expected, tool
    status_answer = demo.mcp.answer("sync_status")
    assert without_lag(status_answer) == without_lag(demo.analytics.sync_status().model_dump(mode="json"))


def test_compare_per_dimension_rows_add_up(demo: DemoStore) -> None:
    answer = demo.mcp.answer("compare_periods", {"period_a": "2024-11", "period_b": "2025-11", "by": "site"})
    rows = answer["rows"]
    assert rows and {row["key"] for row in rows} <= set(demo.codes("site")) | {""}
    assert sum(row["a"] for row in rows) == 1163 and sum(row["b"] for row in rows) == 1447
    assert all(row["delta"] == row["b"] - row["a"] for row in rows)


def test_a_period_in_progress_is_also_compared_over_the_same_elapsed_time(demo: DemoStore) -> None:
    answer = demo.mcp.answer("compare_periods", {"period_a": "last_year", "period_b": "this_year"})
    assert answer["in_progress"] is True
    elapsed = answer["elapsed"]
    assert elapsed is not None and elapsed["elapsed_days"] > 0
    assert elapsed["b"]["count"] == answer["b"]["count"]
    assert elapsed["a"]["count"] <= answer["a"]["count"]
    revenue_change = Decimal(elapsed["b"]["revenue"]) - Decimal(elapsed["a"]["revenue"])
    assert Decimal(elapsed["revenue_delta"]) == revenue_change

    by_site = demo.mcp.answer("compare_periods", {"period_a": "last_year", "period_b": "this_year", "by": "site"})
    assert by_site["elapsed"] == elapsed
    rows = by_site["rows"]
    assert sum(row["a"] for row in rows) == answer["a"]["count"]  # whole periods, like the answer's a and b
    assert sum(row["elapsed"]["a"] for row in rows) == elapsed["a"]["count"]  # the answer's elapsed cut
    assert sum(row["elapsed"]["b"] for row in rows) == elapsed["b"]["count"]
    assert all(row["elapsed"]["delta"] == row["elapsed"]["b"] - row["elapsed"]["a"] for row in rows)


def test_timeseries_has_every_bucket_and_sums_to_the_count(demo: DemoStore) -> None:
    answer = demo.mcp.answer("orders_timeseries", {"period": "2025-11", "granularity": "day"})
    assert [point["bucket"] for point in answer["points"]] == [f"2025-11-{day:02d}" for day in range(1, 31)]
    assert sum(point["count"] for point in answer["points"]) == answer["total"] == 1447


def test_timeseries_refuses_more_buckets_than_an_agent_can_use(demo: DemoStore) -> None:
    result = demo.mcp.call("orders_timeseries", {"period": "2000..2025", "granularity": "day"})
    assert result.is_error
    message = error_text(result)
    assert "2000..2025" in message and str(MAX_TIMESERIES_BUCKETS) in message and "month" in message


def test_breakdown_sums_the_rest_into_one_other_row(demo: DemoStore) -> None:
    answer = demo.mcp.answer("breakdown", {"period": "2025-11", "by": "city", "top_n": 3})
    assert answer["truncated"] is True and answer["total_groups"] > 3
    assert len(answer["rows"]) == 4 and answer["rows"][-1]["key"] == "__other__"
    assert sum(row["count"] for row in answer["rows"]) == answer["total"] == 1447
    assert [row["count"] for row in answer["rows"][:3]] == sorted((row["count"] for row in answer["rows"][:3]),
                                                                   reverse=True)
    assert all(set(row) >= {"key", "label", "count", "revenue", "share"} for row in answer["rows"])


def test_new_customers_are_counted_by_registration_and_site(demo: DemoStore) -> None:
    everyone = demo.mcp.answer("count_new_customers", {"period": "2025"})["count"]
    per_site = [demo.mcp.answer("count_new_customers", {"period": "2025", "filters": {"sites": [site]}})["count"]
                for site in demo.codes("site")]
    assert everyone > 0 and sum(per_site) == everyone
    refused = demo.mcp.call("count_new_customers", {"period": "2025", "filters": {"statuses": ["new"]}})
    assert refused.is_error and "sites" in error_text(refused)


def test_find_orders_gives_order_facts_and_finds_a_number(demo: DemoStore) -> None:
    answer = demo.mcp.answer("find_orders", {"period": "2025-11", "limit": 50})
    assert len(answer["rows"]) == 50 and answer["total"] == 1447
    assert all(set(row) == ORDER_ROW_FIELDS for row in answer["rows"])
    created = [row["created_at"] for row in answer["rows"]]
    assert created == sorted(created, reverse=True) and all(c.startswith("2025-11") for c in created)

    wanted = answer["rows"][17]
    found = demo.mcp.answer("find_orders", {"number": wanted["number"]})
    assert wanted["id"] in [row["id"] for row in found["rows"]]
    assert all(row["number"] == wanted["number"] for row in found["rows"])

    too_many = demo.mcp.call("find_orders", {"limit": 51})
    assert too_many.is_error and "limit" in error_text(too_many)


def test_list_dimensions_offers_codes_that_the_filters_accept(demo: DemoStore) -> None:
    listing = demo.mcp.answer("list_dimensions")
    names = [info["name"] for info in listing["dimensions"]]
    assert set(DIMENSIONS) <= set(names)
    by_name = {info["name"]: info for info in listing["dimensions"]}
    total = demo.mcp.answer("count_orders", {"period": "2024-01-01..2099-12-31"})["count"]
    for dimension in ("status", "site", "city"):
        values = by_name[dimension]["values"]
        assert sum(value["count"] for value in values) == total, dimension
        top = next(value for value in values if value["key"])
        counted = demo.mcp.answer("count_orders", {"period": "2024-01-01..2099-12-31",
                                                   "filters": {by_name[dimension]["filter"]: [top["key"]]}})
        assert counted["count"] == top["count"], dimension


def test_sync_status_describes_the_store(demo: DemoStore) -> None:
    status = demo.mcp.answer("sync_status")
    assert status["orders_stored"] == demo.account.live_order_count
    assert status["customers_stored"] == demo.account.live_customer_count
    assert status["data_as_of"] is not None and status["lag_seconds"] is not None and status["lag_seconds"] >= 0
    assert status["earliest_order"].startswith("2024-01-01") and status["last_error"] is None
    assert {stream["stream"] for stream in status["streams"]} == {"orders", "customers"}


def test_resources_serve_sync_status_and_dimensions(demo: DemoStore) -> None:
    status = json.loads(demo.mcp.read_resource(SYNC_STATUS_URI))
    assert without_lag(status) == without_lag(demo.mcp.answer("sync_status"))
    dimensions = json.loads(demo.mcp.read_resource(DIMENSIONS_URI))
    assert dimensions == demo.mcp.answer("list_dimensions")


# Errors an agent can act on -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("tool", "arguments", "hints"),
    [
        ("count_orders", {"period": "2025-13"}, ["`2025-13` is not a month", "YYYY-MM"]),
        ("count_orders", {"period": "November"}, ["`November`", "last_month"]),
        ("count_orders", {"period": "2025-11", "filters": {"cities": ["Atlantis"]}}, ["Atlantis", "Москва"]),
        ("count_orders", {"period": "2025-11", "filters": {"colour": ["red"]}}, ["colour"]),
        ("compare_periods", {"period_a": "2024-11", "period_b": "2025-11", "by": "weather"}, ["by", "status"]),
        ("breakdown", {"period": "2025-11", "by": "custom:nope"}, ["nope", "registration_method"]),
        ("breakdown", {"period": "2025-11", "by": "city", "top_n": 101}, ["top_n", "100"]),
        ("orders_timeseries", {"period": "2025", "granularity": "year"}, ["granularity", "month"]),
        ("find_orders", {"limit": 0}, ["find_orders: `limit`: input should be greater than or equal to 1 (got 0)"]),
        ("find_orders", {"limit": 1000}, ["`limit`: input should be less than or equal to 50 (got 1000)"]),
        ("count_orders", {}, ["count_orders: `period` is required"]),
        ("count_orders", {"period": 2025}, ["`period`", "string"]),
        ("count_orders", {"period": "2025-11", "filters": {"cities": ["Москва", "a\x00b"]}}, ["`filters.cities[1]`", "NUL"]),
        ("find_orders", {"number": "7141C\x00"}, ["`number`", "NUL"]),
        ("breakdown", {"period": "2025-11", "by": "city", "filters": {"custom_fields": {"gift\x00": "*"}}},
         ["`filters.custom_fields.gift\\u0000`"]),
    ],
)
def test_bad_arguments_are_tool_errors_that_say_what_to_fix(demo: DemoStore, tool: str, arguments: dict[str, Any],
                                                            hints: list[str]) -> None:
    result = demo.mcp.call(tool, arguments)
    assert result.is_error
    message = error_text(result)
    assert not message.startswith(MASKED_PREFIX)
    assert "validation error" not in message and "errors.pydantic.dev" not in message, message
    for hint in hints:
        assert hint in message, (hint, message)


@pytest.mark.parametrize(
    ("tool", "arguments", "parameter"),
    [
        ("compare_periods", {"period_a": "2024-11", "period_b": "2025-11", "by": "nonsense"}, "by"),
        ("breakdown", {"period": "2025-11", "by": "nonsense"}, "by"),
        ("orders_timeseries", {"period": "2025", "split_by": "nonsense"}, "split_by"),
    ],
)
def test_an_unknown_dimension_is_a_short_error_naming_every_valid_one(demo: DemoStore, tool: str,
                                                                      arguments: dict[str, Any],
                                                                      parameter: str) -> None:
    result = demo.mcp.call(tool, arguments)
    assert result.is_error
    message = error_text(result)
    assert not message.startswith(MASKED_PREFIX) and "validation error" not in message, message
    assert f"`{parameter}`" in message and "`nonsense`" in message, message
    offered = [info["name"] for info in demo.mcp.answer("list_dimensions")["dimensions"]]
    assert any(name.startswith("custom:") for name in offered)
    assert all(name in message for name in offered), message
    assert "custom:adress_client" not in message  # a free-text field is not offered for grouping
    assert len(message) < 400, message
    schema = json.dumps(next(t for t in demo.mcp.list_tools() if t.name == tool).input_schema["properties"][parameter])
    assert all(f'"{dimension}"' in schema for dimension in DIMENSIONS) and "custom:" in schema


def test_tool_calls_are_logged_with_outcome_and_duration(demo: DemoStore, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="core.mcp.calls"):
        demo.mcp.answer("count_orders", {"period": "2025-10"})
        demo.mcp.call("count_orders", {"period": "2025-13"})
    lines = [record.getMessage() for record in caplog.records if record.name == "core.mcp.calls"]
    assert any(line.startswith("tool count_orders answered in") for line in lines), lines
    assert len(lines) == 2


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_internal_failures_are_masked(kind: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for url in new_database_url(kind, tmp_path):
        engine = make_engine(url)
        init_db(engine)
        load_account(engine, generate(orders=300))
        session = McpSession(create_server(Analytics(engine, load_settings({"DATABASE_URL": url}, dotenv=False))))
        try:
            SQLModel.metadata.drop_all(engine)
            result = session.call("count_orders", {"period": "2025-11"})
        finally:
            session.close()
            engine.dispose()
        assert result.is_error
        message = error_text(result)
        assert message.startswith(MASKED_PREFIX) or message == STORE_DOWN_MESSAGE
        for detail in ("store_meta", "daily_order_stats", "no such table", "relation", "select", "sqlite", "psycopg"):
            assert detail not in message.lower(), message


# Fuzzing: any argument gives an answer or a helpful tool error, and never changes the store ---------------

FILTER_FIELDS = tuple(FILTER_DIMENSIONS)
any_value = st.one_of(
    st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=True), st.text(max_size=15),
    st.lists(st.text(max_size=8), max_size=3), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
)
sensible_periods = st.one_of(
    st.sampled_from(["2025-11", "2024", "2025-Q4", "today", "yesterday", "this_month", "last_month", "this_year",
                     "last_year", "last_30_days"]),
    st.builds("{}-{:02d}".format, st.integers(2023, 2026), st.integers(1, 12)),
    st.builds("{}-{:02d}-{:02d}".format, st.integers(2024, 2026), st.integers(1, 12), st.integers(1, 28)),
)
odd_periods = st.one_of(
    st.sampled_from(["2999", " 2025-11 ", "", "..", "2025-11..", "2025-12..2025-01", "last_0_days", "Q4 2025"]),
    st.builds("{}-{:02d}".format, st.integers(1890, 3010), st.integers(0, 13)),
    st.builds("{}-Q{}".format, st.integers(1890, 3010), st.integers(0, 5)),
    st.builds("{}-{}-{}".format, st.integers(1890, 3010), st.integers(0, 13), st.integers(0, 32)),
    st.builds("last_{}_days".format, st.integers(-2, 100_000)),
    st.text(max_size=30),
)
single_periods = st.one_of(sensible_periods, odd_periods)
periods = st.one_of(sensible_periods, single_periods, st.builds("{}..{}".format, single_periods, single_periods))


def fuzz_arguments(tool: str, codes: dict[str, list[str]], dimensions: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments of `tool`: sensible ones, well-shaped ones with odd values, and anything at all.

    `codes` maps each filter name to the codes list_dimensions offers for it.
    """
    known_filters = st.fixed_dictionaries({}, optional={
        name: st.lists(st.sampled_from(values), min_size=1, max_size=2) for name, values in codes.items() if values
    })
    odd_code = st.one_of(st.sampled_from([code for values in codes.values() for code in values]), st.text(max_size=12))
    odd_filters = st.one_of(
        st.fixed_dictionaries({}, optional={
            **{name: st.one_of(st.lists(odd_code, max_size=3), odd_code) for name in FILTER_FIELDS},
            "custom_fields": st.dictionaries(st.one_of(st.sampled_from(dimensions), st.text(max_size=8)),
                                             st.one_of(odd_code, st.just("*"), st.lists(odd_code, max_size=2)),
                                             max_size=2),
        }),
        any_value,
    )
    known_dimension = st.sampled_from(dimensions)
    odd_dimension = st.one_of(st.text(max_size=15), st.text(max_size=8).map("custom:{}".format), any_value)

    def shaped(period, filters, dimension, granularity, top_n, limit, number):  # type: ignore[no-untyped-def]
        optional = {"filters": filters}
        shapes = {
            "count_orders": ({"period": period}, optional),
            "compare_periods": ({"period_a": period, "period_b": period}, {**optional, "by": dimension}),
            "orders_timeseries": ({"period": period}, {**optional, "granularity": granularity, "split_by": dimension}),
            "breakdown": ({"period": period, "by": dimension}, {**optional, "top_n": top_n}),
            "count_new_customers": ({"period": period}, optional),
            "find_orders": ({}, {**optional, "period": period, "number": number, "limit": limit}),
            "list_dimensions": ({}, {}),
            "sync_status": ({}, {}),
        }
        required, optional_here = shapes[tool]
        return st.fixed_dictionaries(required, optional=optional_here)

    sensible = shaped(sensible_periods, st.one_of(st.none(), known_filters), known_dimension,
                      st.sampled_from(["day", "week", "month"]), st.integers(1, 100), st.integers(1, 50),
                      st.sampled_from(["1001A", "5159A"]))
    odd = shaped(periods, st.one_of(known_filters, odd_filters), st.one_of(known_dimension, odd_dimension),
                 st.one_of(st.sampled_from(["day", "week", "month"]), any_value), st.integers(-5, 150),
                 st.integers(-5, 80), st.one_of(st.text(max_size=10), any_value))
    names = ["period", "period_a", "period_b", "filters", "by", "split_by", "granularity", "top_n", "limit", "number"]
    anything = st.dictionaries(st.sampled_from(names + ["colour"]), any_value, max_size=4)
    return st.one_of(sensible, odd, anything)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_arguments_get_an_answer_or_a_helpful_tool_error(demo: DemoStore, data: st.DataObject) -> None:
    version = demo.analytics.data_version()
    dimensions = [info.name for info in demo.analytics.list_dimensions().dimensions]
    codes = {name: [code for code in demo.codes(dimension) if code] for name, dimension in FILTER_DIMENSIONS.items()}
    tool = data.draw(st.sampled_from(TOOL_NAMES), label="tool")
    arguments = data.draw(fuzz_arguments(tool, codes, dimensions), label="arguments")

    result = demo.mcp.call(tool, arguments)

    event(f"{tool}: {'tool error' if result.is_error else 'answer'}")
    if result.is_error:
        message = error_text(result)
        assert not message.startswith(MASKED_PREFIX), f"internal error for {tool}({arguments})"
        assert len(message) >= 15, message
    else:
        ANSWER_MODELS[tool].model_validate(result.structured_content)
    assert demo.analytics.data_version() == version


# Privacy: no customer name, phone or e-mail in any output ----------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DIGIT_RUN = re.compile(r"\+?\d[\d\s()-]{8,}\d")
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


# Keys of free text customers typed: delivery address lines and free-text custom fields.
FREE_TEXT_FIELDS = {"text"} | {code for _, code, _, kind, _ in catalog.CUSTOM_FIELDS if kind == "string"}


class PersonalData:
    """Customers' names, phones, e-mails, company names and addresses found in raw API payloads."""

    def __init__(self, payloads: list[dict[str, Any]]) -> None:
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.companies: set[str] = set()
        self.addresses: set[str] = set()
        for payload in payloads:
            self._collect(payload)
        self.names -= {f"{first} {last}" for _, first, last, _ in catalog.MANAGERS}  # staff, not customers
        self.names -= {f"{last} {first}" for _, first, last, _ in catalog.MANAGERS}

    def _collect(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self._collect(item)
            return
        if not isinstance(node, dict):
            return
        first, last, middle = node.get("firstName"), node.get("lastName"), node.get("patronymic")
        if first and last:
            self.names |= {f"{first} {last}", f"{last} {first}"}
            if middle:
                self.names |= {f"{last} {first} {middle}", f"{first} {middle} {last}"}
        for key, value in node.items():
            if key == "email" and isinstance(value, str):
                self.emails.add(value.lower())
            elif key in ("phone", "additionalPhone") and isinstance(value, str):
                self.phones.add(re.sub(r"\D", "", value)[-10:])
            elif key == "phones" and isinstance(value, list):
                self.phones |= {re.sub(r"\D", "", str(item.get("number")))[-10:] for item in value
                                if isinstance(item, dict) and item.get("number")}
            elif key == "legalName" and isinstance(value, str):
                self.companies.add(value)
            elif key in FREE_TEXT_FIELDS and isinstance(value, str):
                self.addresses.add(value)
            else:
                self._collect(value)

    def found_in(self, answer: Any) -> list[str]:
        """Every piece of personal data inside any string (key or value) of `answer`."""
        return [leak for string in _strings(answer) for leak in self._found_in_string(string)]

    def _found_in_string(self, string: str) -> list[str]:
        leaks = [email for email in EMAIL.findall(string) if email.lower() in self.emails]
        for run in DIGIT_RUN.findall(string):
            digits = re.sub(r"\D", "", run)
            leaks += [run for start in range(len(digits) - 9) if digits[start:start + 10] in self.phones]
        words = WORD.findall(string)
        for size in (2, 3):
            leaks += [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)
                      if " ".join(words[i:i + size]) in self.names]
        if "д. " in string:  # every emulator address has a house number; other strings need no slow scan
            leaks += [address for address in self.addresses if address in string]
        return leaks + [company for company in self.companies if company in string]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


@pytest.fixture(scope="session")
def personal_data(demo_account: Account) -> PersonalData:
    return PersonalData([*demo_account.live_orders(), *demo_account.live_customers()])


def test_the_scanner_recognises_personal_data(demo_account: Account, personal_data: PersonalData) -> None:
    payload = demo_account.live_orders()[0]
    first, last, email, phone = payload["firstName"], payload["lastName"], payload["email"], payload["phone"]
    assert personal_data.found_in({"rows": [{"label": "Иван"}]}) == []
    assert personal_data.found_in({"rows": [{"label": f"заказ {last} {first}", "note": f"Mail: {email.upper()}"}]})
    assert personal_data.found_in({f"{first} {last}": 1}) == [f"{first} {last}"]
    assert personal_data.found_in(["call 8 " + phone[2:5] + " " + phone[5:]]) != []
    address = payload["delivery"]["address"]["text"]
    assert personal_data.found_in({"key": address, "label": f"{address}, кв. 1"}) == [address, address]
    assert len(personal_data.emails) > 1000 and len(personal_data.phones) > 1000 and len(personal_data.names) > 1000
    assert len(personal_data.addresses) > 1000


def test_no_tool_output_contains_a_customer_name_phone_or_email(demo: DemoStore, personal_data: PersonalData) -> None:
    everything = "2024-01-01..2099-12-31"
    dimensions = [info.name for info in demo.analytics.list_dimensions().dimensions]
    calls: list[tuple[str, dict[str, Any]]] = [("list_dimensions", {}), ("sync_status", {})]
    calls += [("count_orders", {"period": everything}), ("count_new_customers", {"period": everything})]
    calls += [("breakdown", {"period": everything, "by": dimension, "top_n": 100}) for dimension in dimensions]
    calls += [("compare_periods", {"period_a": "2024", "period_b": "2025", "by": dimension}) for dimension in dimensions]
    calls += [("orders_timeseries", {"period": "2025", "split_by": dimension}) for dimension in dimensions]
    calls += [("find_orders", {"period": f"2025-{month:02d}", "limit": 50}) for month in range(1, 13)]
    calls += [("find_orders", {"filters": {"sites": [site]}, "limit": 50}) for site in demo.codes("site")]
    calls += [("find_orders", {"filters": {"statuses": [status]}, "limit": 50}) for status in demo.codes("status")]
    scanned = 0
    for tool, arguments in calls:
        answer = demo.mcp.answer(tool, arguments)
        assert personal_data.found_in(answer) == [], (tool, arguments)
        scanned += len(answer.get("rows") or [])
    for arguments in ({"period": "2025-11", "by": "custom:adress_client"},
                      {"period": "2025-11", "by": "city", "filters": {"custom_fields": {"adress_client": "x"}}}):
        refused = demo.mcp.call("breakdown", arguments)
        assert refused.is_error and personal_data.found_in(error_text(refused)) == [], arguments
        assert "custom:registration_method" in error_text(refused)
    with_address = demo.mcp.answer("count_orders", {"period": "2025-11", "filters": {"custom_fields": {"adress_client": "*"}}})
    assert 0 < with_address["count"] < 1447
    for uri in (SYNC_STATUS_URI, DIMENSIONS_URI):
        assert personal_data.found_in(json.loads(demo.mcp.read_resource(uri))) == [], uri
    assert scanned > 1000
