"""Command line of `mcp_server.py`: stdio by default, streamable HTTP with `--http`.

Configuration problems (bad settings, unreachable store, HTTP without MCP_AUTH_TOKEN) end the process
with one line on stderr and a non-zero exit code, never a traceback. Logs go to stderr (stdout carries
the stdio protocol). While it starts serving, the process loads the store into memory in the background.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time

from sqlalchemy.exc import OperationalError

from core.analytics import Analytics
from core.config import ConfigError, load_settings
from core.db import StoreUnavailable, driver_reason
from core.mcp.server import create_server

PROG = "mcp_server"
EXIT_CONFIG = 2
logger = logging.getLogger("core.mcp")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """`--http [--host H] [--port P]`; without `--http` the server speaks MCP over stdio."""
    parser = argparse.ArgumentParser(prog="mcp_server.py", description="RetailCRM analytics MCP server")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP (needs MCP_AUTH_TOKEN)")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def configure_logging(level: str) -> None:
    """Plain one-line logs on stderr."""
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def warm_up_in_background(analytics: Analytics) -> threading.Thread:
    """Load every month into memory (what `list_dimensions` reads) while the server starts serving, so a
    new process's first questions do not each wait for the months they touch (seconds at 1M orders)."""

    def warm_up() -> None:
        started = time.perf_counter()
        try:
            analytics.list_dimensions()
        except Exception as exc:  # noqa: BLE001 - questions load what they need anyway
            logger.warning("warm-up stopped (questions will load what they need): %s", driver_reason(exc))
            return
        logger.info("warm-up: every month is in memory after %.1f s", time.perf_counter() - started)

    thread = threading.Thread(target=warm_up, name="warm-up", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    """Run the server until stopped; the exit code says whether the configuration was usable."""
    args = parse_args(argv)
    configure_logging(args.log_level)
    try:
        settings = load_settings()
        if args.http and not settings.mcp_auth_token:
            raise ConfigError("MCP_AUTH_TOKEN is not set; the HTTP server only serves clients with a bearer token")
        analytics = Analytics.from_settings(settings)
        server = create_server(analytics)
    except (ConfigError, StoreUnavailable) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (OperationalError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__]
        print(f"{PROG}: cannot open the store: {reason[0]}", file=sys.stderr)
        return EXIT_CONFIG
    warm_up_in_background(analytics)
    try:
        if args.http:
            logger.info("serving streamable HTTP (stateless) on http://%s:%d/mcp", args.host, args.port)
            server.run(transport="http", host=args.host, port=args.port, stateless_http=True, show_banner=False)
        else:
            server.run(transport="stdio", show_banner=False)
    except KeyboardInterrupt:
        pass
    return 0
