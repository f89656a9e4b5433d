"""The state of the store one answer is computed against: version, time zone, freshness, coverage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, func, select

from core.analytics.answers import Source
from core.analytics.dimensions import Catalogue
from core.fallback import Coverage
from core.filters import Filters
from core.models import StoreMeta, SyncState
from core.periods import Period, parse_period, zone_of

DEFAULT_TIMEZONE = "Europe/Moscow"  # as core.reference assumes when the account does not say
ORDERS_STREAM = "orders"


@dataclass(frozen=True)
class StoreState:
    """The `store_meta` facts read (in one cheap query) on every call."""

    data_version: int
    last_sync_at: datetime | None  # naive UTC
    timezone: str
    currency: str | None
    reference_refreshed_at: datetime | None

    @property
    def version(self) -> tuple[Any, ...]:
        """Everything a cached answer depends on besides its arguments."""
        return self.data_version, self.last_sync_at, self.timezone, self.currency, self.reference_refreshed_at

    def data_as_of(self) -> datetime | None:
        """The last successful sync as an aware time in the account time zone."""
        if self.last_sync_at is None:
            return None
        return self.last_sync_at.replace(tzinfo=timezone.utc).astimezone(zone_of(self.timezone))


def read_state(connection: Connection, timezone_override: str | None) -> StoreState:
    """Read `store_meta` (and, only if it has no last sync time, the orders stream's last success)."""
    row = connection.execute(
        select(StoreMeta.data_version, StoreMeta.last_sync_at, StoreMeta.timezone, StoreMeta.currency,
               StoreMeta.reference_refreshed_at).where(StoreMeta.id == 1)
    ).first()
    version, last_sync, zone, currency, refreshed = row if row is not None else (0, None, None, None, None)
    if last_sync is None:
        last_sync = connection.execute(
            select(func.max(SyncState.last_success_at)).where(SyncState.stream == ORDERS_STREAM)
        ).scalar()
    return StoreState(int(version or 0), last_sync, timezone_override or zone or DEFAULT_TIMEZONE, currency, refreshed)


@dataclass(frozen=True)
class Context:
    """Everything one answer needs besides the question."""

    state: StoreState
    now_local: datetime
    catalogue: Catalogue
    coverage: Coverage

    def period(self, text: str) -> Period:
        """Resolve a period in the account time zone at this context's "now"."""
        return parse_period(text, self.state.timezone, now=self.now_local)

    def stamp(self, filters: Filters, source: Source, detail: str) -> dict[str, Any]:
        """The fields every answer carries: filters, data_as_of, source."""
        return {"filters": filters.applied(), "data_as_of": self.state.data_as_of(), "source": source,
                "source_detail": detail}

    def store_detail(self) -> str:
        """`source_detail` of an answer from the store."""
        as_of = self.state.data_as_of()
        when = f"{as_of:%Y-%m-%d %H:%M} {self.state.timezone}" if as_of else "never"
        return f"local store (synced copy of RetailCRM), data as of {when}"
