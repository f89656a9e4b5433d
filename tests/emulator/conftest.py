"""Fixtures for the emulator tests: generated accounts (fixed end date) and in-process clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from emulator_helpers import END, KEY, ClientFactory

from retailcrm_emulator import Account, generate
from retailcrm_emulator.app import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def full_account() -> Account:
    """The default dataset (seed 42, scale 1.0). Read-only: tests must not mutate it."""
    return generate(42, end=END)


@pytest.fixture(scope="session")
def full_orders(full_account: Account) -> list[dict]:
    """`full_account.live_orders()`, rendered once."""
    return full_account.live_orders()


@pytest.fixture
def small_account() -> Account:
    """A fresh 5% dataset that a test may mutate."""
    return generate(7, end=END, scale=0.05)


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFactory]:
    """Make in-process clients: client_for(account, **create_app options)."""
    clients: list[httpx.AsyncClient] = []

    def make(account: Account, *, headers: dict[str, str] | None = None, **options: object) -> httpx.AsyncClient:
        options.setdefault("api_key", KEY)
        options.setdefault("rate_limit_rps", None)
        app = create_app(account, **options)  # type: ignore[arg-type]
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator",
                                   headers={"X-API-KEY": KEY} if headers is None else headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
