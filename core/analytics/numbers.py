"""Formatting of figures in answers: exact money strings and one-decimal percentages."""

from __future__ import annotations

from core.normalize import minor_to_decimal


def money(minor: int | None) -> str | None:
    """Minor units as a decimal string ("1234.50"); None stays None."""
    return None if minor is None else str(minor_to_decimal(minor))


def percent_change(before: int, after: int) -> float | None:
    """(after - before) / before in percent, one decimal; None when before is 0."""
    return round((after - before) * 100 / before, 1) if before else None


def share(part: int, whole: int) -> float:
    """part / whole in percent, one decimal; 0 when whole is 0."""
    return round(part * 100 / whole, 1) if whole else 0.0
