"""The questions put to the MCP tools: one per tool for latency, and a varied mix for load."""

from __future__ import annotations

import random
from typing import Any

# One representative call of every MCP tool (tool name, arguments).
TOOL_QUESTIONS: list[tuple[str, dict[str, Any]]] = [
    ("count_orders", {"period": "2025-11"}),
    ("compare_periods", {"period_a": "2024-11", "period_b": "2025-11"}),
    ("orders_timeseries", {"period": "2025", "granularity": "month"}),
    ("breakdown", {"period": "2025", "by": "city"}),
    ("count_new_customers", {"period": "2025"}),
    ("find_orders", {"period": "2025-11"}),
    ("list_dimensions", {}),
    ("sync_status", {}),
]
_MONTHS = [f"{year}-{month:02d}" for year in (2024, 2025) for month in range(1, 13)]
_DIMENSIONS = ["status", "status_group", "site", "city", "order_method", "manager"]


def mixed_question(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A question an agent might ask: a random tool, month and dimension."""
    month, earlier = rng.choice(_MONTHS[12:]), rng.choice(_MONTHS[:12])
    choices: list[tuple[str, dict[str, Any]]] = [
        ("count_orders", {"period": month}),
        ("count_orders", {"period": month, "filters": {"status_groups": ["complete"]}}),
        ("compare_periods", {"period_a": earlier, "period_b": month}),
        ("compare_periods", {"period_a": earlier, "period_b": month, "by": rng.choice(_DIMENSIONS)}),
        ("orders_timeseries", {"period": month[:4], "granularity": rng.choice(["month", "week", "day"])}),
        ("breakdown", {"period": month, "by": rng.choice(_DIMENSIONS)}),
        ("count_new_customers", {"period": month}),
        ("find_orders", {"period": month, "limit": 20}),
        ("list_dimensions", {}),
        ("sync_status", {}),
    ]
    return rng.choice(choices)
