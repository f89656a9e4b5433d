"""One history page full of tangled changes, served out of order: the store still ends equal to the truth.

Between two cycles one order is created, edited several times, moved to another month and to the other
site; another is created and deleted; an old one is moved to another month, edited and merged into a
fourth; another is edited and then deleted; two customers are merged (their orders change hands), and a
burst of random activity fills the page. All of it fits in one history page (100 records), which the
emulator serves (through an ASGI wrapper) in reverse id order with `createdAt` running backwards to
the ids, so neither the order of records nor their times can be trusted. Both databases, in-process.
"""

from __future__ import annotations

import json
import random

import httpx
from sqlalchemy import Engine

from core.sync import run_cycle
from retailcrm_emulator import generate
from tests.resilience.harness import Rewriter, emulator_app
from tests.support.emulator import sync_settings
from tests.support.resilience import Scenario

PAGE = 100


class Scrambler:
    """Rewrites history pages: records in reverse id order, `createdAt` descending as ids ascend."""

    def __init__(self) -> None:
        self.scrambled = 0

    def __call__(self, path: str, query: str, body: bytes) -> bytes | None:
        if not path.endswith("/history"):
            return None
        document = json.loads(body)
        records = document.get("history") or []
        if len(records) < 2:
            return None
        times = sorted((record["createdAt"] for record in records), reverse=True)
        records.sort(key=lambda record: record["id"], reverse=True)
        for record, shown in zip(reversed(records), times):
            record["createdAt"] = shown
        self.scrambled += 1
        return json.dumps(document, ensure_ascii=False).encode()


def _tangle(account, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """The changes of the scenario, in the order they are made."""
    live = [order["id"] for order in account.live_orders()]
    old, target, doomed = live[5], live[-5], live[len(live) // 2]
    new = account.create_order(site="main-store", city="Казань", items=[(1, 2)])
    for status in ("client-confirmed", "assembling", "complete"):
        account.change_status(new, status)
    account.edit_order(new, "created_at", "2025-03-15 10:00:00")
    account.edit_order(new, "site", "second-store")
    account.edit_order(new, "delivery_address.city", "Москва")
    short_lived = account.create_order(site="second-store")
    account.delete_order(short_lived)
    account.edit_order(old, "created_at", "2025-07-01 00:00:00")
    account.change_status(old, "cancel-other")
    account.merge_orders(old, target)
    account.edit_order(doomed, "custom_gift_wrap", True)
    account.delete_order(doomed)
    customers = [customer["id"] for customer in account.live_customers()]
    account.merge_customers(customers[3], customers[-3])
    account.random_activity(rng, 40)


def test_a_tangled_page_served_out_of_order(database_url: str, store: Engine) -> None:
    scenario = Scenario("tangled history page served out of order")
    account = generate(seed=71, scale=0.01)
    scrambler = Scrambler()
    transport = httpx.ASGITransport(app=Rewriter(emulator_app(account), scrambler))
    settings = sync_settings(database_url)
    assert run_cycle(settings, transport=transport, engine=store).status == "ok"

    before = len(account.order_history)
    _tangle(account, random.Random(71))
    assert len(account.order_history) - before <= PAGE, "the changes must fit in one history page"
    scrambled_before = scrambler.scrambled
    result = run_cycle(settings, transport=transport, engine=store)

    assert result.kind == "incremental" and result.history_records >= len(account.order_history) - before
    assert scrambler.scrambled > scrambled_before
    scenario.fault(scrambler.scrambled)
    scenario.verify(store, database_url, account, months=["2025-03", "2025-07"])
