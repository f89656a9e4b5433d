"""The emulator as a real server: `python -m retailcrm_emulator` over a socket, live mode on."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "retailcrm_emulator", "--port", str(port), "--api-key", "k", "--scale", "0.01",
         "--rps", "0", "--live", "--live-interval", "0.2"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/api/api-versions", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        banner = process.stdout.read().decode()
        assert banner.count("\n") == 1 and f"{url}" in banner


def test_real_socket_with_live_mode(server: str) -> None:
    headers = {"X-API-KEY": "k"}
    first = httpx.get(f"{server}/_emulator/truth", headers=headers).json()["truth"]
    time.sleep(0.8)
    second = httpx.get(f"{server}/_emulator/truth", headers=headers).json()["truth"]
    assert second["maxOrderHistoryId"] > first["maxOrderHistoryId"], "live mode keeps changing the account"
    history = httpx.get(f"{server}/api/v5/orders/history", headers=headers,
                        params={"filter[sinceId]": first["maxOrderHistoryId"], "limit": 100}).json()
    assert history["history"] and history["history"][0]["id"] == first["maxOrderHistoryId"] + 1
    orders = httpx.get(f"{server}/api/v5/orders", params={"apiKey": "k", "limit": 20}).json()
    assert orders["pagination"]["totalCount"] >= second["liveOrders"] > first["liveOrders"], "live mode only adds"
