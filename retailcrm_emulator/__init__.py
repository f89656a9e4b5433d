"""A deterministic, in-memory emulator of the RetailCRM API v5 (the subset the product uses).

    account = generate(seed=42, scale=1.0)          # orders, customers and both histories
    app = create_app(account, api_key="demo-key")   # ASGI: httpx.ASGITransport(app=app) or uvicorn
    account.change_status(order_id, "complete")     # mutations append history records
    account.live_orders()                           # the truth a perfect sync must store

Modules: `catalog` (reference data), `dataset` (generator), `account` (state and mutations),
`rows` and `history` (compact storage), `render` (API payloads), `query` (PHP-style parameters and
filters), `app` (HTTP), `faults`, `ratelimit`, `reference` (settings and reference payloads).
"""

from .account import Account
from .app import create_app
from .dataset import generate
from .faults import Faults

__all__ = ["Account", "Faults", "create_app", "generate"]
