"""How the sync stands, as plain JSON-ready data, for `sync_daemon.py --status`, the dashboard and MCP."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from core.db import describe, session_for
from core.models import Customer, Order, StoreMeta, SyncRun, SyncState
from core.sync_streams import STREAMS


def _iso(moment: datetime | None) -> str | None:
    """A naive UTC bookkeeping time written with its offset, so a reader sees it is UTC: "2025-11-15 09:00:00+00:00"."""
    return moment.replace(tzinfo=timezone.utc).isoformat(sep=" ", timespec="seconds") if moment else None


def _duration_s(started: datetime | None, finished: datetime | None) -> float | None:
    """Seconds from `started` to `finished` at full precision (the ISO times are written to the second)."""
    return round((finished - started).total_seconds(), 3) if started and finished else None


def _live(session: Session, model: type[Order] | type[Customer]) -> int:
    return int(session.execute(select(func.count()).select_from(model).where(model.is_deleted.is_(False))).scalar_one())


def sync_status(engine: Engine, *, runs: int = 5) -> dict[str, Any]:
    """Last sync, per-stream cursors and errors, live counts and the latest `runs` cycles (times in UTC, with
    their +00:00 offset; `timezone` is the account's, in which orders are counted)."""
    with session_for(engine) as session:
        meta = session.get(StoreMeta, 1)
        states = {state.stream: state for state in session.execute(select(SyncState)).scalars()}
        latest = session.execute(select(SyncRun).order_by(SyncRun.id.desc()).limit(runs)).scalars().all()
        streams = {}
        for stream in STREAMS:
            state = states.get(stream.name)
            streams[stream.name] = {
                "stored": _live(session, stream.model),
                "backfill_done": bool(state and state.backfill_done),
                "backfill_cursor": state.backfill_cursor if state else None,
                "history_since_id": state.history_since_id if state else None,
                "history_records_applied": state.records_applied if state else 0,
                "last_success_at": _iso(state.last_success_at) if state else None,
                "last_error": state.last_error if state else None,
                "last_error_at": _iso(state.last_error_at) if state else None,
            }
        return {
            "store": describe(engine),
            "last_sync_at": _iso(meta.last_sync_at) if meta else None,
            "data_version": meta.data_version if meta else 0,
            "timezone": meta.timezone if meta else None,
            "currency": meta.currency if meta else None,
            "reference_refreshed_at": _iso(meta.reference_refreshed_at) if meta else None,
            "orders_stored": streams["orders"]["stored"],
            "customers_stored": streams["customers"]["stored"],
            "last_error": next((s["last_error"] for s in streams.values() if s["last_error"]), None),
            "streams": streams,
            "recent_runs": [
                {
                    "id": run.id, "kind": run.kind, "status": run.status, "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at), "duration_s": _duration_s(run.started_at, run.finished_at),
                    "pages": run.pages, "api_requests": run.api_requests,
                    "orders_upserted": run.orders_upserted, "customers_upserted": run.customers_upserted,
                    "history_records": run.history_records, "error": run.error,
                }
                for run in latest
            ],
        }
