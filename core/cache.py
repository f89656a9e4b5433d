"""A small thread-safe TTL cache whose entries also die when the store's data version moves on."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class AnswerCache:
    """Answers keyed by (function, arguments), valid for `ttl_seconds` and for one data version.

    Computation happens outside the lock, so a slow answer never blocks other questions. Threads asking
    a question already being computed for the same version wait for that computation instead of repeating
    it: after a sync commit, twenty clients asking the same question cost one computation, not twenty
    competing for the same cores.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Hashable, float, Any]] = OrderedDict()
        self._computing: dict[tuple[Hashable, Hashable], Future[Any]] = {}

    def get_or_compute(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key` at `version`, or `compute()` stored for next time."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version and entry[1] > now:
                self._entries.move_to_end(key)
                return entry[2]
            flight = self._computing.get((key, version))
            computing_here = flight is None
            if computing_here:
                flight = self._computing[(key, version)] = Future()
        if not computing_here:
            return flight.result()
        try:
            value = compute()
        except BaseException as error:
            with self._lock:
                del self._computing[(key, version)]
            flight.set_exception(error)
            raise
        with self._lock:
            del self._computing[(key, version)]
            self._entries[key] = (version, self._clock() + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        flight.set_result(value)
        return value

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
