"""Applying fresh API records and removals of one stream to the store, inside the caller's transaction.

Rules that keep the store equal to the account whatever order things arrive in:
- records are upserted by id, so a page seen twice changes nothing;
- deletion is final in RetailCRM (ids are never reused), so a record the store already knows as
  deleted or merged is never brought back by a stale payload;
- with `SYNC_START_DATE`, records created before it are outside the store: skipped, and removed
  if an edit of `createdAt` moved a stored record out of range;
- every day a change touches (old and new `created_date`) gets its aggregate recomputed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from core.models import SyncState
from core.store import PayloadError, mark_removed, upsert_rows, utcnow
from core.sync_streams import Stream

logger = logging.getLogger("retailcrm.sync")
_CHUNK = 500


@dataclass
class Applied:
    """What one batch changed: counts, and the rows written (for the reference-code check)."""

    upserted: int = 0
    removed: int = 0
    skipped: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


def apply_records(
    session: Session,
    stream: Stream,
    payloads: Iterable[Any],
    removals: Mapping[int, int | None] | None = None,
    *,
    start_date: date | None = None,
) -> Applied:
    """Upsert `payloads`, then flag `removals` (id -> merged into, None = deleted); refresh touched days."""
    synced_at = utcnow()
    applied = Applied()
    rows: list[dict[str, Any]] = []
    for payload in payloads:
        try:
            rows.append(stream.row_of(payload, synced_at))
        except PayloadError as problem:
            applied.skipped += 1
            logger.warning("%s: skipped a record the API sent: %s", stream.name, problem)
    removals = dict(removals or {})
    rows = [row for row in rows if row["id"] not in removals]
    out_of_range = [row["id"] for row in rows if start_date is not None and row["created_date"] < start_date]
    rows = [row for row in rows if start_date is None or row["created_date"] >= start_date]
    rows = _without_removed(session, stream, rows)

    touched = upsert_rows(session, stream.model, rows)
    touched |= _purge(session, stream, out_of_range)
    by_target: dict[int | None, list[int]] = defaultdict(list)
    for record_id, merged_into in removals.items():
        by_target[merged_into].append(record_id)
    for merged_into, ids in by_target.items():
        touched |= mark_removed(session, stream.model, ids, merged_into=merged_into)
    stream.refresh_days(session, touched)

    applied.upserted = len(rows)
    applied.removed = len(removals)
    applied.rows = rows
    return applied


def _without_removed(session: Session, stream: Stream, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose id the store does not already know as deleted or merged."""
    model = stream.model
    ids = [row["id"] for row in rows]
    removed: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        query = select(model.id).where(model.id.in_(chunk), model.is_deleted.is_(True))
        removed.update(session.execute(query).scalars())
    return [row for row in rows if row["id"] not in removed]


def _purge(session: Session, stream: Stream, ids: list[int]) -> set[date]:
    """Delete stored records that fell outside the synced range; returns the days they left."""
    model = stream.model
    days: set[date] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        days.update(session.execute(select(model.created_date).where(model.id.in_(chunk))).scalars())
        session.execute(delete(model).where(model.id.in_(chunk)))
    return days


def load_state(session: Session, stream: str) -> SyncState:
    """The `sync_state` row of `stream`, created (not yet committed) on first use."""
    state = session.get(SyncState, stream)
    if state is None:
        state = SyncState(stream=stream)
        session.add(state)
        session.flush()
    return state
