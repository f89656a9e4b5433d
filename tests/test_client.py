"""The RetailCRM client: parameter encoding, pacing, retries and the shapes of failure.

Retry logic for faults the emulator cannot produce (connection errors, timeouts, odd JSON) runs
against `httpx.MockTransport`; everything else runs against the emulator in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest
import uvicorn

from core.config import Secret
from core.params import encode_params
from core.rate_limit import RateLimiter, backoff_delay, parse_retry_after
from core.retailcrm_client import ApiError, ApiUnavailable, AuthError, BadRequest, RetailCRMClient
from retailcrm_emulator import Account, generate
from retailcrm_emulator.app import create_app
from retailcrm_emulator.faults import Faults

KEY = "test-key-5f0c2b"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- parameters ---------------------------------------------------------------------------


def test_nested_filters_use_php_brackets() -> None:
    params = {
        "filter": {"ids": [1, 2], "customFields": {"city": "msk", "nps": {"min": 5}}, "sites": []},
        "limit": 100,
        "page": None,
    }
    assert encode_params(params) == [
        ("filter[ids][]", "1"),
        ("filter[ids][]", "2"),
        ("filter[customFields][city]", "msk"),
        ("filter[customFields][nps][min]", "5"),
        ("limit", "100"),
    ]


def test_scalars_are_encoded_as_retailcrm_expects() -> None:
    params = {
        "filter": {"active": True, "deleted": False, "skip": None, "statuses": {"b", "a"}},
        "createdAtFrom": datetime(2025, 11, 1, 0, 0, 0),
        "day": date(2025, 11, 30),
    }
    assert encode_params(params) == [
        ("filter[active]", "1"),
        ("filter[deleted]", "0"),
        ("filter[statuses][]", "a"),
        ("filter[statuses][]", "b"),
        ("createdAtFrom", "2025-11-01 00:00:00"),
        ("day", "2025-11-30"),
    ]


# --- pacing -------------------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when told; `sleep` records the wait and advances time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.anyio
async def test_concurrent_acquisitions_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    starts = [limiter.reserve() for _ in range(5)]
    assert starts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])

    clock.now = 0.0
    concurrent = RateLimiter(4, clock=clock, sleep=_no_wait)
    assert sorted(await asyncio.gather(*(concurrent.acquire() for _ in range(6)))) == pytest.approx(
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    )


async def _no_wait(seconds: float) -> None:
    return None


@pytest.mark.anyio
async def test_an_idle_limiter_does_not_save_up_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    assert [await limiter.acquire() for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    assert clock.sleeps == pytest.approx([0.1, 0.1])
    clock.now = 5.0
    assert [await limiter.acquire() for _ in range(2)] == pytest.approx([5.0, 5.1])


def test_burst_and_pause() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock)
    assert [limiter.reserve() for _ in range(5)] == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])

    paused = RateLimiter(10, clock=clock)
    paused.pause(2.0)
    assert [paused.reserve() for _ in range(2)] == pytest.approx([2.0, 2.1])


def test_backoff_grows_exponentially_up_to_the_cap_with_full_jitter() -> None:
    ceilings = [backoff_delay(n, base=0.1, cap=1.0, uniform=lambda low, high: high) for n in range(1, 7)]
    assert ceilings == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert backoff_delay(5, base=0.1, cap=1.0, uniform=lambda low, high: low) == 0.0


def test_retry_after_is_a_floor_bounded_by_the_cap() -> None:
    assert backoff_delay(1, base=0.001, cap=30.0, retry_after=2.0) == 2.0
    assert backoff_delay(1, base=0.001, cap=30.0, retry_after=3600.0) == 30.0
    assert backoff_delay(9, base=1.0, cap=5.0, retry_after=0.5, uniform=lambda low, high: high) == 5.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2.0", 2.0), ("0.5", 0.5), ("3", 3.0), (" 1 ", 1.0), ("-4", 0.0), ("", None), (None, None),
     ("soon", None), ("nan", None), ("inf", None),
     ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0), ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0)],
)
def test_retry_after_header_forms(header: str | None, seconds: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert parse_retry_after(header, now=now) == seconds


# --- faults that only a mock transport can shape ---------------------------------------------


def _orders_body(page: int = 1) -> dict[str, Any]:
    return {
        "success": True,
        "orders": [{"id": page}],
        "pagination": {"limit": 100, "totalCount": 1, "currentPage": page, "totalPageCount": 1},
    }


def _scripted(*steps: Any) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering with `steps` in turn (a Response, or an exception to raise)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        step = steps[min(len(seen), len(steps) - 1)]
        seen.append(request)
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.MockTransport(handle), seen


def _client(transport: httpx.AsyncBaseTransport, **options: Any) -> RetailCRMClient:
    options = {"rps": 1000, "backoff_base": 0.001, **options}
    return RetailCRMClient("http://crm.test", Secret(KEY), transport=transport, **options)


@pytest.mark.anyio
async def test_connection_errors_and_timeouts_are_retried() -> None:
    transport, seen = _scripted(
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.Response(200, json=_orders_body()),
    )
    async with _client(transport) as client:
        body = await client.orders_page(1)
    assert body["orders"] == [{"id": 1}]
    assert client.requests_made == len(seen) == 4


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"success": True, "pagination": {"totalPageCount": 1}}),
        httpx.Response(200, json={"success": True, "orders": []}),
        httpx.Response(200, json={"success": False, "errorMsg": "Internal error"}),
        httpx.Response(200, json=[]),
        httpx.Response(502, text="Bad gateway"),
    ],
    ids=["no-orders-key", "no-pagination", "success-false", "json-array", "http-502"],
)
@pytest.mark.anyio
async def test_unusable_answers_are_retried_then_reported(response: httpx.Response) -> None:
    transport, seen = _scripted(response)
    async with _client(transport, max_attempts=3) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await client.orders_page(1)
    assert len(seen) == client.requests_made == 3
    message = str(caught.value)
    assert "after 3 attempts" in message and "/api/v5/orders" in message
    assert "\n" not in message


@pytest.mark.anyio
async def test_the_key_is_sent_in_a_header_only_and_masked_if_echoed() -> None:
    echoed = {"success": False, "errorMsg": f"Wrong value {KEY}", "errors": {"limit": "bad"}}
    transport, seen = _scripted(httpx.Response(400, json=echoed))
    async with RetailCRMClient("http://crm.test/api/v5/", Secret(KEY), transport=transport) as client:
        with pytest.raises(BadRequest) as caught:
            await client.get("/api/v5/orders", {"limit": 7})
        assert KEY not in repr(client)
    assert seen[0].headers["X-API-KEY"] == KEY
    assert seen[0].url.path == "/api/v5/orders"
    assert KEY not in str(seen[0].url)
    assert KEY not in str(caught.value)
    assert "limit: bad" in str(caught.value)


@pytest.mark.anyio
async def test_other_client_errors_are_fatal_without_retry() -> None:
    transport, seen = _scripted(httpx.Response(404, json={"success": False, "errorMsg": "Not found"}))
    async with _client(transport) as client:
        with pytest.raises(ApiError, match="Not found") as caught:
            await client.get("/api/v5/nowhere")
    assert not isinstance(caught.value, ApiUnavailable)
    assert len(seen) == 1


@pytest.mark.anyio
async def test_reference_and_custom_fields_accept_arrays_and_maps() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        pagination = {"limit": 100, "totalCount": 3, "currentPage": page, "totalPageCount": 2}
        if request.url.path == "/api/v5/custom-fields":
            assert request.url.params["filter[entity]"] == "order"
            fields = {"city": {"code": "city"}, "nps": {"code": "nps"}} if page == 1 else [{"code": "gift"}]
            return httpx.Response(200, json={"success": True, "customFields": fields, "pagination": pagination})
        if request.url.path == "/api/v5/reference/order-types":
            return httpx.Response(200, json={"success": True, "orderTypes": []})
        return httpx.Response(200, json={"success": True, "statusGroups": [{"code": "new", "name": "New"}]})

    async with _client(httpx.MockTransport(handle)) as client:
        fields = await client.custom_fields("order")
        assert [field["code"] for field in fields] == ["city", "nps", "gift"]
        assert await client.reference("order-types") == {}
        assert await client.reference("status-groups") == {"new": {"code": "new", "name": "New"}}


# --- against the emulator ------------------------------------------------------------------

END = date(2026, 12, 3)


class Recording(httpx.AsyncBaseTransport):
    """Passes requests through to another transport and keeps them for inspection."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture(scope="module")
