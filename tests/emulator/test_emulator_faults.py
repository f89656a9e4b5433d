"""Rate limit, latency, injected faults and the /_emulator control API."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from emulator_helpers import ClientFactory
from retailcrm_emulator import Account
from retailcrm_emulator.faults import Faults
from retailcrm_emulator.ratelimit import RateLimiter


pytestmark = pytest.mark.anyio


async def test_rate_limit_answers_503_with_an_html_page(small_account: Account, client_for: ClientFactory) -> None:
    client = client_for(small_account, rate_limit_rps=10)
    responses = await asyncio.gather(*(client.get("/api/v5/settings") for _ in range(30)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) >= 10 and statuses.count(503) >= 10
    limited = next(r for r in responses if r.status_code == 503)
    assert limited.headers["content-type"].startswith("text/html") and "nginx" in limited.text
    stats = (await client.get("/_emulator/stats")).json()["stats"]
    assert stats["rateLimited"] == statuses.count(503)
    assert stats["byEndpoint"]["/api/v5/settings"] == 30


def test_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(10, clock=lambda: now[0])
    assert sum(limiter.allow("ip") for _ in range(15)) == 10
    assert limiter.allow("other-ip")
    now[0] += 0.5
    assert sum(limiter.allow("ip") for _ in range(15)) == 5


async def test_latency_is_concurrent(small_account: Account, client_for: ClientFactory) -> None:
    client = client_for(small_account, latency=0.5)
    started = time.monotonic()
    responses = await asyncio.gather(*(client.get("/api/v5/reference/sites") for _ in range(40)))
    elapsed = time.monotonic() - started
    assert all(r.status_code == 200 for r in responses)
    assert 0.5 <= elapsed < 2.5, "40 requests with 0.5 s latency must overlap"


async def test_scripted_faults_in_order(small_account: Account, client_for: ClientFactory) -> None:
    faults = Faults(script=["503", "429", "500", "empty", "truncated", "html", "ok"], retry_after=["0.5"])
    client = client_for(small_account, faults=faults)
    got = [await client.get("/api/v5/orders") for _ in range(8)]
    assert [r.status_code for r in got] == [503, 429, 500, 200, 200, 200, 200, 200]
    assert "Service Temporarily Unavailable" in got[0].text
    assert got[1].headers["retry-after"] == "0.5"
    assert got[2].json()["success"] is False
    assert got[3].content == b""
    with pytest.raises(json.JSONDecodeError):
        json.loads(got[4].content)
    assert got[5].headers["content-type"].startswith("text/html")
    assert got[6].json()["success"] is True and got[7].json()["success"] is True
    assert faults.injected == {"503": 1, "429": 1, "500": 1, "empty": 1, "truncated": 1, "html": 1}


async def test_slow_fault_delays_the_real_answer(small_account: Account, client_for: ClientFactory) -> None:
    client = client_for(small_account, faults=Faults(script=["slow"], slow_seconds=0.3))
    started = time.monotonic()
    response = await client.get("/api/v5/settings")
    assert response.status_code == 200 and time.monotonic() - started >= 0.3


async def test_random_faults_are_deterministic_for_a_seed(small_account: Account, client_for: ClientFactory) -> None:
    async def codes(seed: int) -> list[int]:
        client = client_for(small_account, faults=Faults(p503=0.3, p500=0.2, seed=seed))
        return [(await client.get("/api/v5/reference/sites")).status_code for _ in range(40)]

    first = await codes(1)
    assert first == await codes(1)
    assert {200, 500, 503} <= set(first)


async def test_control_api_sets_faults_and_runs_activity(small_account: Account, client_for: ClientFactory) -> None:
    client = client_for(small_account)
    truth = (await client.get("/_emulator/truth")).json()["truth"]
    assert truth["liveOrders"] == len(small_account.live_orders())
    assert truth["maxOrderHistoryId"] == len(small_account.order_history)
    body = (await client.post("/_emulator/activity", json={"n": 50, "seed": 3})).json()
    assert sum(body["done"].values()) == 50
    assert body["truth"]["maxOrderHistoryId"] > truth["maxOrderHistoryId"]
    assert (await client.post("/_emulator/faults", json={"script": ["500"]})).status_code == 200
    assert (await client.get("/_emulator/truth")).status_code == 200, "control calls are never faulted"
    assert (await client.get("/api/v5/orders")).status_code == 500
    assert (await client.get("/api/v5/orders")).status_code == 200
    assert (await client.post("/_emulator/faults", json={"p_bogus": 1})).status_code == 400
    faults = (await client.get("/_emulator/faults")).json()["faults"]
    assert faults["injected"] == {"500": 1}
