"""Settings from the environment (and an optional `.env` file), validated once.

Every problem is reported as a one-line `ConfigError` naming the variable, and the API key
never appears in `repr`, logs or error messages.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'retailcrm.db'}"


class ConfigError(ValueError):
    """A setting is missing or invalid; the message is one line and names the variable."""


class Secret:
    """A string that never shows itself in `repr` or `str`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    """Validated configuration of every process of the product."""

    retailcrm_url: str | None
    api_key: Secret | None = field(repr=False)
    database_url: str
    timezone_override: str | None
    sync_interval_minutes: float
    rps: float
    sync_start_date: date | None
    concurrency: int
    cache_ttl_seconds: float
    mcp_auth_token: Secret | None = field(repr=False)

    def require_api(self) -> tuple[str, Secret]:
        """The API URL and key, or a `ConfigError` naming whichever is missing."""
        if not self.retailcrm_url:
            raise ConfigError("RETAILCRM_URL is not set (e.g. https://demo.retailcrm.ru)")
        if not self.api_key:
            raise ConfigError("RETAILCRM_API_KEY is not set")
        return self.retailcrm_url, self.api_key


def _get(env: dict[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _positive_number(env: dict[str, str], name: str, default: float) -> float:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number greater than 0, got {raw!r}")
    return value


def _positive_integer(env: dict[str, str], name: str, default: int) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def _url(env: dict[str, str]) -> str | None:
    raw = _get(env, "RETAILCRM_URL")
    if raw is None:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"RETAILCRM_URL must look like https://<account>.retailcrm.ru, got {raw!r}")
    return raw.rstrip("/").removesuffix("/api/v5").removesuffix("/api")


def _database_url(env: dict[str, str]) -> str:
    raw = _get(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    if raw.startswith("postgres://"):
        raw = "postgresql+psycopg://" + raw.removeprefix("postgres://")
    elif raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw.removeprefix("postgresql://")
    if not raw.startswith(("sqlite:///", "postgresql+psycopg://")):
        raise ConfigError(
            "DATABASE_URL must be sqlite:///<path> or postgresql+psycopg://user@host:port/db"
        )
    return raw


def _timezone(env: dict[str, str]) -> str | None:
    raw = _get(env, "RETAILCRM_TIMEZONE")
    if raw is None:
        return None
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"RETAILCRM_TIMEZONE must be an IANA zone like Europe/Moscow, got {raw!r}") from None
    return raw


def _start_date(env: dict[str, str]) -> date | None:
    raw = _get(env, "SYNC_START_DATE")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"SYNC_START_DATE must be a date YYYY-MM-DD, got {raw!r}") from None


def load_settings(env: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Read and validate settings from `env` (default: the process environment plus `.env`)."""
    if env is None:
        if dotenv:
            load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = dict(os.environ)
    api_key = _get(env, "RETAILCRM_API_KEY")
    token = _get(env, "MCP_AUTH_TOKEN")
    return Settings(
        retailcrm_url=_url(env),
        api_key=Secret(api_key) if api_key else None,
        database_url=_database_url(env),
        timezone_override=_timezone(env),
        sync_interval_minutes=_positive_number(env, "SYNC_INTERVAL_MINUTES", 10),
        rps=_positive_number(env, "RETAILCRM_RPS", 10),
        sync_start_date=_start_date(env),
        concurrency=_positive_integer(env, "RETAILCRM_CONCURRENCY", 48),
        cache_ttl_seconds=_positive_number(env, "CACHE_TTL_SECONDS", 600),
        mcp_auth_token=Secret(token) if token else None,
    )
