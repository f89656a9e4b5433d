"""Machinery of the resilience scenarios: the emulator on a real socket that can be stopped and started
again around the same account, ASGI wrappers that watch or rewrite what it serves, and daemon processes.

Everything here wraps the emulator from the outside (ASGI middleware, uvicorn in a thread) and runs
`sync_daemon.py` as it runs in production; nothing of ours is patched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from sqlalchemy import Engine, select

from core.db import session_for
from core.models import SyncRun, SyncState
from retailcrm_emulator import Account
from retailcrm_emulator.app import create_app
from retailcrm_emulator.clock import today_local
from tests.support.emulator import API_KEY, ROOT, free_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def recent_start(months: int = 6) -> date:
    """A SYNC_START_DATE `months` months before this one (account-local): fewer windows, cheaper scenarios."""
    today = today_local(Account.timezone)
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def emulator_app(account: Account, **options: Any) -> ASGIApp:
    """The emulator's ASGI app for `account` with the test key and no rate limit unless given."""
    options.setdefault("rate_limit_rps", None)
    return create_app(account, api_key=API_KEY, **options)


class ServedEmulator:
    """An ASGI app served by uvicorn in a thread on a fixed local port.

    `stop()` then `start()` is a restart of the server on the same port with the same app, so the
    account, its faults and its counters survive, like a RetailCRM front end going down and up again.
    """

    def __init__(self, app: ASGIApp, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 20) -> None:
        """Serve until `stop()`; returns once the socket accepts connections."""
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="critical",
                                access_log=False, lifespan="on", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"emulator:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Close the socket and every connection (requests in flight get one second to finish)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
        self._server = self._thread = None

    def __enter__(self) -> ServedEmulator:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def _is_api(scope: Scope) -> bool:
    return scope["type"] == "http" and str(scope["path"]).startswith("/api/")


class Tap:
    """ASGI middleware: `before(path)` as each API request arrives, `after(path)` once it was answered."""

    def __init__(self, app: ASGIApp, *, before: Callable[[str], None] | None = None,
                 after: Callable[[str], None] | None = None) -> None:
        self.app, self.before, self.after = app, before, after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_api(scope):
            await self.app(scope, receive, send)
            return
        if self.before is not None:
            self.before(scope["path"])
        await self.app(scope, receive, send)
        if self.after is not None:
            self.after(scope["path"])


class Rewriter:
    """ASGI middleware: `rewrite(path, query, body)` may replace the body of any successful API response.

    It returns the new bytes, or None to pass the response through unchanged.
    """

    def __init__(self, app: ASGIApp, rewrite: Callable[[str, str, bytes], bytes | None]) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_api(scope):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            replaced = self.rewrite(scope["path"], scope["query_string"].decode(), body) if start["status"] == 200 else None
            if replaced is not None:
                body = replaced
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                start["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)


def json_rewrite(change: Callable[[str, dict[str, Any]], bool]) -> Callable[[str, str, bytes], bytes | None]:
    """A `Rewriter` function that edits the decoded JSON in place; `change` returns whether it did."""

    def rewrite(path: str, query: str, body: bytes) -> bytes | None:
        try:
            document = json.loads(body)
        except ValueError:
            return None
        if not isinstance(document, dict) or not change(path, document):
            return None
        return json.dumps(document, ensure_ascii=False).encode()

    return rewrite


class AtRequest:
    """A `Tap` hook that runs `action` once, in a new thread, when the n-th API request from now arrives.

    `done` is set when the action has finished; `rearm` sets up the next one.
    """

    def __init__(self, at_request: int, action: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self.done = threading.Event()
        self.rearm(at_request, action)

    def rearm(self, at_request: int, action: Callable[[], None]) -> None:
        with self._lock:
            self._left, self._action = at_request, action
            self.done.clear()

    def before(self, path: str) -> None:
        with self._lock:
            self._left -= 1
            if self._left != 0:
                return
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            self._action()
        finally:
            self.done.set()


class KillSwitch:
    """SIGKILLs one process at a chosen API request: as it arrives, or `delay` seconds after its answer.

    Use as the `before`/`after` hooks of a `Tap`; `arm` for each new process. `reached` is set at the
    process's first request, `fired` once it was killed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._left = 0
        self._delay: float | None = None
        self.reached = threading.Event()
        self.fired = threading.Event()

    def arm(self, pid: int, at_request: int, delay: float | None = None) -> None:
        """Kill `pid` at its `at_request`-th request (1-based) from now; `delay` None = on arrival."""
        with self._lock:
            self._pid, self._left, self._delay = pid, at_request, delay
            self.reached.clear()
            self.fired.clear()

    def disarm(self) -> None:
        with self._lock:
            self._pid = None

    def before(self, path: str) -> None:
        with self._lock:
            if self._pid is None:
                return
            self.reached.set()
            self._left -= 1
            if self._left == 0 and self._delay is None:
                self._kill_locked()

    def after(self, path: str) -> None:
        with self._lock:
            if self._pid is None or self._left > 0 or self._delay is None:
                return
            pid, delay = self._pid, self._delay
            self._pid = None
        threading.Timer(delay, self._kill, args=(pid,)).start()

    def _kill_locked(self) -> None:
        pid, self._pid = self._pid, None
        if pid is not None:
            self._kill(pid)

    def _kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.fired.set()


def caught_up(engine: Engine, account: Account) -> bool:
    """Whether the store has applied the account's whole history and its last run ended well."""
    with session_for(engine) as session:
        states = {state.stream: state for state in session.execute(select(SyncState)).scalars()}
        last = session.execute(select(SyncRun).order_by(SyncRun.id.desc())).scalars().first()
    truth = account.truth()
    wanted = {"orders": truth["maxOrderHistoryId"], "customers": truth["maxCustomerHistoryId"]}
    return (last is not None and last.status == "ok"
            and all(stream in states and states[stream].backfill_done
                    and states[stream].history_since_id == last_id for stream, last_id in wanted.items()))


def spawn_daemon(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `python sync_daemon.py ARGUMENTS` with stdout and stderr appended to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "sync_daemon.py", *arguments], cwd=ROOT, env=env,
                                stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop_daemon(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM (finish the page, exit) and wait; SIGKILL if it does not exit in time. The exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def rss_kib(pid: int) -> int:
    """Resident memory of a process (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")
