"""`create_server()`: the FastMCP server with its instructions, tools and resources."""

from __future__ import annotations

from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError

from core.analytics import Analytics
from core.config import Secret
from core.mcp.auth import SharedTokenVerifier
from core.mcp.errors import tool_errors
from core.mcp.guards import RefuseUnstorableText, ShortArgumentErrors
from core.mcp.observability import CallLogger
from core.mcp.tools import register_tools
from core.periods import ACCEPTED_FORMS

SERVER_NAME = "retailcrm-analytics"
SYNC_STATUS_URI = "retailcrm://sync-status"
DIMENSIONS_URI = "retailcrm://dimensions"


def instructions(timezone: str | None, sync_interval_minutes: float) -> str:
    """What an agent must know before asking: what is counted, in which time zone, how fresh.

    `timezone` is None while it is unknown (nothing synced yet and no RETAILCRM_TIMEZONE).
    """
    zone = timezone or "learned at the first sync"
    interval = f"{sync_interval_minutes:g} minute{'' if sync_interval_minutes == 1 else 's'}"
    return f"""\
Read-only analytics over the orders of one RetailCRM (Simla.com) account, answered from a local copy
of the account that an incremental sync keeps fresh.

What is counted: a "registration" is an order created in RetailCRM. An order counts in the period that
contains its createdAt, taken in the account's local time zone ({zone}; every answer names it in
period.timezone), so "2025-11" is November 2025 local time whatever your own time zone is. Deleted
orders and orders merged into another order are not counted. Revenue is the sum of order totals, as a
decimal string in the account currency.

Freshness: the copy is synced every {interval}. Every answer carries data_as_of (the
last successful sync, account-local) and source: "store" for the local copy, or "api" when a period
outside the synced range was counted by the RetailCRM API (source_detail says why; no revenue then). A
period that has not started yet is 0 from the store, and source_detail says it has not started.
sync_status (or the resource {SYNC_STATUS_URI}) shows the lag and the last error.

Asking: periods are {ACCEPTED_FORMS}. Filter and group only by codes listed by list_dimensions (or the
resource {DIMENSIONS_URI}); never guess a code. For "A vs B" questions use compare_periods: when a period
is still in progress it also compares the same elapsed time. A tool error explains what was wrong and
what is accepted: fix the argument and call again.

Privacy: no tool returns customers' names, phones or e-mails."""


def create_server(analytics: Analytics | None = None, *, auth_token: Secret | None = None) -> FastMCP:
    """The MCP server over `analytics` (default: the configured store).

    HTTP requests must carry `Authorization: Bearer <auth_token>` (default: MCP_AUTH_TOKEN); without any
    token the HTTP transport is unauthenticated, so `mcp_server.py --http` refuses to start without one.
    """
    analytics = analytics or Analytics.from_settings()
    token = auth_token or analytics.settings.mcp_auth_token
    status = analytics.sync_status()
    timezone = analytics.settings.timezone_override or (status.timezone if status.data_as_of else None)
    server = FastMCP(
        SERVER_NAME,
        instructions=instructions(timezone, analytics.settings.sync_interval_minutes),
        auth=SharedTokenVerifier(token) if token else None,
        middleware=[CallLogger(), ShortArgumentErrors(), RefuseUnstorableText()],
        mask_error_details=True,
        on_duplicate="error",
    )
    register_tools(server, analytics)

    @server.resource(SYNC_STATUS_URI, name="sync-status", mime_type="application/json",
                     description="Freshness of the local copy: last sync, lag, counts, cursors, last error")
    def sync_status_resource() -> str:
        with tool_errors(ResourceError):
            return analytics.sync_status().model_dump_json()

    @server.resource(DIMENSIONS_URI, name="dimensions", mime_type="application/json",
                     description="Every dimension with its codes, labels and order counts")
    def dimensions_resource() -> str:
        with tool_errors(ResourceError):
            return analytics.list_dimensions().model_dump_json()

    return server