def account() -> Account:
    """About 500 orders: five pages of 100. Tests must not change it."""
    return generate(7, end=END, orders=500)


def _emulated(account: Account, *, key: str = KEY, faults: Faults | None = None,
              rate_limit_rps: float | None = None, **options: Any) -> tuple[RetailCRMClient, Recording, Any]:
    """A client talking to a fresh in-process emulator app; returns (client, transport, emulator state)."""
    app = create_app(account, api_key=KEY, rate_limit_rps=rate_limit_rps, faults=faults)
    transport = Recording(httpx.ASGITransport(app=app))
    options = {"rps": 1000, "backoff_base": 0.001, **options}
    client = RetailCRMClient("http://emulator", Secret(key), transport=transport, **options)
    return client, transport, app.state.emulator


@pytest.mark.anyio
async def test_the_key_goes_in_the_header_and_nowhere_else(account: Account) -> None:
    client, transport, _ = _emulated(account)
    async with client:
        body = await client.orders_page(1)
    assert len(body["orders"]) == 100
    assert body["pagination"]["totalCount"] == len(account.live_orders())
    (request,) = transport.requests
    assert request.headers["X-API-KEY"] == KEY
    assert KEY not in str(request.url)
    assert request.url.params["limit"] == "100"
    assert KEY not in repr(client) and KEY not in str(client.__dict__.get("_api_key"))


