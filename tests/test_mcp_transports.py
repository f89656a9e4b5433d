"""The real `mcp_server.py` process: over stdio, over streamable HTTP with the bearer token, two HTTP
processes on one PostgreSQL store, and one clear line (no traceback) for bad configuration.

The stores hold a small emulator dataset; each answer must equal what the analytics core answers
in-process on the same store.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastmcp.client.transports import StdioTransport
from mcp.shared.exceptions import MCPError

from core.analytics import Analytics
from core.config import load_settings
from core.db import init_db, make_engine
from core.mcp.tools import TOOL_NAMES
from retailcrm_emulator import generate
from tests.conftest import new_database_url
from tests.support.daemon import wait_for
from tests.support.mcp_session import ROOT, McpSession, serve_http, server_env
from tests.support.store_loader import load_account

TOKEN = "test-token-0123456789abcdef"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("count_orders", {"period": "2025-11"}),
    ("compare_periods", {"period_a": "2024-11", "period_b": "2025-11", "by": "site"}),
    ("orders_timeseries", {"period": "2025", "granularity": "month"}),
    ("breakdown", {"period": "2025", "by": "city", "top_n": 3}),
    ("count_new_customers", {"period": "2025"}),
    ("find_orders", {"period": "2025-11", "limit": 5}),
    ("list_dimensions", {}),
    ("sync_status", {}),
]
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class SmallStore:
    """A store with a small dataset and the in-process analytics over it (the expected answers)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        init_db(self.engine)
        load_account(self.engine, generate(orders=1500))
        self.analytics = Analytics(self.engine, load_settings({"DATABASE_URL": url}, dotenv=False))

    def expected(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return comparable(getattr(self.analytics, tool)(**arguments).model_dump(mode="json"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory) -> Iterator[SmallStore]:  # type: ignore[no-untyped-def]
    for url in new_database_url(request.param, tmp_path_factory.mktemp(f"mcp-{request.param}")):
        small = SmallStore(url)
        yield small
        small.engine.dispose()


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without the sync lag, which changes from call to call."""
    return {key: value for key, value in answer.items() if key != "lag_seconds"}


def assert_answers_like_the_core(session: McpSession, store: SmallStore) -> None:
    assert {tool.name for tool in session.list_tools()} == set(TOOL_NAMES)
    assert [tool for tool, _ in CALLS] == list(TOOL_NAMES)
    for tool, arguments in CALLS:
        assert comparable(session.answer(tool, arguments)) == store.expected(tool, arguments), tool
    refused = session.call("count_orders", {"period": "2025-13"})
    assert refused.is_error and "YYYY-MM" in refused.content[0].text


@pytest.mark.slow
def test_stdio_serves_every_tool(store: SmallStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "stdio.log"
    transport = StdioTransport(sys.executable, ["mcp_server.py"], env=server_env(store.url), cwd=str(ROOT),
                               keep_alive=False, log_file=log)
    session = McpSession(transport)
    try:
        assert_answers_like_the_core(session, store)
    finally:
        session.close()
    assert "tool count_orders answered" in log.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # PostgreSQL: the two-process test below
def test_http_serves_every_tool_to_the_bearer_of_the_token_only(store: SmallStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "http.log"
    with serve_http(store.url, TOKEN, log) as url:
        session = McpSession(url, auth=TOKEN)
        try:
            assert_answers_like_the_core(session, store)
        finally:
            session.close()
        wait_for(lambda: "warm-up: every month is in memory" in log.read_text(), what="the background warm-up")
        ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": f"Bearer {TOKEN}x"}):
            response = httpx.post(url, headers={**MCP_HEADERS, **headers}, json=ping, timeout=10)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "count_orders" not in response.text
        with pytest.raises(MCPError):
            McpSession(url, auth="wrong-token")
    assert TOKEN not in log.read_text()


@pytest.mark.slow
def test_two_stateless_http_processes_on_one_postgresql_store_answer_alike(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for url in new_database_url("postgresql", tmp_path):
        store = SmallStore(url)
        with ExitStack() as stack:
            urls = [stack.enter_context(serve_http(url, TOKEN, tmp_path / f"http-{n}.log")) for n in (1, 2)]
            sessions = [McpSession(server, auth=TOKEN) for server in urls]
            for session in sessions:
                stack.callback(session.close)
            for tool, arguments in CALLS:
                answers = [comparable(session.answer(tool, arguments)) for session in sessions]
                assert answers[0] == answers[1] == store.expected(tool, arguments), tool
            # No per-session state: a call sent to either process without any handshake is answered.
            call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                    "params": {"name": "count_orders", "arguments": {"period": "2025-11"}}}
            expected_count = store.expected("count_orders", {"period": "2025-11"})["count"]
            for server in urls:
                response = httpx.post(server, json=call, timeout=30, headers={
                    **MCP_HEADERS, "Authorization": f"Bearer {TOKEN}", "MCP-Protocol-Version": "2025-06-18"})
                assert response.status_code == 200 and "mcp-session-id" not in response.headers
                assert f'\\"count\\":{expected_count}' in response.text
        store.engine.dispose()


@pytest.mark.parametrize(
    ("arguments", "env", "expected"),
    [
        (["--http"], {}, "MCP_AUTH_TOKEN is not set"),
        ([], {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}, "cannot open the store"),
        ([], {"DATABASE_URL": "mysql://localhost/orders"}, "DATABASE_URL must be"),
        ([], {"SYNC_INTERVAL_MINUTES": "often"}, "SYNC_INTERVAL_MINUTES must be a number"),
    ],
    ids=["http-without-token", "unreachable-store", "unsupported-database", "bad-setting"],
)
def test_bad_configuration_stops_with_one_clear_line(arguments: list[str], env: dict[str, str], expected: str,
                                                     tmp_path) -> None:  # type: ignore[no-untyped-def]
    environment = {**server_env(f"sqlite:///{tmp_path / 'store.db'}"), **env}
    finished = subprocess.run([sys.executable, "mcp_server.py", *arguments], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert finished.returncode != 0
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], finished.stderr
    assert "Traceback" not in finished.stderr and finished.stdout == ""
