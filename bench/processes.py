"""Child processes of the benchmark (MCP server, sync daemon): started with a log file, stopped on exit."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx

from core.config import PROJECT_ROOT
from tests.support.mcp_session import free_port, server_env


class Child:
    """`python <arguments>` from the project root with `env`, output in `log_path`; SIGTERM on exit."""

    def __init__(self, arguments: list[str], env: dict[str, str], log_path: Path) -> None:
        self.command = [sys.executable, *arguments]
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Child:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, characters: int = 1500) -> str:
        return self.log_path.read_text(errors="replace")[-characters:]

    def wait_until(self, ready: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll `ready` until it holds; fail with the log's tail if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{what}: the process exited: {self.log_tail()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what}: not ready within {timeout:.0f} s: {self.log_tail()}")


def answers_http(url: str) -> bool:
    """Whether something answers HTTP at `url` (any status)."""
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return False
    return True


MCP_TOKEN = "bench-token"


def mcp_http_server(database_url: str, log_path: Path) -> tuple[Child, str]:
    """`python mcp_server.py --http` on a free port over `database_url` (enter the Child); and its MCP URL."""
    port = free_port()
    env = server_env(database_url, MCP_AUTH_TOKEN=MCP_TOKEN)
    child = Child(["mcp_server.py", "--http", "--host", "127.0.0.1", "--port", str(port)], env, log_path)
    return child, f"http://127.0.0.1:{port}/mcp"
