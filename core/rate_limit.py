"""When to send the next request: a shared rate limiter and retry delays.

`RateLimiter` spaces request starts evenly (a token bucket with no burst by default), so every task
of one API client together stays under the server's limit. `backoff_delay` and `parse_retry_after`
compute how long to wait before a retry. Clocks, sleeps and randomness are injectable so tests
assert computed times, never elapsed ones.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


class RateLimiter:
    """Hands out start times at most `rate` per second, evenly spaced, to any number of tasks.

    `burst` is how many starts may happen back to back after an idle spell (1: none). A task
    cancelled while waiting forfeits its slot; the limiter never runs faster because of it.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be greater than 0, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self.interval = 1.0 / rate
        self._tolerance = (burst - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._next_free = -math.inf  # when the next slot opens (before burst tolerance)

    def reserve(self) -> float:
        """Claim the next slot and return its start time on the limiter's clock (no waiting)."""
        now = self._clock()
        start = max(now, self._next_free - self._tolerance)
        self._next_free = max(self._next_free, now) + self.interval
        return start

    async def acquire(self) -> float:
        """Wait for the next slot; return the clock time it was scheduled for."""
        start = self.reserve()
        delay = start - self._clock()
        if delay > 0:
            await self._sleep(delay)
        return start

    def pause(self, seconds: float) -> None:
        """Open no slot for `seconds` from now (the server asked every request to back off)."""
        if seconds > 0:
            self._next_free = max(self._next_free, self._clock() + seconds + self._tolerance)


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]. A
    server's `Retry-After` is a floor, honoured up to `cap` so a bad header cannot stall a sync.
    """
    ceiling = min(cap, base * 2 ** (attempt - 1))
    delay = uniform(0.0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: a number (possibly fractional) or an HTTP date.

    Returns None when absent or unparseable; never negative.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until_http_date(text, now)
        if seconds is None:
            return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _seconds_until_http_date(text: str, now: datetime | None) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - (now or datetime.now(timezone.utc))).total_seconds()
