"""Tolerant conversion of RetailCRM payload values into storage values.

RetailCRM omits empty fields, gives empty custom fields as `[]`, money as JSON numbers and
date-times as naive local strings; a sync must survive wrong types without crashing or guessing.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_SPACES = re.compile(r"\s+")
_LOWERCASE_CITY_PARTS = {"на", "де", "ла", "upon", "on", "de"}
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_datetime(value: Any) -> datetime | None:
    """A naive local datetime from RetailCRM's "Y-m-d H:i:s" (or "Y-m-d"); None when unusable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) == 19 and text[10] == " " and text[4] == "-" and text[13] == ":":
        try:  # the usual "Y-m-d H:i:s", about 20x faster than strptime
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    for fmt in (DATETIME_FORMAT, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def to_minor_units(value: Any) -> int:
    """Money (a JSON number or numeric string) as integer hundredths, exactly; 0 when unusable."""
    if isinstance(value, bool) or value is None:
        return 0
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return 0
    if not amount.is_finite():
        return 0
    return int((amount * 100).to_integral_value())


def minor_to_decimal(minor: int | None) -> Decimal:
    """Integer hundredths back to an exact Decimal amount."""
    return (Decimal(minor or 0) / 100).quantize(Decimal("0.01"))


def as_text(value: Any, *, max_length: int = 255) -> str | None:
    """A clean single string from a scalar payload value; None for empty or non-scalar values."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text[:max_length] if text else None


def as_int(value: Any) -> int | None:
    """An integer id from an int or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def code_of(value: Any) -> str | None:
    """A symbolic code given plainly ("new") or wrapped as history gives it ({"code": "new"})."""
    if isinstance(value, dict):
        value = value.get("code")
    return as_text(value, max_length=128)


def custom_fields_of(value: Any) -> dict[str, Any]:
    """Custom fields as a dict whatever RetailCRM sent: `[]`, `{}`, `null` and missing are empty."""
    if not isinstance(value, dict):
        return {}
    return {str(code): field_value for code, field_value in value.items() if field_value not in (None, "", [])}


def city_key(city: Any) -> str:
    """The grouping key of a city name: NFKC, trimmed, single-spaced, case-folded, ё as е."""
    text = as_text(city, max_length=200)
    if text is None:
        return ""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return text.casefold().replace("ё", "е")


def city_label(key: str) -> str:
    """A display name for a city key: "санкт-петербург" -> "Санкт-Петербург"."""

    def word(part: str, first: bool) -> str:
        return part if (part in _LOWERCASE_CITY_PARTS and not first) else part[:1].upper() + part[1:]

    return " ".join(
        "-".join(word(piece, index == 0) for index, piece in enumerate(token.split("-")))
        for token in key.split(" ")
    )
