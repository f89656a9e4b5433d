"""The RetailCRM emulator for tests: in-process through httpx's ASGI transport, or as a subprocess
over real HTTP, plus settings and clients that point at it.

    account = generate(scale=0.02)
    transport = emulator_transport(account)                  # in-process, no rate limit
    settings = sync_settings(database_url)                   # Settings aimed at EMULATOR_URL
    run_cycle(settings, transport=transport)

    with EmulatorProcess(scale=0.02) as emulator:            # `python -m retailcrm_emulator` on a free port
        settings = sync_settings(database_url, url=emulator.url)
        emulator.control("POST", "/_emulator/activity", {"n": 50, "seed": 1})
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from core.config import Secret, Settings, load_settings
from core.retailcrm_client import RetailCRMClient
from retailcrm_emulator.app import create_app

API_KEY = "test-key"
EMULATOR_URL = "http://emulator.test"
ROOT = Path(__file__).resolve().parents[2]


def emulator_transport(account: Any, *, rate_limit_rps: float | None = None, **options: Any) -> httpx.ASGITransport:
    """The emulator serving `account` in-process (rate limit off unless given)."""
    return httpx.ASGITransport(app=create_app(account, api_key=API_KEY, rate_limit_rps=rate_limit_rps, **options))


def emulator_stats(transport: httpx.ASGITransport) -> dict[str, Any]:
    """The request counters of an in-process emulator (`requests`, `byEndpoint`, `rateLimited`, ...)."""
    emulator = transport.app.state.emulator  # type: ignore[attr-defined]
    return emulator.stats.to_json(emulator.faults)


def sync_settings(database_url: str, *, url: str = EMULATOR_URL, api_key: str = API_KEY, **env: str) -> Settings:
    """Settings for a sync of `database_url` from the emulator; `env` adds variables (e.g. SYNC_START_DATE)."""
    values = {"RETAILCRM_URL": url, "RETAILCRM_API_KEY": api_key, "DATABASE_URL": database_url,
              "RETAILCRM_RPS": "1000", **env}
    return load_settings(values, dotenv=False)


def emulator_client(transport: httpx.AsyncBaseTransport | None = None, *, url: str = EMULATOR_URL,
                    api_key: str = API_KEY, **options: Any) -> RetailCRMClient:
    """A client of the emulator, fast by default (high rate, short backoff)."""
    defaults: dict[str, Any] = {"rps": 1000, "backoff_base": 0.01, "backoff_cap": 0.2}
    return RetailCRMClient(url, Secret(api_key), transport=transport, **{**defaults, **options})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorProcess:
    """`python -m retailcrm_emulator` on a free local port, stopped on exit.

    `rps` is the emulator's rate limit (0: none); `arguments` are extra command-line options
    (e.g. ["--latency", "0.15"]).
    """

    def __init__(self, *, scale: float = 0.02, seed: int = 42, rps: float = 0, api_key: str = API_KEY,
                 arguments: list[str] | None = None, port: int | None = None, startup_timeout: float = 120) -> None:
        self.port = port or free_port()
        self.api_key = api_key
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "retailcrm_emulator", "--port", str(self.port), "--api-key", api_key,
                        "--scale", str(scale), "--seed", str(seed), "--rps", str(rps), *(arguments or [])]
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EmulatorProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"the emulator exited with {self.process.returncode}: {error[-2000:]}")
            try:
                httpx.get(f"{self.url}/_emulator/stats", headers={"X-API-KEY": self.api_key}, timeout=1)  # no latency
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the emulator did not answer at {self.url} within {self.startup_timeout} s")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the emulator's control API (`/_emulator/...`) and return its JSON."""
        response = httpx.request(method, f"{self.url}{path}", json=body, headers={"X-API-KEY": self.api_key},
                                 timeout=60)
        response.raise_for_status()
        return response.json()
