"""Driving MCP servers from synchronous tests (and hypothesis): an in-process session and server processes.

`McpSession` keeps one real MCP client connected (in-process via `fastmcp.Client(server)`, or to a URL or
a stdio transport) on its own event loop, so each call is a plain function call. `serve_http` starts
`python mcp_server.py --http` as a real process and waits until its port accepts connections.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastmcp import Client
from mcp.types import CallToolResult, Tool

ROOT = Path(__file__).resolve().parents[2]
MASKED_PREFIX = "Error calling tool"


class McpSession:
    """One connected MCP client; every method runs one request to completion."""

    def __init__(self, target: Any, **client_options: Any) -> None:
        self._runner = asyncio.Runner()
        self.client = Client(target, **client_options)
        try:
            self._runner.run(self.client.__aenter__())
        except BaseException:
            self._runner.close()
            raise

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        """The raw result of `tools/call` (errors come back as `is_error`, not raised)."""
        return self._runner.run(self.client.call_tool(tool, arguments or {}, raise_on_error=False))

    def answer(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The structured content of a successful call; fails the test with the error text otherwise."""
        result = self.call(tool, arguments)
        assert not result.is_error, f"{tool}({arguments}) failed: {error_text(result)}"
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    def list_tools(self) -> list[Tool]:
        return self._runner.run(self.client.list_tools())

    def read_resource(self, uri: str) -> str:
        contents = self._runner.run(self.client.read_resource(uri))
        return contents[0].text

    @property
    def instructions(self) -> str | None:
        return self.client.instructions

    def close(self) -> None:
        try:
            self._runner.run(self.client.__aexit__(None, None, None))
        finally:
            self._runner.close()


def error_text(result: CallToolResult) -> str:
    """The text an agent sees for a failed call."""
    return " ".join(getattr(block, "text", "") for block in result.content)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server process: this interpreter's, the store, no API fallback, no token.

    Unwanted settings are set empty rather than removed, so a developer's `.env` cannot fill them in.
    """
    unset = {"RETAILCRM_URL": "", "RETAILCRM_API_KEY": "", "MCP_AUTH_TOKEN": ""}
    return {**os.environ, **unset, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, **extra}


@contextmanager
def serve_http(database_url: str, token: str, log_path: Path, timeout: float = 90) -> Iterator[str]:
    """Run `mcp_server.py --http` on a free port; yield its MCP URL; stop it afterwards."""
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "mcp_server.py", "--http", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=server_env(database_url, MCP_AUTH_TOKEN=token), stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        _wait_until_listening(url, process, log_path, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_listening(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not listen within {timeout} s: {log_path.read_text()[-2000:]}")
