"""The history log's selection (sinceId, date window with shown-time jitter, entity) against brute force."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from retailcrm_emulator.history import HistoryLog, page_of


def _log(gaps: list[int], entities: list[int]) -> HistoryLog:
    log = HistoryLog()
    ts = 1_000
    for gap, entity in zip(gaps, entities):
        ts += gap
        log.append(ts, entity, 3, 0, 1, 0)
    return log


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 60), min_size=0, max_size=60),
    entities=st.lists(st.integers(1, 4), min_size=60, max_size=60),
    since=st.integers(0, 70),
    start=st.none() | st.integers(900, 3_000),
    end=st.none() | st.integers(900, 3_000),
    entity=st.none() | st.integers(1, 4),
    offset=st.integers(0, 70),
    limit=st.sampled_from([1, 5, 20]),
)
def test_selection_matches_brute_force(gaps: list[int], entities: list[int], since: int, start: int | None,
                                       end: int | None, entity: int | None, offset: int, limit: int) -> None:
    log = _log(gaps, entities)
    expected = [i for i in range(len(log))
                if i + 1 > since
                and (start is None or log.shown_ts(i) >= start)
                and (end is None or log.shown_ts(i) <= end)
                and (entity is None or log.entity[i] == entity)]
    segments = log.select(since_id=since, start=start, end=end, entity=entity)
    total, picked = page_of(segments, offset, limit)
    assert total == len(expected)
    assert picked == expected[offset:offset + limit]


def test_shown_time_is_not_monotonic_but_ids_are() -> None:
    log = _log([30] * 30, [1] * 30)
    shown = [log.shown_ts(i) for i in range(len(log))]
    assert shown != sorted(shown)
    assert len(log) == 30 and log.append(0, 1, 3, 0, 1, 0) == 31
    assert log.ts[-1] == log.ts[-2], "the stored time never goes back"
