"""An async RetailCRM API v5 client that is safe to sync from.

One shared rate limiter paces every request of a client, a semaphore bounds those in flight, and
failures are sorted into fatal (`AuthError`, `BadRequest`, other `ApiError`) and transient ones
(503/429/5xx, timeouts, connection errors, unusable 200 bodies), which are retried with jittered
exponential backoff until `ApiUnavailable`; a 429 or 503 also pauses the shared limiter for the
retry delay, so every task backs off together. A page is returned only when its body is a complete
JSON object with `success: true` and the keys the caller needs, so a rate-limit page or a truncated
body is never mistaken for an empty result. The API key travels only in the `X-API-KEY` header and
never appears in `repr`, logs or exception messages.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

import httpx

from core.config import Secret
from core.params import encode_params
from core.rate_limit import RateLimiter, backoff_delay, parse_retry_after

logger = logging.getLogger("retailcrm.client")

IDS_PER_REQUEST = 100
_MESSAGE_LIMIT = 300
_REFERENCE_KEYS = {
    "statuses": "statuses",
    "status-groups": "statusGroups",
    "order-types": "orderTypes",
    "order-methods": "orderMethods",
    "sites": "sites",
}

T = TypeVar("T")
R = TypeVar("R")


class ApiError(RuntimeError):
    """A RetailCRM API call failed; the message is one line and never contains the key."""


class AuthError(ApiError):
    """The server rejected the API key (HTTP 401/403). Fatal: never retried."""


class BadRequest(ApiError):
    """The server rejected the parameters (HTTP 400). Not retried."""


class ApiUnavailable(ApiError):
    """Transient failures persisted through every allowed attempt."""


class _Transient(Exception):
    """One attempt failed in a way worth retrying; `reason` is a one-line description."""

    def __init__(self, reason: str, retry_after: float | None = None, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class RetailCRMClient:
    """Async client for the RetailCRM API v5 read methods the sync needs.

    Use as `async with RetailCRMClient(url, key) as client: ...`. `transport` lets tests and
    benchmarks run against the emulator in-process (`httpx.ASGITransport`) or over a socket.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        rps: float = 10,
        concurrency: int = 48,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_attempts: int = 8,
        backoff_base: float = 0.1,
        backoff_cap: float = 30.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts!r}")
        self.base_url = base_url.rstrip("/").removesuffix("/api/v5").removesuffix("/api")
        self._api_key = api_key
        self.rps = rps
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.requests_made = 0
        self.limiter = RateLimiter(rps)
        self._in_flight = asyncio.Semaphore(concurrency)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"RetailCRMClient(base_url={self.base_url!r}, rps={self.rps}, concurrency={self.concurrency})"

    async def __aenter__(self) -> RetailCRMClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connections."""
        await self._http.aclose()

    # --- the one request path -------------------------------------------------------------

    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, required: Sequence[str] = ()
    ) -> dict[str, Any]:
        """GET `path` (e.g. "/api/v5/orders") and return the JSON body with `success: true`.

        `required` names top-level keys the body must have, each holding an object or an array; a body
        without them is retried like any other unusable response. Raises `AuthError`, `BadRequest`,
        `ApiUnavailable` or `ApiError`.
        """
        path = "/" + path.lstrip("/")
        query = encode_params(params or {})
        where = _describe(path, query)
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await self._attempt(path, query, where, required)
            except _Transient as failure:
                reason = failure.reason
                if attempt == self.max_attempts:
                    break
                delay = backoff_delay(
                    attempt, base=self.backoff_base, cap=self.backoff_cap, retry_after=failure.retry_after
                )
                if failure.rate_limited:
                    self.limiter.pause(delay)
                logger.warning(
                    "%s attempt %d/%d failed (%s); retrying in %.3f s",
                    where, attempt, self.max_attempts, reason, delay,
                    extra={"retry_delay": delay, "attempt": attempt, "reason": reason},
                )
                await asyncio.sleep(delay)
        raise ApiUnavailable(self._clean(f"{where} failed after {self.max_attempts} attempts: {reason}"))

    async def _attempt(
        self, path: str, query: list[tuple[str, str]], where: str, required: Sequence[str]
    ) -> dict[str, Any]:
        async with self._in_flight:
            await self.limiter.acquire()
            self.requests_made += 1
            began = time.perf_counter()
            try:
                response = await self._http.get(
                    path, params=query, headers={"X-API-KEY": self._api_key.reveal()}
                )
            except httpx.UnsupportedProtocol as exc:
                raise ApiError(self._clean(f"{where}: {exc}")) from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                raise _Transient(_transport_reason(exc)) from None
        logger.debug("%s -> HTTP %d in %.3f s", where, response.status_code, time.perf_counter() - began)
        return self._judge(response, where, required)

    def _judge(self, response: httpx.Response, where: str, required: Sequence[str]) -> dict[str, Any]:
        status = response.status_code
        body = _json_object(response)
        server_says = self._clean(_error_summary(body)) if body is not None else ""
        detail = f"HTTP {status}: {server_says}" if server_says else f"HTTP {status}"
        if status in (401, 403):
            raise AuthError(self._clean(f"RetailCRM rejected the API key ({detail})"))
        if status == 400:
            raise BadRequest(self._clean(f"RetailCRM rejected the request {where} ({detail})"))
        if status == 429 or status == 503:
            raise _Transient(detail, parse_retry_after(response.headers.get("Retry-After")), rate_limited=True)
        if status == 408 or status >= 500:
            raise _Transient(detail, parse_retry_after(response.headers.get("Retry-After")))
        if not 200 <= status < 300:
            raise ApiError(self._clean(f"{where} failed ({detail})"))
        if body is None:
            raise _Transient(f"HTTP {status} with {_body_kind(response)}")
        if body.get("success") is not True:
            raise _Transient(f"HTTP {status} without success: true" + (f" ({server_says})" if server_says else ""))
        missing = [key for key in required if not isinstance(body.get(key), (dict, list))]
        if missing:  # absent, null or a scalar: an `"orders": null` must not read as "no orders"
            raise _Transient(f"HTTP {status} body lacks {', '.join(missing)} (as an object or array)")
        return body

    def _clean(self, text: str) -> str:
        """One line, bounded, with the key masked should a server ever echo it back."""
        key = self._api_key.reveal()
        if key:
            text = text.replace(key, "********")
        line = " ".join(text.split())
        return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 1] + "…"

    # --- lists --------------------------------------------------------------------------

    async def orders_page(
        self, page: int, *, filters: Mapping[str, Any] | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """One page of `/api/v5/orders` (the whole response: `orders` and `pagination`)."""
        return await self._list_page("orders", page, filters, limit)

    def orders_pages(
        self, pages: Iterable[int], *, filters: Mapping[str, Any] | None = None, limit: int = 100
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Fetch `pages` of `/api/v5/orders` concurrently; yield the responses in page order."""
        return self._in_order(lambda page: self._list_page("orders", page, filters, limit), pages)

    async def orders_by_ids(self, ids: Sequence[int]) -> list[Any]:
        """The orders among `ids` that still exist (a missing id was deleted).

        Items that are not objects are returned as they came, so the caller can tell a broken
        answer from deletions instead of losing them here.
        """
        return await self._by_ids("orders", ids)

    async def customers_page(
        self, page: int, *, filters: Mapping[str, Any] | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """One page of `/api/v5/customers` (the whole response: `customers` and `pagination`)."""
        return await self._list_page("customers", page, filters, limit)

    def customers_pages(
        self, pages: Iterable[int], *, filters: Mapping[str, Any] | None = None, limit: int = 100
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Fetch `pages` of `/api/v5/customers` concurrently; yield the responses in page order."""
        return self._in_order(lambda page: self._list_page("customers", page, filters, limit), pages)

    async def customers_by_ids(self, ids: Sequence[int]) -> list[Any]:
        """The customers among `ids` that still exist (a missing id was deleted or merged); as `orders_by_ids`."""
        return await self._by_ids("customers", ids)

    async def history_page(
        self,
        stream: Literal["orders", "customers"],
        *,
        since_id: int | None = None,
        start_date: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        """One page of `/api/v5/{stream}/history` after record `since_id` (never with `page`).

        `start_date` ("Y-m-d H:i:s", account-local) finds records from that moment on, which is how
        to locate the end of history without a cursor.
        """
        if stream not in ("orders", "customers"):
            raise ValueError(f"stream must be 'orders' or 'customers', got {stream!r}")
        filters = {"sinceId": since_id, "startDate": start_date}
        return await self.get(
            f"/api/v5/{stream}/history",
            {"filter": filters, "limit": limit},
            required=("history", "pagination"),
        )

    async def _list_page(
        self, entity: str, page: int, filters: Mapping[str, Any] | None, limit: int
    ) -> dict[str, Any]:
        params = {"filter": filters, "limit": limit, "page": page}
        return await self.get(f"/api/v5/{entity}", params, required=(entity, "pagination"))

    async def _by_ids(self, entity: str, ids: Sequence[int]) -> list[Any]:
        unique = list(dict.fromkeys(int(i) for i in ids))
        chunks = [unique[i : i + IDS_PER_REQUEST] for i in range(0, len(unique), IDS_PER_REQUEST)]

        async def fetch(chunk: list[int]) -> dict[str, Any]:
            params = {"filter": {"ids": chunk}, "limit": IDS_PER_REQUEST, "page": 1}
            return await self.get(f"/api/v5/{entity}", params, required=(entity,))

        found: list[Any] = []
        async for body in self._in_order(fetch, chunks):
            found.extend(_as_list(body[entity], keep_non_objects=True))
        return found

    async def _in_order(self, fetch: Callable[[T], Awaitable[R]], items: Iterable[T]) -> AsyncGenerator[R, None]:
        """Run `fetch` over `items` with up to `concurrency` calls ahead; yield results in order."""
        iterator = iter(items)
        pending: deque[asyncio.Task[R]] = deque(
            asyncio.ensure_future(fetch(item)) for item in itertools.islice(iterator, self.concurrency)
        )
        try:
            while pending:
                result = await pending.popleft()
                for item in itertools.islice(iterator, 1):
                    pending.append(asyncio.ensure_future(fetch(item)))
                yield result
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # --- account settings and reference data ----------------------------------------------

    async def settings(self) -> dict[str, Any]:
        """The `settings` object of `/api/v5/settings` (time zone, default currency, ...)."""
        body = await self.get("/api/v5/settings", required=("settings",))
        return _as_mapping(body["settings"])

    async def reference(self, kind: str) -> dict[str, Any]:
        """A reference book keyed by code: "statuses", "status-groups", "order-types", "order-methods", "sites"."""
        key = _REFERENCE_KEYS.get(kind) or _camel_case(kind)
        body = await self.get(f"/api/v5/reference/{kind}", required=(key,))
        return _as_mapping(body[key])

    async def custom_fields(self, entity: str) -> list[dict[str, Any]]:
        """Every custom field of `entity` ("order", "customer"), across all pages."""
        return await self._all_pages("/api/v5/custom-fields", "customFields", {"entity": entity})

    async def custom_dictionaries(self) -> list[dict[str, Any]]:
        """Every custom dictionary with its elements, across all pages."""
        return await self._all_pages("/api/v5/custom-fields/dictionaries", "customDictionaries", None)

    async def _all_pages(self, path: str, key: str, filters: Mapping[str, Any] | None) -> list[dict[str, Any]]:
        def fetch(page: int) -> Awaitable[dict[str, Any]]:
            return self.get(path, {"filter": filters, "limit": 100, "page": page}, required=(key,))

        first = await fetch(1)
        items = _as_list(first[key])
        async for body in self._in_order(fetch, range(2, _total_pages(first) + 1)):
            items.extend(_as_list(body[key]))
        return items


def _describe(path: str, query: list[tuple[str, str]]) -> str:
    """`GET /path?query` for messages and logs (the key is never in the query)."""
    text = f"GET {path}"
    if query:
        text += "?" + urlencode(query, safe="[]")
    return text if len(text) <= 160 else text[:159] + "…"


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _body_kind(response: httpx.Response) -> str:
    content = response.content.strip()
    if not content:
        return "an empty body"
    if content[:1] == b"<" or "html" in response.headers.get("content-type", ""):
        return "an HTML body"
    try:
        json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return "a body that is not JSON (truncated?)"
    return "a JSON body that is not an object"


def _error_summary(body: Mapping[str, Any]) -> str:
    """`errorMsg` plus a short form of `errors` (a map or a list)."""
    message = str(body.get("errorMsg") or "").strip()
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        parts = [f"{field}: {problem}" for field, problem in errors.items()]
    elif isinstance(errors, list):
        parts = [str(problem) for problem in errors]
    else:
        parts = []
    if parts:
        message = f"{message}: {'; '.join(parts)}" if message else "; ".join(parts)
    return message


def _transport_reason(exc: Exception) -> str:
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _total_pages(body: Mapping[str, Any]) -> int:
    pagination = body.get("pagination")
    if not isinstance(pagination, Mapping):
        return 1
    try:
        return max(1, int(pagination.get("totalPageCount") or 1))
    except (TypeError, ValueError):
        return 1


def _as_list(value: Any, *, keep_non_objects: bool = False) -> list[Any]:
    """Items from an array, or from a map keyed by code (PHP encodes maps either way).

    Items that are not objects are dropped unless `keep_non_objects`.
    """
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, list):
        return []
    return [item for item in value if keep_non_objects or isinstance(item, dict)]


def _as_mapping(value: Any) -> dict[str, Any]:
    """A map keyed by code; an empty `[]` or a list of `{code: ...}` objects is converted."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list):
        return {str(item["code"]): item for item in value if isinstance(item, dict) and "code" in item}
    return {}


def _camel_case(kind: str) -> str:
    first, *rest = kind.split("-")
    return first + "".join(part.capitalize() for part in rest)
