"""Hostile API payloads never crash the sync, never commit garbage, never lose the cursor.

An ASGI wrapper corrupts a seeded share of the emulator's answers:
- whole bodies the client must refuse and retry: invalid UTF-8 bytes, the list or `pagination` null, of
  the wrong type or missing, `success` not `true`;
- noise the sync must ignore: unknown fields (top level and in records, nested), 100 kB strings in them,
  wrong types in fields the store does not keep;
- broken records the sync must skip (with a logged reason) without touching what it stores: a record that
  is null, a number or a string, an unusable `id` or `createdAt`, in list pages and re-fetches alike;
- history records of no usable entity id, which make the windows be reconciled with the API (a lost
  deletion balanced by a lost creation in one window has a test of its own at the end);
- nulls where objects are expected (`delivery`, `customer`, `source`, `customFields`), taken as absent.
After every cycle under corruption: the cycle ended "ok" or with a one-line API error (never another
exception), cursors did not move back, the store is consistent with itself, and no order that exists in
the account is marked deleted. Then, with clean answers, every live order and customer is touched so that
the next cycle fetches it again, and the store must equal the truth. Both databases, in-process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import Engine, select

from core.db import session_for
from core.models import Order, SyncState
from core.retailcrm_client import ApiError
from core.sync import CycleResult, SyncEngine
from retailcrm_emulator import Account, generate
from tests.resilience.harness import Rewriter, emulator_app, recent_start
from tests.support.emulator import emulator_client, sync_settings
from tests.support.resilience import Scenario, store_self_differences

START = recent_start()
LIST_KEYS = {"/api/v5/orders": "orders", "/api/v5/customers": "customers", "/api/v5/orders/history": "history",
             "/api/v5/customers/history": "history"}
LONG = "ж" * 50_000  # 100 kB of UTF-8


def _records(document: dict[str, Any], key: str, rng: random.Random) -> list[dict[str, Any]]:
    items = document.get(key)
    items = list(items.values()) if isinstance(items, dict) else items if isinstance(items, list) else []
    chosen = [item for item in items if isinstance(item, dict)]
    return rng.sample(chosen, min(len(chosen), rng.randint(1, 3)))


def _replace_records(document: dict[str, Any], key: str, rng: random.Random, make: Callable[[], Any]) -> None:
    items = document.get(key)
    if isinstance(items, list) and items:
        for index in rng.sample(range(len(items)), min(len(items), rng.randint(1, 3))):
            items[index] = make()


class Corruptor:
    """Corrupts about `rate` of the API answers, each in one seeded way; counts what it did."""

    def __init__(self, seed: int, rate: float) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.active = True
        self.done: Counter[str] = Counter()

    def __call__(self, path: str, query: str, body: bytes) -> bytes | None:
        key = LIST_KEYS.get(path)
        if not self.active or key is None or self.rng.random() >= self.rate:
            return None
        rng = self.rng
        document = json.loads(body)
        kinds = ["invalid utf-8", "list null", "list wrong type", "list missing", "pagination null",
                 "pagination missing", "success not true", "unknown fields", "long strings", "wrong types kept out"]
        if key == "history":
            kinds += ["history record of no entity"]
        else:
            kinds += ["record not an object", "unusable id", "unusable createdAt", "null objects"]
        kind = rng.choice(kinds)
        self.done[kind] += 1
        if kind == "invalid utf-8":
            cut = rng.randrange(1, len(body))
            return body[:cut] + b"\xff\xfe\xc3" + body[cut:]
        if kind == "list null":
            document[key] = None
        elif kind == "list wrong type":
            document[key] = rng.choice(["oops", 42, True])
        elif kind == "list missing":
            del document[key]
        elif kind == "pagination null":
            document["pagination"] = None
        elif kind == "pagination missing":
            document.pop("pagination", None)
        elif kind == "success not true":
            document["success"] = rng.choice(["true", 1, None])
        elif kind == "unknown fields":
            document["zzUnknown"] = {"nested": [1, {"deeper": None}]}
            for record in _records(document, key, rng):
                record["zzUnknown"] = [{"x": LONG[:10]}, None, 3.5]
        elif kind == "long strings":
            for record in _records(document, key, rng):
                record["customerComment"] = LONG
                record["zzNote"] = LONG
        elif kind == "wrong types kept out":
            for record in _records(document, key, rng):
                record.update(items="not a list", payments=None, contact=5, weight={"a": []})
        elif kind == "record not an object":
            _replace_records(document, key, rng, lambda: rng.choice([None, 7, "order", []]))
        elif kind == "unusable id":
            for record in _records(document, key, rng):
                record["id"] = rng.choice([None, "abc", 1.5, {"id": 1}, ""])
        elif kind == "unusable createdAt":
            for record in _records(document, key, rng):
                record["createdAt"] = rng.choice([None, "yesterday", 20251101, "2025-13-45 25:61:00", ""])
        elif kind == "history record of no entity":
            for record in _records(document, key, rng):
                entity = "order" if "order" in record else "customer"
                record[entity] = rng.choice([None, {"id": None}, {"id": "abc"}, "order"])
        elif kind == "null objects":
            for record in _records(document, key, rng):
                record.update({name: None for name in ("delivery", "customer", "source", "customFields")})
        return json.dumps(document, ensure_ascii=False).encode()


def _cycle(store: Engine, settings: Any, transport: Any) -> CycleResult | ApiError:
    async def run() -> CycleResult | ApiError:
        async with emulator_client(transport, max_attempts=25) as client:
            try:
                return await SyncEngine(store, client, settings).cycle()
            except ApiError as failure:  # one line, recorded; anything else fails the test
                return failure

    return asyncio.run(run())


def _wrongly_removed(store: Engine, account: Account) -> list[int]:
    live = {order["id"] for order in account.live_orders()}
    with session_for(store) as session:
        removed = set(session.execute(select(Order.id).where(Order.is_deleted.is_(True))).scalars())
    return sorted(live & removed)


def _cursors(store: Engine) -> dict[str, int]:
    with session_for(store) as session:
        return {state.stream: state.history_since_id or 0 for state in session.execute(select(SyncState)).scalars()}


def test_corrupted_answers_change_nothing_that_is_kept(database_url: str, store: Engine,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    scenario = Scenario("corrupted API payloads")
    account = generate(seed=91, scale=0.005)
    corruptor = Corruptor(seed=91, rate=0.4)
    transport = httpx.ASGITransport(app=Rewriter(emulator_app(account), corruptor))
    settings = sync_settings(database_url)
    rng = random.Random(91)
    caplog.set_level(logging.WARNING, logger="retailcrm.sync")

    outcomes: Counter[str] = Counter()
    cursors: dict[str, int] = {}
    for round_number in range(5):
        if round_number >= 2:
            account.random_activity(rng, 120)
        result = _cycle(store, settings, transport)
        outcomes["ok" if isinstance(result, CycleResult) else "api error"] += 1
        assert not store_self_differences(store)
        assert not _wrongly_removed(store, account), "an order that exists was marked deleted"
        now = _cursors(store)
        assert all(now.get(stream, 0) >= since for stream, since in cursors.items()), (cursors, now)
        cursors = now
    assert outcomes["ok"] >= 3, outcomes
    assert len(corruptor.done) >= 12, corruptor.done
    if corruptor.done["record not an object"] + corruptor.done["unusable id"] + corruptor.done["unusable createdAt"]:
        assert "skipped a record the API sent" in caplog.text
    scenario.fault(sum(corruptor.done.values()))

    corruptor.active = False
    for order in account.live_orders():
        account.edit_order(order["id"], "custom_adress_client", f"repaired {order['id']}")
    for customer in account.live_customers():
        account.edit_customer(customer["id"], "address.city", f"repaired {customer['id']}")
    assert isinstance(_cycle(store, settings, transport), CycleResult)
    scenario.verify(store, database_url, account)


def _one_cycle_after(account: Account, store: Engine, database_url: str, rewrite: Callable[[str, dict[str, Any]], bool],
                     change: Callable[[Account], object]) -> CycleResult | ApiError:
    """Sync cleanly, make `change`, then sync once more while `rewrite` may edit each answer's JSON."""
    armed = False

    def rewriter(path: str, query: str, body: bytes) -> bytes | None:
        document = json.loads(body)
        if armed and rewrite(unquote(path + "?" + query), document):
            return json.dumps(document, ensure_ascii=False).encode()
        return None

    transport = httpx.ASGITransport(app=Rewriter(emulator_app(account), rewriter))
    settings = sync_settings(database_url, SYNC_START_DATE=START.isoformat())
    assert isinstance(_cycle(store, settings, transport), CycleResult)
    change(account)
    armed = True
    return _cycle(store, settings, transport)


