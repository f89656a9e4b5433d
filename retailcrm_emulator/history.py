"""A compact, append-only history log (one for orders, one for customers).

Records live in parallel typed arrays; record id = position + 1, so ids are strictly increasing
and `sinceId` is an O(1) cursor. The stored time is monotonic in id (binary search for date
filters); the *shown* `createdAt` of every 11th record is `LAG` seconds earlier (a change that
committed late), so clients cannot rely on `createdAt` being monotonic, as on the real API.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# What a record says (the `field`, or created/deleted/combined).
CREATED, DELETED, COMBINED = 0, 1, 2
STATUS, MANAGER, SITE, CREATED_AT, CITY, ADDRESS, ORDER_METHOD, ORDER_TYPE = 3, 4, 5, 6, 7, 8, 9, 10
CUSTOM_REGISTRATION, CUSTOM_INTERESTS, CUSTOM_GIFT, CUSTOM_NEWSLETTER, CUSTOMER = 11, 12, 13, 14, 15

SOURCES = ("user", "api", "rule", "combine", "code")
USER, API, RULE, COMBINE = 0, 1, 2, 3
NO_KEY, OTHER_KEY, CURRENT_KEY = 0, 1, 2


def pack_meta(source: int, api_key: int = NO_KEY, user: int = 0, status: int = 0, site: int = 0,
              manager: int = 0) -> int:
    """Pack who made a change and the entity's status/site/manager right after it into one int."""
    return source | api_key << 3 | user << 5 | status << 13 | site << 19 | manager << 22


@dataclass(frozen=True, slots=True)
class Meta:
    """Unpacked record metadata."""

    source: int
    api_key: int
    user: int
    status: int
    site: int
    manager: int

    @classmethod
    def unpack(cls, meta: int) -> Meta:
        return cls(meta & 7, meta >> 3 & 3, meta >> 5 & 255, meta >> 13 & 63, meta >> 19 & 7,
                   meta >> 22 & 255)


LAG = 90


def _lag(record_id: int) -> int:
    """Seconds by which the shown createdAt of a record is earlier than its stored time."""
    return LAG if record_id % 11 == 5 else 0


class HistoryLog:
    """Parallel arrays of history records; not thread-safe by itself (the Account locks)."""

    def __init__(self) -> None:
        self.ts = array("q")
        self.entity = array("q")
        self.kind = array("b")
        self.old = array("q")
        self.new = array("q")
        self.meta = array("q")
        self._index: _EntityIndex | None = None

    def __len__(self) -> int:
        return len(self.ts)

    def append(self, ts: int, entity: int, kind: int, old: int, new: int, meta: int) -> int:
        """Add a record (ts must not go back in time) and return its id."""
        if self.ts and ts < self.ts[-1]:
            ts = self.ts[-1]
        self.ts.append(ts)
        self.entity.append(entity)
        self.kind.append(kind)
        self.old.append(old)
        self.new.append(new)
        self.meta.append(meta)
        if self._index is not None:
            self._index.later.setdefault(entity, []).append(len(self.ts) - 1)
        return len(self.ts)

    def shown_ts(self, index: int) -> int:
        """The createdAt shown for the record at `index`."""
        return self.ts[index] - _lag(index + 1)

    def indices_of(self, entity: int) -> list[int]:
        """Positions of the records of one entity, in id order (the index is built on first use)."""
        if self._index is None:
            self._index = _EntityIndex(self.entity)
        return self._index.positions(entity)

    def select(self, *, since_id: int = 0, start: int | None = None, end: int | None = None,
               entity: int | None = None) -> list[Sequence[int]]:
        """Positions of matching records in id order, as a list of segments (ranges or lists)."""
        n = len(self.ts)
        if entity is not None:
            chosen = [i for i in self.indices_of(entity) if i >= since_id and self._in(i, start, end)]
            return [chosen]
        lo = since_id
        hi = n
        if start is not None:
            lo = max(lo, bisect_left(self.ts, start))
        if end is not None:
            hi = min(hi, bisect_right(self.ts, end + LAG))
        if lo >= hi:
            return []
        # Only records stored within LAG seconds after `start` or after `end` can be lagged across them.
        head_end = bisect_left(self.ts, start + LAG, lo, hi) if start is not None else lo
        tail_start = max(head_end, bisect_right(self.ts, end, head_end, hi)) if end is not None else hi
        head = [i for i in range(lo, head_end) if self._in(i, start, end)]
        tail = [i for i in range(tail_start, hi) if self._in(i, start, end)]
        return [head, range(head_end, tail_start), tail]

    def _in(self, index: int, start: int | None, end: int | None) -> bool:
        shown = self.shown_ts(index)
        return (start is None or shown >= start) and (end is None or shown <= end)


class _EntityIndex:
    """Record positions grouped by entity: a stable sort by entity, plus records appended since."""

    def __init__(self, entities: array) -> None:
        order = sorted(range(len(entities)), key=entities.__getitem__)
        self.positions_sorted = array("q", order)
        self.entities_sorted = array("q", [entities[i] for i in order])
        self.later: dict[int, list[int]] = {}

    def positions(self, entity: int) -> list[int]:
        lo = bisect_left(self.entities_sorted, entity)
        hi = bisect_right(self.entities_sorted, entity, lo)
        return list(self.positions_sorted[lo:hi]) + self.later.get(entity, [])


def page_of(segments: list[Sequence[int]], offset: int, limit: int) -> tuple[int, list[int]]:
    """Total count and the positions [offset, offset + limit) of a segmented selection."""
    total = sum(len(s) for s in segments)
    picked: list[int] = []
    for segment in segments:
        if offset >= len(segment):
            offset -= len(segment)
            continue
        picked.extend(segment[offset:offset + limit - len(picked)])
        offset = 0
        if len(picked) >= limit:
            break
    return total, picked
