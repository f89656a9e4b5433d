"""Hostile strings in every MCP tool argument, over a store the sync filled: the server keeps answering
(with an answer or a tool error that says what to fix, never the masked internal error) and the store
does not change by a single byte.

`tests/test_mcp_tools.py` fuzzes the shapes and values of the arguments on a loaded demo store and checks
the data version. This extends it with hostile string content (NUL bytes, control and bidi characters,
non-ASCII digits, SQL and LIKE metacharacters, emoji, strings far over the limits) placed in every string
position, over a store written by the sync itself, and checks a digest of every stored row. Lone
surrogates are left out: the in-process client cannot encode them. Both databases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select

from core.analytics import Analytics
from core.config import load_settings
from core.db import init_db, make_engine
from core.mcp import create_server
from core.mcp.tools import TOOL_NAMES
from core.sync import run_cycle
from retailcrm_emulator import generate
from tests.conftest import new_database_url
from tests.resilience.harness import emulator_app, recent_start
from tests.support.emulator import sync_settings
from tests.support.mcp_session import MASKED_PREFIX, McpSession, error_text
from tests.support.resilience import Scenario

START = recent_start()
HOSTILE = (
    "\x00", "a\x00b", "2025-11\x00", "\x01\x02\x1f\x7f", "\u202e11-5202", "\u200d\u200b", "２０２５-１１", "٢٠٢٥-١١",
    "'; DROP TABLE orders; --", "\" OR 1=1 --", "%", "_", "\\", "%_\\%", "\n\r\t", "🧨🔥", "null", "None", "[]", "{}",
    "x" * 101, "2025-11.." * 20, "-1", "9" * 40, "custom:" + "\x00", "custom:%",
)
FIELDS = ("statuses", "status_groups", "order_types", "order_methods", "sites", "managers", "cities", "utm_sources")


class SyncedStore:
    """A store the sync filled from the emulator, its MCP session, and a digest of every stored row."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.engine = make_engine(database_url)
        init_db(self.engine)
        self.scenario = Scenario(f"hostile MCP arguments ({self.engine.dialect.name})")
        self.account = generate(seed=111, scale=0.005)
        transport = httpx.ASGITransport(app=emulator_app(self.account))
        run_cycle(sync_settings(database_url, SYNC_START_DATE=START.isoformat()), transport=transport, engine=self.engine)
        self.analytics = Analytics(self.engine, load_settings({"DATABASE_URL": database_url}, dotenv=False))
        self.mcp = McpSession(create_server(self.analytics))
        self.tables = MetaData()
        self.tables.reflect(self.engine)
        self.original = self.digest()

    def digest(self) -> str:
        """SHA-256 over every row of every table, in primary key order."""
        digest = hashlib.sha256()
        with self.engine.connect() as connection:
            for table in self.tables.sorted_tables:
                for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                    digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    def close(self) -> None:
        self.mcp.close()
        self.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def synced(request, tmp_path_factory) -> Iterator[SyncedStore]:  # type: ignore[no-untyped-def]
    for database_url in new_database_url(request.param, tmp_path_factory.mktemp(f"bad-arguments-{request.param}")):
        store = SyncedStore(database_url)
        try:
            yield store
        finally:
            store.close()


hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=12).map(lambda text: text + "\x00"),
    st.integers(65, 20_000).map(lambda length: "ж" * length),  # over every max_length
)
maybe_hostile = st.one_of(hostile, st.sampled_from(["2025-11", "2025", "last_month", "status", "city"]))
filters = st.one_of(
    st.fixed_dictionaries({}, optional={
        **{name: st.lists(maybe_hostile, max_size=3) for name in FIELDS},
        "custom_fields": st.dictionaries(maybe_hostile, st.one_of(maybe_hostile, st.lists(maybe_hostile, max_size=2)),
                                         max_size=2),
    }),
    hostile,
)


def arguments_of(tool: str) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments of `tool` with a hostile string in at least one string position."""
    period, dimension = maybe_hostile, st.one_of(hostile, hostile.map("custom:{}".format))
    shapes: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "count_orders": {"period": period, "filters": filters},
        "compare_periods": {"period_a": period, "period_b": period, "filters": filters, "by": dimension},
        "orders_timeseries": {"period": period, "granularity": maybe_hostile, "filters": filters, "split_by": dimension},
        "breakdown": {"period": period, "by": dimension, "filters": filters},
        "count_new_customers": {"period": period, "filters": filters},
        "find_orders": {"period": period, "filters": filters, "number": hostile},
        "list_dimensions": {"colour": hostile},
        "sync_status": {"colour": hostile},
    }
    return st.fixed_dictionaries({}, optional=shapes[tool]).filter(bool)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_hostile_strings_get_answers_or_errors_and_change_nothing(synced: SyncedStore, data: st.DataObject) -> None:
    tool = data.draw(st.sampled_from(TOOL_NAMES), label="tool")
    arguments = data.draw(arguments_of(tool), label="arguments")

    result = synced.mcp.call(tool, arguments)
    synced.scenario.fault()

    if result.is_error:
        message = error_text(result)
        assert message.strip() and not message.startswith(MASKED_PREFIX), f"{tool}({arguments!r}): {message}"
    else:
        assert isinstance(result.structured_content, dict)
    assert synced.mcp.answer("sync_status")["orders_stored"] > 0, "the server stopped answering"
    assert synced.digest() == synced.original, f"{tool}({arguments!r}) changed the store"


@pytest.mark.parametrize(("tool", "arguments"), [
    ("count_orders", {"period": "2025-11", "filters": {"cities": ["a\x00b"]}}),
    ("find_orders", {"number": "7141C\x00"}),
])
def test_a_nul_byte_gets_a_helpful_tool_error(synced: SyncedStore, tool: str, arguments: dict[str, Any]) -> None:
    """PostgreSQL refuses NUL in text, so a NUL that reached a query came back as the masked internal error."""
    result = synced.mcp.call(tool, arguments)
    assert result.is_error and not error_text(result).startswith(MASKED_PREFIX), error_text(result)


def test_after_all_that_the_store_still_equals_the_truth(synced: SyncedStore) -> None:
    assert synced.digest() == synced.original
    synced.scenario.verify(synced.engine, synced.database_url, synced.account, since=START)
