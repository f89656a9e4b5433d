"""The generated dataset: exact November volumes, determinism, realism, self-consistency."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from emulator_helpers import END, final_state, replay
from retailcrm_emulator import Account, generate
from retailcrm_emulator.clock import parse
from retailcrm_emulator.dataset import expected_orders
from retailcrm_emulator.query import HistoryFilter


def _all_records(account: Account, start: str | None = None, end: str | None = None) -> list[dict]:
    """Every order history record (between start and end), walked with sinceId."""
    bounds = {"start": start and parse(start), "end": end and parse(end)}
    records: list[dict] = []
    while True:
        since = records[-1]["id"] if records else 0
        _, page = account.order_history_page(HistoryFilter(since_id=since, **bounds), 1, 100)
        if not page:
            return records
        records += page


def _in_month(orders: list[dict], prefix: str) -> int:
    return sum(1 for order in orders if order["createdAt"].startswith(prefix))


def test_november_volumes_are_exact_in_the_truth(full_account: Account, full_orders: list[dict]) -> None:
    orders = full_orders
    assert _in_month(orders, "2024-11") == 1163
    assert _in_month(orders, "2025-11") == 1447
    months = full_account.order_count_by_month()
    assert (months["2024-11"], months["2025-11"]) == (1163, 1447)
    assert 30_000 <= len(full_account.orders) <= 50_000


def test_november_volumes_do_not_depend_on_the_end_date() -> None:
    months = generate(42, end=date(2025, 12, 1)).order_count_by_month()
    assert (months["2024-11"], months["2025-11"]) == (1163, 1447)
    assert max(months) == "2025-11"


def test_month_boundaries_have_orders(full_orders: list[dict]) -> None:
    created = {order["createdAt"] for order in full_orders}
    for moment in ("2024-11-01 00:00:00", "2024-11-30 23:59:59", "2024-12-01 00:00:00",
                   "2025-11-30 23:59:59", "2025-12-01 00:00:00"):
        assert moment in created


def test_some_orders_were_moved_into_november_by_a_created_at_edit(full_account: Account) -> None:
    window = _all_records(full_account, "2024-11-01 00:00:00", "2025-01-31 23:59:59")
    records = [r for r in window if r.get("field") == "created_at"]
    moved_in = [r for r in records if r["newValue"].startswith("2024-11") and not r["oldValue"].startswith("2024-11")]
    assert moved_in, "expected created_at edits moving orders into November 2024"


def test_same_seed_same_payloads_and_other_seed_differs() -> None:
    first = generate(3, end=END, scale=0.02)
    second = generate(3, end=END, scale=0.02)
    other = generate(4, end=END, scale=0.02)
    assert json.dumps(first.live_orders()) == json.dumps(second.live_orders())
    assert json.dumps(first.live_customers()) == json.dumps(second.live_customers())
    assert first.order_history_page(HistoryFilter(), 1, 100) == second.order_history_page(HistoryFilter(), 1, 100)
    assert json.dumps(first.live_orders()) != json.dumps(other.live_orders())


def test_dirty_cities_missing_fields_and_empty_custom_fields(full_orders: list[dict]) -> None:
    orders = full_orders
    cities = Counter(o.get("delivery", {}).get("address", {}).get("city") for o in orders)
    assert {"Москва", " москва ", "МОСКВА"} <= set(cities)
    assert cities[None] > 0
    bare = next(o for o in orders if not o["customFields"])
    assert '"customFields": []' in json.dumps(bare)
    assert any("source" not in o for o in orders)
    sources = {o["source"]["source"] for o in orders if "source" in o}
    assert sources >= {"yandex", "google", "vk", "telegram", "direct", "email"}
    assert any(o["customFields"] and isinstance(o["customFields"].get("interests"), list) for o in orders)
    assert {o["site"] for o in orders} == {"main-store", "second-store"}
    numbers = Counter(o["number"] for o in orders)
    assert numbers.most_common(1)[0][1] > 1, "order numbers are not unique across sites"


def test_money_has_kopecks_and_personal_data_exists(full_orders: list[dict]) -> None:
    orders = full_orders[:500]
    assert any(isinstance(o["totalSumm"], float) and o["totalSumm"] % 1 for o in orders)
    assert all(o["phone"].startswith("+79") and "@" in o["email"] and o["firstName"] for o in orders)


def test_customers_register_before_their_orders(full_account: Account, full_orders: list[dict]) -> None:
    customers = {c["id"]: c for c in full_account.live_customers()}
    orders = full_orders
    assert all(customers[o["customer"]["id"]]["createdAt"] <= o["createdAt"] for o in orders)
    distinct = len({o["customer"]["id"] for o in orders})
    assert 0.6 <= distinct / len(orders) <= 0.8


def test_replaying_history_gives_the_final_state(small_account: Account) -> None:
    records = _all_records(small_account)
    assert [r["id"] for r in records] == list(range(1, len(records) + 1))
    assert any(r.get("deleted") for r in records) and any("combinedTo" in r for r in records)
    assert replay(records) == final_state(small_account.live_orders())


def test_scaled_generation_smoke() -> None:
    account = generate(42, end=END, scale=0.05)
    assert abs(len(account.orders) - expected_orders(END, 0.05)) < 50
    months = account.order_count_by_month()
    assert abs(months["2024-11"] - 58) <= 1
    sized = generate(42, end=END, orders=3000)
    assert abs(len(sized.orders) - 3000) < 60