def _status_changed(account: Account) -> int:
    order_id = account.live_orders()[-3]["id"]
    account.change_status(order_id, "no-call")
    return order_id


@pytest.mark.parametrize("value", [None, "oops", 7])
def test_a_refetch_answer_without_its_list_is_retried_not_taken_as_deletions(
        database_url: str, store: Engine, value: Any) -> None:
    """Regression: `{"success": true, "orders": null}` for a re-fetch by ids once marked every order of
    the history page deleted, for good (deletion is final). The client now retries such a body."""
    scenario = Scenario("a re-fetch answer with a null or scalar list")
    account = generate(seed=92, scale=0.005)
    served: list[str] = []

    def null_list_once(url: str, document: dict[str, Any]) -> bool:
        if "filter[ids]" in url and not served:
            served.append(url)
            document["orders"] = value
            return True
        return False

    changed: list[int] = []
    result = _one_cycle_after(account, store, database_url, null_list_once, lambda a: changed.append(_status_changed(a)))
    assert isinstance(result, CycleResult) and served
    scenario.fault()
    with session_for(store) as session:
        order = session.get(Order, changed[0])
        assert order is not None and not order.is_deleted and order.status == "no-call"
    scenario.verify(store, database_url, account, since=START)


def test_a_refetched_order_without_a_usable_id_is_not_taken_as_deleted(database_url: str, store: Engine) -> None:
    account = generate(seed=93, scale=0.005)

    def garble_id(url: str, document: dict[str, Any]) -> bool:
        if "filter[ids]" in url and document.get("orders"):
            document["orders"][0]["id"] = None
            return True
        return False

    changed: list[int] = []
    _one_cycle_after(account, store, database_url, garble_id, lambda a: changed.append(_status_changed(a)))
    assert not _wrongly_removed(store, account)


