"""Shared helpers of the emulator tests: constants, client factory type, history replay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

END = date(2026, 12, 3)  # first day not generated: fixed so the data set does not depend on today
KEY = "test-key"
ClientFactory = Callable[..., httpx.AsyncClient]

TRACKED = ("status", "site", "createdAt", "managerId", "city")


def _from_order(order: dict[str, Any]) -> dict[str, Any]:
    return {"status": order["status"], "site": order["site"], "createdAt": order["createdAt"],
            "managerId": order.get("managerId"),
            "city": order.get("delivery", {}).get("address", {}).get("city")}


def replay(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Final tracked fields of every order that still exists after `records` (ascending id)."""
    state: dict[int, dict[str, Any]] = {}
    for record in records:
        order_id = record["order"]["id"]
        if record.get("created"):
            state[order_id] = _from_order(record["order"])
        elif record.get("deleted") or "combinedTo" in record:
            del state[order_id]
        else:
            field, new = record["field"], record.get("newValue")
            current = state[order_id]
            if field in ("status", "site"):
                current[field] = new["code"]
            elif field == "created_at":
                current["createdAt"] = new
            elif field == "manager":
                current["managerId"] = new["id"] if new else None
            elif field == "delivery_address.city":
                current["city"] = new
    return state


def final_state(orders: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The tracked fields of the given /orders payloads."""
    return {order["id"]: _from_order(order) for order in orders}
