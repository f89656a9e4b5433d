"""Account mutations: every change shows in /orders and as the right history record."""

from __future__ import annotations

import random
import threading

import pytest

from emulator_helpers import ClientFactory, final_state, replay
from retailcrm_emulator import Account
from retailcrm_emulator.clock import parse
from retailcrm_emulator.history import LAG
from retailcrm_emulator.query import HistoryFilter


pytestmark = pytest.mark.anyio


def _records_of(account: Account, order_id: int) -> list[dict]:
    return account.order_history_page(HistoryFilter(entity=order_id), 1, 100)[1]


def _all_records(account: Account) -> list[dict]:
    records: list[dict] = []
    while True:
        _, page = account.order_history_page(HistoryFilter(since_id=records[-1]["id"] if records else 0), 1, 100)
        if not page:
            return records
        records += page


def _order(account: Account, order_id: int) -> dict | None:
    return next((o for o in account.live_orders() if o["id"] == order_id), None)


async def test_created_order_is_listed_and_has_a_full_creation_record(small_account: Account,
                                                                      client_for: ClientFactory) -> None:
    client = client_for(small_account)
    last_record = len(small_account.order_history)
    order_id = small_account.create_order(site="second-store", city="Казань", address="ул. Баумана, д. 5",
                                          manager_id=7, items=[(1, 2)], created_at="2025-11-15 10:00:00")
    listed = (await client.get("/api/v5/orders", params={"filter[ids][]": order_id})).json()["orders"]
    assert listed[0]["createdAt"] == "2025-11-15 10:00:00"
    assert listed[0]["delivery"]["address"] == {"city": "Казань", "text": "ул. Баумана, д. 5"}
    assert listed[0]["summ"] == 9181 and listed[0]["managerId"] == 7
    history = (await client.get("/api/v5/orders/history", params={"filter[sinceId]": last_record})).json()["history"]
    assert [r["order"]["id"] for r in history if r.get("created")] == [order_id]
    assert history[-1]["order"]["number"] == listed[0]["number"]
    assert small_account.order_count_by_month()["2025-11"] == sum(
        1 for o in small_account.live_orders() if o["createdAt"].startswith("2025-11"))


def test_status_change_updates_order_and_history(small_account: Account) -> None:
    order_id = small_account.create_order()
    small_account.change_status(order_id, "assembling")
    record = _records_of(small_account, order_id)[-1]
    assert record["field"] == "status"
    assert record["oldValue"] == {"code": "new"} and record["newValue"] == {"code": "assembling"}
    assert record["order"]["status"] == "assembling" and "number" not in record["order"]
    order = _order(small_account, order_id)
    assert order is not None and order["status"] == "assembling"
    assert 0 <= parse(order["statusUpdatedAt"]) - parse(record["createdAt"]) <= LAG
    records_before = len(small_account.order_history)
    small_account.change_status(order_id, "assembling")
    assert len(small_account.order_history) == records_before, "an unchanged value is not a change"


def test_created_at_edit_moves_an_order_between_months(small_account: Account) -> None:
    before = small_account.order_count_by_month()
    order_id = small_account.create_order(created_at="2024-12-01 00:00:05")
    small_account.edit_order(order_id, "created_at", "2024-11-30 23:59:59")
    after = small_account.order_count_by_month()
    assert after["2024-11"] == before["2024-11"] + 1 and after["2024-12"] == before["2024-12"]
    edit = _records_of(small_account, order_id)[-1]
    assert (edit["field"], edit["oldValue"], edit["newValue"]) == (
        "created_at", "2024-12-01 00:00:05", "2024-11-30 23:59:59")
    creation = _records_of(small_account, order_id)[0]
    assert creation["order"]["createdAt"] == "2024-12-01 00:00:05", "the creation record keeps the original"


def test_field_edits_write_snake_case_history(small_account: Account) -> None:
    order_id = small_account.create_order(city=" москва ")
    small_account.edit_order(order_id, "delivery_address.city", "Москва")
    small_account.edit_order(order_id, "manager", 12)
    small_account.edit_order(order_id, "site", "second-store")
    small_account.edit_order(order_id, "order_method", "phone")
    small_account.edit_order(order_id, "custom_adress_client", "пр-т Мира, д. 1")
    small_account.edit_order(order_id, "custom_registration_method", "social")
    small_account.edit_order(order_id, "custom_interests", ["sport", "books"])
    small_account.edit_order(order_id, "custom_gift_wrap", True)
    changes = {r["field"]: (r.get("oldValue"), r.get("newValue")) for r in _records_of(small_account, order_id)[1:]}
    assert changes == {
        "delivery_address.city": (" москва ", "Москва"),
        "manager": (None, {"id": 12}),
        "site": ({"code": "main-store"}, {"code": "second-store"}),
        "order_method": ({"code": "shopping-cart"}, {"code": "phone"}),
        "custom_adress_client": (None, "пр-т Мира, д. 1"),
        "custom_registration_method": (None, "social"),
        "custom_interests": (None, ["sport", "books"]),
        "custom_gift_wrap": (None, True),
    }
    order = _order(small_account, order_id)
    assert order is not None and order["site"] == "second-store" and order["orderMethod"] == "phone"
    assert order["customFields"] == {"adress_client": "пр-т Мира, д. 1", "registration_method": "social",
                                     "interests": ["sport", "books"], "gift_wrap": True}
    creation = _records_of(small_account, order_id)[0]["order"]
    assert creation["site"] == "main-store" and creation["customFields"] == []


def test_delete_and_merge_remove_orders_with_their_records(small_account: Account) -> None:
    doomed, source, target = (small_account.create_order() for _ in range(3))
    count = small_account.live_order_count
    small_account.delete_order(doomed)
    small_account.merge_orders(source, target)
    assert small_account.live_order_count == count - 2
    assert _order(small_account, doomed) is None and _order(small_account, source) is None
    assert _order(small_account, target) is not None
    assert _records_of(small_account, doomed)[-1]["deleted"] is True
    merged = _records_of(small_account, source)[-1]
    assert merged["source"] == "combine" and merged["combinedTo"]["id"] == target
    with pytest.raises(KeyError):
        small_account.change_status(doomed, "complete")


def test_customer_merge_moves_orders(small_account: Account) -> None:
    first, second = small_account.create_customer(), small_account.create_customer()
    order_id = small_account.create_order(customer_id=first)
    small_account.merge_customers(first, second)
    order = _order(small_account, order_id)
    assert order is not None and order["customer"]["id"] == second
    assert first not in {c["id"] for c in small_account.live_customers()}
    assert _records_of(small_account, order_id)[-1]["field"] == "customer"


def test_random_activity_keeps_history_and_state_consistent(small_account: Account) -> None:
    done = small_account.random_activity(random.Random(5), 400)
    assert {"create", "status", "created_at", "delete", "merge", "site"} <= set(done)
    assert replay(_all_records(small_account)) == final_state(small_account.live_orders())
    assert small_account.live_order_count == len(small_account.live_orders())


def test_mutations_from_threads_are_safe(small_account: Account) -> None:
    before = small_account.live_order_count
    threads = [threading.Thread(target=lambda: [small_account.create_order() for _ in range(50)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert small_account.live_order_count == before + 200
    ids = [r["id"] for r in _all_records(small_account)]
    assert ids == list(range(1, len(ids) + 1))