@pytest.mark.anyio
async def test_a_wrong_key_fails_at_once_after_one_request(account: Account) -> None:
    client, _, emulator = _emulated(account, key="not-the-key")
    async with client:
        with pytest.raises(AuthError) as caught:
            await client.orders_page(1)
    assert str(caught.value) == 'RetailCRM rejected the API key (HTTP 403: Wrong "apiKey" value.)'
    assert "not-the-key" not in str(caught.value)
    assert client.requests_made == emulator.stats.requests == 1


@pytest.mark.anyio
async def test_rate_limit_pages_are_retried_until_success(account: Account, caplog: pytest.LogCaptureFixture) -> None:
    client, _, emulator = _emulated(account, faults=Faults(script=["503", "503"]))
    async with client:
        body = await client.orders_page(2)
    assert body["pagination"]["currentPage"] == 2 and len(body["orders"]) == 100
    assert client.requests_made == emulator.stats.requests == 3
    retries = [record for record in caplog.records if record.name == "retailcrm.client"]
    assert [record.levelname for record in retries] == ["WARNING", "WARNING"]
    assert all("HTTP 503" in record.getMessage() and KEY not in record.getMessage() for record in retries)


@pytest.mark.anyio
async def test_retry_after_is_honoured(account: Account, caplog: pytest.LogCaptureFixture) -> None:
    client, _, emulator = _emulated(account, faults=Faults(script=["429", "429"], retry_after=["0.05", "0.1"]))
    async with client:
        await client.settings()
    delays = [record.retry_delay for record in caplog.records if record.name == "retailcrm.client"]
    assert delays == [0.05, 0.1]
    assert client.requests_made == emulator.stats.requests == 3


@pytest.mark.parametrize(
    ("fault", "described"),
    [("truncated", "not JSON"), ("empty", "empty body"), ("html", "HTML body")],
)
@pytest.mark.anyio
async def test_unusable_200_bodies_are_never_returned(account: Account, fault: str, described: str) -> None:
    client, _, emulator = _emulated(account, faults=Faults(script=[fault] * 10), max_attempts=4)
    async with client:
        with pytest.raises(ApiUnavailable) as caught:
            await client.orders_page(1)
    assert client.requests_made == emulator.stats.requests == 4
    assert described in str(caught.value) and "after 4 attempts" in str(caught.value)

    client, _, emulator = _emulated(account, faults=Faults(script=[fault] * 3), max_attempts=4)
    async with client:
        body = await client.orders_page(1)
    assert len(body["orders"]) == 100
    assert client.requests_made == emulator.stats.requests == 4


@pytest.mark.anyio
async def test_since_id_with_page_is_a_bad_request_and_history_never_sends_page(account: Account) -> None:
    client, transport, emulator = _emulated(account)
    async with client:
        with pytest.raises(BadRequest, match="page: Parameter page cannot be used together"):
            await client.get("/api/v5/orders/history", {"filter": {"sinceId": 1}, "page": 2})
        assert emulator.stats.requests == 1
        first = await client.history_page("orders", since_id=0, limit=20)
        after = await client.history_page("orders", since_id=first["history"][-1]["id"], limit=20)
    assert [record["id"] for record in first["history"]] == list(range(1, 21))
    assert [record["id"] for record in after["history"]] == list(range(21, 41))
    assert all("page" not in request.url.params for request in transport.requests[1:])
    assert transport.requests[-1].url.params["filter[sinceId]"] == "20"


