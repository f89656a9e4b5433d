"""The ASGI application: RetailCRM API v5 endpoints plus the `/_emulator/` control API.

Every request goes through the same gate, in this order: count it, simulated network latency
(asynchronous), rate limit (503 with an nginx HTML page), API key (403), injected fault, handler.
Control endpoints need the key but skip the rate limit and faults.

/orders and /customers are sorted by id descending. That is this emulator's choice (the real
default is undocumented): clients must not depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import reference
from .account import Account
from .clock import fmt
from .faults import Faults
from .query import BadRequest, CustomerFilter, HistoryFilter, OrderFilter, pagination, parse_php_query
from .ratelimit import RateLimiter

NGINX_503 = ("<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
             "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
             "</body>\r\n</html>\r\n")
NGINX_429 = ("<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
             "<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
MAINTENANCE_HTML = ("<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>Технические работы"
                    "</title></head><body><h1>Ведутся технические работы</h1><p>Попробуйте позже.</p></body></html>")

Handler = Callable[[Account, dict[str, Any]], dict[str, Any]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class Stats:
    """Requests served, by path, and how many were rate limited."""

    requests: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0

    def to_json(self, faults: Faults) -> dict[str, Any]:
        return {"requests": self.requests, "byEndpoint": dict(self.by_endpoint),
                "rateLimited": self.rate_limited, "faultsInjected": dict(faults.injected)}


@dataclass
class Emulator:
    """Everything a request needs; `faults` may be replaced at runtime."""

    account: Account
    api_key: str
    limiter: RateLimiter | None
    latency: float
    faults: Faults
    stats: Stats = field(default_factory=Stats)


def _error(status: int, message: str, errors: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"success": False, "errorMsg": message}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def _paginated(total: int, page: int, limit: int) -> dict[str, int]:
    return {"limit": limit, "totalCount": total, "currentPage": page, "totalPageCount": math.ceil(total / limit)}


def _list_page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], dict[str, int]]:
    limit, page = pagination(params)
    return items[(page - 1) * limit:page * limit], _paginated(len(items), page, limit)


# ----- RetailCRM endpoints (each returns the payload without "success") -----------------------------

def _orders(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    limit, page = pagination(params)
    total, orders = account.orders_page(OrderFilter.from_params(params), page, limit)
    return {"pagination": _paginated(total, page, limit), "orders": orders}


def _orders_history(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    flt = HistoryFilter.from_params(params, "orderId")
    limit, page = pagination(params)
    total, records = account.order_history_page(flt, page, limit)
    return {"generatedAt": fmt(account.now()), "history": records, "pagination": _paginated(total, page, limit)}


def _customers(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    limit, page = pagination(params)
    total, customers = account.customers_page(CustomerFilter.from_params(params), page, limit)
    return {"pagination": _paginated(total, page, limit), "customers": customers}


def _customers_history(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    flt = HistoryFilter.from_params(params, "customerId")
    limit, page = pagination(params)
    total, records = account.customer_history_page(flt, page, limit)
    return {"generatedAt": fmt(account.now()), "history": records, "pagination": _paginated(total, page, limit)}


def _custom_fields(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    filters = params.get("filter") if isinstance(params.get("filter"), dict) else {}
    items, page = _list_page(reference.custom_fields(filters.get("entity")), params)
    return {"pagination": page, "customFields": items}


def _dictionaries(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    items, page = _list_page(reference.dictionaries(), params)
    return {"pagination": page, "customDictionaries": items}


def _users(account: Account, params: dict[str, Any]) -> dict[str, Any]:
    items, page = _list_page(reference.users(), params)
    return {"pagination": page, "users": items}


def _static(key: str, build: Callable[[], Any]) -> Handler:
    return lambda account, params: {key: build()}


API_ROUTES: dict[str, Handler] = {
    "/api/api-versions": lambda account, params: {"versions": reference.API_VERSIONS},
    "/api/credentials": lambda account, params: reference.credentials(),
    "/api/v5/settings": _static("settings", reference.settings),
    "/api/v5/reference/statuses": _static("statuses", reference.statuses),
    "/api/v5/reference/status-groups": _static("statusGroups", reference.status_groups),
    "/api/v5/reference/order-types": _static("orderTypes", reference.order_types),
    "/api/v5/reference/order-methods": _static("orderMethods", reference.order_methods),
    "/api/v5/reference/sites": _static("sites", reference.sites),
    "/api/v5/reference/delivery-types": _static("deliveryTypes", reference.delivery_types),
    "/api/v5/reference/payment-types": _static("paymentTypes", reference.payment_types),
    "/api/v5/reference/payment-statuses": _static("paymentStatuses", reference.payment_statuses),
    "/api/v5/users": _users,
    "/api/v5/custom-fields": _custom_fields,
    "/api/v5/custom-fields/dictionaries": _dictionaries,
    "/api/v5/orders": _orders,
    "/api/v5/orders/history": _orders_history,
    "/api/v5/customers": _customers,
    "/api/v5/customers/history": _customers_history,
}


# ----- the gate ------------------------------------------------------------------------------------

def _fault_response(kind: str, emulator: Emulator) -> Response | None:
    """The response that replaces the real one, or None when the fault wraps the real response."""
    if kind == "503":
        return HTMLResponse(NGINX_503, status_code=503)
    if kind == "429":
        return HTMLResponse(NGINX_429, status_code=429, headers={"Retry-After": emulator.faults.next_retry_after()})
    if kind == "500":
        return _error(500, "Internal Server Error")
    if kind == "empty":
        return Response(b"", status_code=200, media_type="application/json")
    if kind == "html":
        return HTMLResponse(MAINTENANCE_HTML, status_code=200)
    return None


def _key_problem(request: Request, api_key: str) -> JSONResponse | None:
    given = request.headers.get("x-api-key")
    if given is None:
        given = request.query_params.get("apiKey")
    if given is None:
        return _error(403, '"apiKey" is missing.')
    if given != api_key:
        return _error(403, 'Wrong "apiKey" value.')
    return None


def _api_endpoint(handler: Handler) -> Endpoint:
    """A RetailCRM endpoint behind the gate (latency, rate limit, key, faults)."""

    async def endpoint(request: Request) -> Response:
        emulator: Emulator = request.app.state.emulator
        path = request.url.path
        emulator.stats.requests += 1
        emulator.stats.by_endpoint[path] += 1
        if emulator.latency:
            await asyncio.sleep(emulator.latency)
        client = request.client.host if request.client else "unknown"
        if emulator.limiter is not None and not emulator.limiter.allow(client):
            emulator.stats.rate_limited += 1
            return HTMLResponse(NGINX_503, status_code=503)
        problem = _key_problem(request, emulator.api_key)
        if problem is not None:
            return problem
        fault = emulator.faults.next_fault(path)
        if fault:
            replaced = _fault_response(fault, emulator)
            if replaced is not None:
                return replaced
            if fault == "slow":
                await asyncio.sleep(emulator.faults.slow_seconds)
        try:
            payload = handler(emulator.account, parse_php_query(request.url.query))
        except BadRequest as exc:
            return _error(400, exc.message, exc.errors)
        response = JSONResponse({"success": True, **payload})
        if fault == "truncated":
            return Response(response.body[:len(response.body) // 2], status_code=200, media_type="application/json")
        return response

    return endpoint


# ----- control API (not part of RetailCRM) ----------------------------------------------------------

def _control(action: Callable[[Emulator, Request, Any], Any], *, has_body: bool = False) -> Endpoint:
    """A control endpoint: key check, optional JSON body, 400 on bad input."""

    async def endpoint(request: Request) -> Response:
        emulator: Emulator = request.app.state.emulator
        problem = _key_problem(request, emulator.api_key)
        if problem is not None:
            return problem
        body: Any = None
        if has_body:
            try:
                body = json.loads(await request.body() or b"{}")
            except json.JSONDecodeError:
                return _error(400, "Body must be JSON")
        try:
            return JSONResponse({"success": True, **action(emulator, request, body)})
        except (TypeError, ValueError, KeyError) as exc:
            return _error(400, str(exc))

    return endpoint


def _set_faults(emulator: Emulator, request: Request, body: Any) -> dict[str, Any]:
    if request.method == "POST":
        emulator.faults = Faults.from_json(body or {})
    return {"faults": emulator.faults.to_json()}


def _activity(emulator: Emulator, request: Request, body: Any) -> dict[str, Any]:
    done = emulator.account.random_activity(random.Random(int(body.get("seed", 0))), int(body.get("n", 100)))
    return {"done": done, "truth": emulator.account.truth()}


CONTROL_ROUTES = [
    Route("/_emulator/faults", _control(_set_faults, has_body=True), methods=["GET", "POST"]),
    Route("/_emulator/activity", _control(_activity, has_body=True), methods=["POST"]),
    Route("/_emulator/truth", _control(lambda e, r, b: {"truth": e.account.truth()}), methods=["GET"]),
    Route("/_emulator/stats", _control(lambda e, r, b: {"stats": e.stats.to_json(e.faults)}), methods=["GET"]),
]


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(404, "Not found")


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    return _error(405, "Method not allowed")


async def _live(account: Account, interval: float, seed: int) -> None:
    """Live mode: every `interval` seconds, a few new orders and status changes."""
    rng = random.Random(seed)
    while True:
        await asyncio.sleep(interval)
        account.live_tick(rng)


def create_app(account: Account, *, api_key: str = "demo-key", rate_limit_rps: float | None = 10,
               latency: float = 0.0, faults: Faults | None = None, live_interval: float | None = None,
               live_seed: int = 0) -> Starlette:
    """The emulator as an ASGI app. `rate_limit_rps=None` disables the rate limit; `live_interval`
    (seconds) turns on live mode."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_live(account, live_interval, live_seed)) if live_interval else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    routes = [Route(path, _api_endpoint(handler), methods=["GET"]) for path, handler in API_ROUTES.items()]
    app = Starlette(routes=routes + CONTROL_ROUTES, lifespan=lifespan,
                    exception_handlers={404: _not_found, 405: _method_not_allowed})
    app.state.emulator = Emulator(
        account=account, api_key=api_key,
        limiter=RateLimiter(rate_limit_rps) if rate_limit_rps else None,
        latency=latency, faults=faults or Faults())
    return app
