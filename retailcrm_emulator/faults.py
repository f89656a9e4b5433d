"""Fault injection: what can go wrong between a client and RetailCRM, on demand and deterministic.

A `Faults` object decides, request by request, whether to answer with a fault instead of (or on
top of) the real response. Scripted faults (`script`) are served first, one per request, in order;
then each kind fires with its probability, drawn from a seeded random stream.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

KINDS = ("503", "429", "500", "slow", "empty", "truncated", "html")
_PROBABILITY_FIELDS = {"503": "p503", "429": "p429", "500": "p500", "slow": "p_slow", "empty": "p_empty",
                       "truncated": "p_truncated", "html": "p_html"}


@dataclass
class Faults:
    """Fault probabilities (0..1 each), a script of faults to serve first, and their parameters.

    - 503: nginx-style HTML "Service Temporarily Unavailable";
    - 429: "Too Many Requests" with a `Retry-After` header taken in turn from `retry_after`;
    - 500: JSON error body;
    - slow: the real response after `slow_seconds` more (to trigger client timeouts);
    - empty / truncated / html: HTTP 200 with no body, half of the real JSON, or an HTML page.
    Only paths starting with one of `paths` are affected.
    """

    p503: float = 0.0
    p429: float = 0.0
    p500: float = 0.0
    p_slow: float = 0.0
    p_empty: float = 0.0
    p_truncated: float = 0.0
    p_html: float = 0.0
    script: list[str] = field(default_factory=list)
    slow_seconds: float = 5.0
    retry_after: list[str] = field(default_factory=lambda: ["1", "0.5", "2.0"])
    paths: list[str] = field(default_factory=lambda: ["/api/"])
    seed: int = 0
    injected: Counter[str] = field(default_factory=Counter, init=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [kind for kind in self.script if kind not in KINDS and kind != "ok"]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; use {KINDS} or 'ok'")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._retry_turn = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        """Build from the JSON of POST /_emulator/faults (unknown keys are an error)."""
        names = {f.name for f in fields(cls) if f.init}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        """Settings and counts of injected faults."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        out["injected"] = dict(self.injected)
        return out

    def next_fault(self, path: str) -> str | None:
        """The fault to inject into this request, or None."""
        if not any(path.startswith(prefix) for prefix in self.paths):
            return None
        with self._lock:
            if self.script:
                kind: str | None = self.script.pop(0)
                kind = None if kind == "ok" else kind
            else:
                kind = None
                for candidate in KINDS:
                    if self._rng.random() < getattr(self, _PROBABILITY_FIELDS[candidate]):
                        kind = candidate
                        break
            if kind:
                self.injected[kind] += 1
            return kind

    def next_retry_after(self) -> str:
        """The next Retry-After value, in turn."""
        with self._lock:
            value = self.retry_after[self._retry_turn % len(self.retry_after)]
            self._retry_turn += 1
            return value
