"""Run the whole product locally: emulator, first sync, sync daemon, MCP server and dashboard.

Every part is the real program started as its own process, exactly as in production, with the
emulator standing in for the RetailCRM account. Ctrl-C stops them all. The emulator generates its
account anew at every start, so the default store (data/demo.db) is emptied first: a store synced
from an earlier account would mix the two.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.db import remove_sqlite_store  # noqa: E402

DEMO_KEY = "demo-key"
DEMO_STORE = ROOT / "data" / "demo.db"


def free_port(preferred: int) -> int:
    """`preferred` when it is free, otherwise any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free TCP port")


def wait_until_up(url: str, process: subprocess.Popen, name: str, timeout: float = 60) -> None:
    """Poll `url` until it answers; stop early with the reason when `process` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"demo: {name} exited with code {process.returncode}; see its output above")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit(f"demo: {name} did not answer at {url} within {timeout:.0f} s")


def hold_store(store: Path) -> IO[str]:
    """An exclusive lock on `store` for this demo's life: a second demo would sync its own, different
    emulator account into the same file (and empty it first)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    lock = store.with_name(f"{store.name}.demo.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"demo: another demo is running on {store}; stop it (Ctrl-C in its terminal) first, "
                         "or give this one its own --database-url") from None
    return lock


def main() -> int:
    """Start everything, print where to look, and wait for Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=f"sqlite:///{DEMO_STORE}",
                        help="the store (default data/demo.db, emptied at every start; any other is used as it is)")
    parser.add_argument("--scale", default="1.0", help="emulator dataset scale (1.0 = about 35k live orders)")
    parser.add_argument("--rps", default="10", help="emulator rate limit, requests per second")
    parser.add_argument("--interval", default="1", help="sync interval in minutes")
    parser.add_argument("--live-interval", default="60",
                        help="seconds between the emulator's bursts of new orders and status changes")
    args = parser.parse_args()
    if args.database_url == f"sqlite:///{DEMO_STORE}":
        lock = hold_store(DEMO_STORE)  # noqa: F841 - held until the process ends
        remove_sqlite_store(DEMO_STORE)
        print(f"demo: starting from an empty store {DEMO_STORE.relative_to(ROOT)} (the emulator's account is "
              "generated anew at every start)", flush=True)

    emulator_port, mcp_port, dashboard_port = free_port(8700), free_port(8000), free_port(8501)
    token = os.environ.get("MCP_AUTH_TOKEN") or secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RETAILCRM_URL": f"http://127.0.0.1:{emulator_port}",
        "RETAILCRM_API_KEY": DEMO_KEY,
        "DATABASE_URL": args.database_url,
        "SYNC_INTERVAL_MINUTES": args.interval,
        "MCP_AUTH_TOKEN": token,
    }
    python = sys.executable
    venv_python = os.path.relpath(python, ROOT) if python.startswith(str(ROOT)) else python
    children: list[subprocess.Popen] = []

    def start(*command: str) -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=ROOT, env=env)
        children.append(process)
        return process

    def stop_all(*_: object) -> None:
        for process in reversed(children):
            if process.poll() is None:
                process.terminate()
        for process in children:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        emulator = start(python, "-m", "retailcrm_emulator", "--port", str(emulator_port), "--api-key", DEMO_KEY,
                         "--scale", args.scale, "--rps", args.rps, "--live", "--live-interval", args.live_interval)
        wait_until_up(f"http://127.0.0.1:{emulator_port}/api/api-versions", emulator, "the emulator", timeout=180)

        print("demo: first sync: backfill of orders and customers from the emulator at its rate limit "
              f"({args.rps} requests/s), about two minutes at the default scale...", flush=True)
        first_sync = subprocess.run([python, "sync_daemon.py", "--once"], cwd=ROOT, env=env)
        if first_sync.returncode != 0:
            raise SystemExit("demo: the first sync failed; see the line above")

        start(python, "sync_daemon.py")
        mcp = start(python, "mcp_server.py", "--http", "--host", "127.0.0.1", "--port", str(mcp_port))
        dashboard = start(python, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                          "--server.address=127.0.0.1", f"--server.port={dashboard_port}",
                          "--browser.gatherUsageStats=false")
        wait_until_up(f"http://127.0.0.1:{dashboard_port}/_stcore/health", dashboard, "the dashboard")
        wait_until_up(f"http://127.0.0.1:{mcp_port}/mcp", mcp, "the MCP server")

        print(
            f"""
demo: everything is running (Ctrl-C stops it all)
  Dashboard:   http://127.0.0.1:{dashboard_port}
  MCP (HTTP):  http://127.0.0.1:{mcp_port}/mcp   with header  Authorization: Bearer {token}
               e.g. claude mcp add --transport http retailcrm http://127.0.0.1:{mcp_port}/mcp \\
                      --header "Authorization: Bearer {token}"
  MCP (stdio): DATABASE_URL={args.database_url} {venv_python} mcp_server.py
  Emulator:    http://127.0.0.1:{emulator_port}  (RetailCRM API v5, live mode: new orders keep arriving)
  Sync status: DATABASE_URL={args.database_url} {venv_python} sync_daemon.py --status
""",
            flush=True,
        )
        while all(process.poll() is None for process in children):
            time.sleep(1)
        failed = next(process for process in children if process.poll() is not None)
        print(f"demo: {' '.join(failed.args[1:3])} exited with code {failed.returncode}; stopping", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
