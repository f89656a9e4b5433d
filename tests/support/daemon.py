"""Running `sync_daemon.py` as a real process, with an environment built from scratch (no `.env`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from tests.support.emulator import API_KEY, ROOT


def daemon_env(database_url: str, url: str | None, *, api_key: str | None = API_KEY, **extra: str) -> dict[str, str]:
    """The environment of a daemon process: only what it needs plus `extra` variables."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url,
           "RETAILCRM_RPS": "1000", "TZ": os.environ.get("TZ", "UTC")}
    if url is not None:
        env["RETAILCRM_URL"] = url
    if api_key is not None:
        env["RETAILCRM_API_KEY"] = api_key
    env.update(extra)
    return env


def run_daemon(arguments: list[str], env: dict[str, str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python sync_daemon.py ARGUMENTS` to completion and capture its output."""
    return subprocess.run([sys.executable, "sync_daemon.py", *arguments], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start_daemon(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `python sync_daemon.py ARGUMENTS` in the background (stderr captured, text mode)."""
    return subprocess.Popen([sys.executable, "sync_daemon.py", *arguments], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def wait_for(condition: Callable[[], bool], *, timeout: float = 60, what: str = "the condition") -> None:
    """Poll `condition` every 50 ms until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout} s")
