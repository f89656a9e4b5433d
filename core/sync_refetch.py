"""Re-fetching records by id, without mistaking a broken answer for deletions."""

from __future__ import annotations

import logging
from typing import Any

from core.normalize import as_int
from core.sync_context import SyncContext
from core.sync_streams import Stream

logger = logging.getLogger("retailcrm.sync")


async def refetch(ctx: SyncContext, stream: Stream, ids: set[int]) -> tuple[list[dict[str, Any]], bool]:
    """The records among `ids` the API still has, and whether its answers were complete.

    An answer holding a record without a usable id is asked once more for the ids it left out; if
    that happens again the answer is incomplete: the caller must not take absence as deletion.
    """
    if not ids:
        return [], True
    fetched = await stream.by_ids(ctx.client, sorted(ids))
    usable = [payload for payload in fetched if record_id(payload) is not None]
    if len(usable) == len(fetched):
        return usable, True
    missing = ids - {record_id(payload) for payload in usable}
    again = await stream.by_ids(ctx.client, sorted(missing)) if missing else []
    usable += [payload for payload in again if record_id(payload) is not None]
    complete = all(record_id(payload) is not None for payload in again)
    if not complete:
        logger.warning("%s: the API answered a re-fetch by id with records without a usable id; "
                       "ids it left out are kept as they were, not taken as deleted", stream.name)
    return usable, complete


def record_id(payload: Any) -> int | None:
    """The id of an API record, None when unusable."""
    return as_int(payload.get("id")) if isinstance(payload, dict) else None
