"""The answer cache: valid for one data version and a TTL; one computation per question in flight."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.cache import AnswerCache

THREADS = 20


class Clock:
    """A settable clock that also tells when `expected` calls were made: the cache reads it as it is asked."""

    def __init__(self, expected: int = 0) -> None:
        self.now = 0.0
        self.calls = 0
        self.expected = expected
        self.all_asked = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.calls += 1
            if self.calls >= self.expected:
                self.all_asked.set()
        return self.now


def _ask_from_every_thread(cache: AnswerCache, key: str, compute) -> list:  # type: ignore[no-untyped-def]
    """Futures of THREADS threads asking `key` at once."""
    pool = ThreadPoolExecutor(THREADS)
    futures = [pool.submit(cache.get_or_compute, key, 1, compute) for _ in range(THREADS)]
    pool.shutdown(wait=False)
    return futures


def test_an_answer_lives_for_its_version_and_its_ttl() -> None:
    clock = Clock()
    cache = AnswerCache(ttl_seconds=600, clock=clock)
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cache.get_or_compute("q", 1, compute) == 1
    assert cache.get_or_compute("q", 1, compute) == 1
    assert cache.get_or_compute("q", 2, compute) == 2  # a sync committed: new version
    clock.now = 601
    assert cache.get_or_compute("q", 2, compute) == 3  # expired
    assert len(computed) == 3


def test_threads_asking_one_new_question_share_one_computation() -> None:
    clock = Clock(expected=THREADS)
    cache = AnswerCache(ttl_seconds=600, clock=clock)
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        clock.all_asked.wait(timeout=30)  # every thread has asked before the first answer exists
        return "answer"

    answers = _ask_from_every_thread(cache, "q", compute)
    assert [answer.result(timeout=30) for answer in answers] == ["answer"] * THREADS
    assert len(calls) == 1


def test_a_failed_computation_reaches_every_waiter_and_is_not_cached() -> None:
    clock = Clock(expected=THREADS)
    cache = AnswerCache(ttl_seconds=600, clock=clock)
    calls: list[int] = []

    def failing() -> str:
        calls.append(1)
        clock.all_asked.wait(timeout=30)
        raise ValueError("`2025-13` is not a month")

    for answer in _ask_from_every_thread(cache, "bad", failing):
        with pytest.raises(ValueError, match="not a month"):
            answer.result(timeout=30)
    assert len(calls) == 1
    assert cache.get_or_compute("bad", 1, lambda: "recovered") == "recovered"
    assert len(cache) == 1