@pytest.mark.anyio
async def test_pages_arrive_in_page_order_even_when_early_pages_are_retried(account: Account) -> None:
    client, _, emulator = _emulated(account, faults=Faults(script=["503", "ok", "500", "ok", "truncated"]))
    async with client:
        bodies = [body async for body in client.orders_pages(range(1, 7))]
    assert [body["pagination"]["currentPage"] for body in bodies] == [1, 2, 3, 4, 5, 6]
    ids = [order["id"] for body in bodies for order in body["orders"]]
    assert sorted(ids) == sorted(order["id"] for order in account.live_orders())
    assert bodies[-1]["orders"] == []
    assert client.requests_made == emulator.stats.requests == 6 + 3


@pytest.mark.anyio
async def test_orders_by_ids_asks_in_chunks_of_100_and_omits_missing_orders(account: Account) -> None:
    live = {order["id"] for order in account.live_orders()}
    wanted = list(range(1, max(live) + 40))
    client, transport, _ = _emulated(account)
    async with client:
        found = await client.orders_by_ids(wanted)
    assert {order["id"] for order in found} == live
    chunks = [request.url.params.get_list("filter[ids][]") for request in transport.requests]
    assert [len(chunk) for chunk in chunks] == [100] * (len(wanted) // 100) + [len(wanted) % 100]
    assert [int(i) for chunk in chunks for i in chunk] == wanted


@pytest.mark.anyio
async def test_customers_and_account_reference_data(account: Account) -> None:
    client, _, _ = _emulated(account)
    async with client:
        settings = await client.settings()
        statuses = await client.reference("statuses")
        groups = await client.reference("status-groups")
        fields = await client.custom_fields("order")
        dictionaries = await client.custom_dictionaries()
        customers = await client.customers_page(1, limit=20)
        some = await client.customers_by_ids([c["id"] for c in customers["customers"]])
        pages = [body async for body in client.customers_pages([2, 1], limit=20)]
    assert settings["timezone"]["value"] == account.timezone
    assert "new" in statuses and statuses["new"]["code"] == "new"
    assert {"new", "complete", "cancel"} <= set(groups)
    assert fields and all(isinstance(field["code"], str) for field in fields)
    assert dictionaries and all("elements" in dictionary for dictionary in dictionaries)
    assert sorted(c["id"] for c in some) == sorted(c["id"] for c in customers["customers"])
    assert [body["pagination"]["currentPage"] for body in pages] == [2, 1]


@pytest.mark.anyio
async def test_concurrent_requests_share_one_rate_limit(account: Account) -> None:
    client, _, emulator = _emulated(account, rate_limit_rps=100, rps=100, concurrency=48)
    async with client:
        bodies = [body async for body in client.orders_pages(range(1, 161), limit=20)]
    assert len(bodies) == 160
    assert emulator.stats.rate_limited == 0
    assert client.requests_made == 160


@pytest.mark.anyio
async def test_leaving_a_page_iterator_early_cancels_the_pages_ahead(account: Account) -> None:
    app = create_app(account, api_key=KEY, rate_limit_rps=None, latency=0.05)
    client = RetailCRMClient("http://emulator", Secret(KEY), transport=httpx.ASGITransport(app=app),
                             rps=1000, concurrency=5)
    tasks_before = asyncio.all_tasks()
    async with client:
        async with contextlib.aclosing(client.orders_pages(range(1, 100))) as pages:
            async for body in pages:
                assert body["pagination"]["currentPage"] == 1
                break
        assert client.requests_made <= 6
        assert asyncio.all_tasks() == tasks_before


@contextlib.asynccontextmanager
async def _served(app: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest.mark.anyio
async def test_over_a_real_socket_timeouts_are_retried(account: Account) -> None:
    faults = Faults(script=["slow", "slow"], slow_seconds=0.3)
    app = create_app(account, api_key=KEY, rate_limit_rps=10, faults=faults)
    async with _served(app) as url:
        async with RetailCRMClient(url, Secret(KEY), timeout=0.1, backoff_base=0.001) as client:
            body = await client.orders_page(1)
    assert len(body["orders"]) == 100
    assert client.requests_made == app.state.emulator.stats.requests == 3