def test_a_deletion_record_without_its_order_id_is_not_lost(database_url: str, store: Engine) -> None:
    account = generate(seed=94, scale=0.005)

    def drop_order_of_deletions(url: str, document: dict[str, Any]) -> bool:
        records = [r for r in document.get("history") or [] if r.get("deleted")] if "/history" in url else []
        for record in records:
            record["order"] = None
        return bool(records)

    deleted: list[int] = []

    def delete_one(a: Account) -> None:
        deleted.append(a.live_orders()[-4]["id"])
        a.delete_order(deleted[0])

    _one_cycle_after(account, store, database_url, drop_order_of_deletions, delete_one)
    with session_for(store) as session:
        order = session.get(Order, deleted[0])
    assert order is None or order.is_deleted, "the store still counts an order the account deleted"


def test_a_refetch_item_that_is_not_an_object_is_not_taken_as_deleted(database_url: str, store: Engine) -> None:
    account = generate(seed=95, scale=0.005)

    def null_items(url: str, document: dict[str, Any]) -> bool:
        if "filter[ids]" in url and document.get("orders"):
            document["orders"] = [None for _ in document["orders"]]
            return True
        return False

    _one_cycle_after(account, store, database_url, null_items, _status_changed)
    assert not _wrongly_removed(store, account)


def test_a_lost_deletion_is_repaired_even_when_a_lost_creation_balances_its_window(database_url: str,
                                                                                    store: Engine) -> None:
    account = generate(seed=96, scale=0.005)
    doomed = account.create_order(site="main-store")  # this month, like the order created below
    created: list[int] = []

    def lose_both(url: str, document: dict[str, Any]) -> bool:
        if "/orders/history" in url:
            records = [record for record in document.get("history") or [] if record.get("deleted")]
            for record in records:
                record["order"] = None
            return bool(records)
        if "filter[ids]" in url and created:
            items = document.get("orders") or []
            document["orders"] = [None if isinstance(item, dict) and item.get("id") in created else item
                                  for item in items]
            return bool(items)
        return False

    def change(a: Account) -> None:
        a.delete_order(doomed)
        created.append(a.create_order(site="main-store"))

    _one_cycle_after(account, store, database_url, lose_both, change)
    with session_for(store) as session:
        order = session.get(Order, doomed)
    assert order is None or order.is_deleted, "the store still counts an order the account deleted"
