"""A description of the machine and software a run measured."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ram_gb() -> float:
    """Total memory in GB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def postgres_version(url: str | None) -> str | None:
    """The server's version string (short form), or None when PostgreSQL is not used."""
    if not url:
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL at `url` cannot be used (one line, no credentials), or None when it answers."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means the same here
        return (str(getattr(exc, "orig", exc)).splitlines() or [type(exc).__name__])[0][:200]
    finally:
        engine.dispose()
    return None


def describe_machine(postgres_url: str | None) -> dict[str, Any]:
    """CPU, cores, RAM, OS, Python, SQLite and PostgreSQL versions, and the load average right now."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(ram_gb(), 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(postgres_url),
        "load_at_start": os.getloadavg()[0],
    }
