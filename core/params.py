"""Query parameters in the PHP bracket form RetailCRM expects.

`{"filter": {"ids": [1, 2], "customFields": {"city": "msk"}}}` becomes
`filter[ids][]=1&filter[ids][]=2&filter[customFields][city]=msk`. Booleans are sent as `0`/`1`,
date-times as "Y-m-d H:i:s", and `None` values are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any

_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested mappings and lists into ordered `(name, value)` pairs with PHP brackets."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _encode(str(key), value, pairs)
    return pairs


def _encode(name: str, value: Any, pairs: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _encode(f"{name}[{key}]", item, pairs)
    elif isinstance(value, (Sequence, Set)) and not isinstance(value, (str, bytes)):
        items = sorted(value) if isinstance(value, Set) else value
        for index, item in enumerate(items):
            if isinstance(item, (Mapping, Sequence)) and not isinstance(item, (str, bytes)):
                _encode(f"{name}[{index}]", item, pairs)
            else:
                _encode(f"{name}[]", item, pairs)
    else:
        pairs.append((name, _scalar(value)))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime(_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
