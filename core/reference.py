"""Reference data: labels of codes, the account time zone and currency.

`ReferenceBook.refresh` reads `/settings` and every reference book (statuses with their group,
status groups, order types, order methods, sites, custom field definitions of orders and
customers, custom dictionaries) and replaces `reference_items` and the account facts of
`store_meta` in one transaction. It runs on a slow schedule and at once when a sync meets a code
it does not know, at most once per cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, delete, select

from core.db import session_for
from core.models import ReferenceItem
from core.normalize import as_int, as_text, code_of
from core.retailcrm_client import RetailCRMClient
from core.store import bump_data_version, store_meta, utcnow
from core.sync_tasks import gather_all

logger = logging.getLogger("retailcrm.sync")

REFRESH_EVERY = timedelta(hours=1)
DEFAULT_TIMEZONE = "Europe/Moscow"
# Order and customer columns that hold a reference code, and the kind that labels it.
_CODE_COLUMNS = {
    "orders": (("status", "status"), ("site", "site"), ("order_type", "order_type"), ("order_method", "order_method")),
    "customers": (("site", "site"),),
}
_CUSTOM_FIELD_KIND = {"orders": "custom_field:order", "customers": "custom_field:customer"}


def reference_items(
    books: Mapping[str, Mapping[str, Any]],
    custom_fields: Mapping[str, list[dict[str, Any]]],
    dictionaries: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """`reference_items` rows from the API's reference books, field definitions and dictionaries."""
    items: dict[tuple[str, str], dict[str, Any]] = {}

    def add(kind: str, entry: Any, *, parent: str | None = None, extra: dict[str, Any] | None = None) -> None:
        if not isinstance(entry, Mapping):
            return
        code = as_text(entry.get("code"), max_length=128)
        if code is None:
            return
        items[(kind, code)] = {
            "kind": kind,
            "code": code,
            "name": as_text(entry.get("name")) or code,
            "parent": parent,
            "ordering": as_int(entry.get("ordering")) or 0,
            "active": entry.get("active") is not False,
            "extra": extra,
        }

    for entry in books.get("statuses", {}).values():
        add("status", entry, parent=code_of(entry.get("group")) if isinstance(entry, Mapping) else None)
    for kind, book in (("status_group", "status-groups"), ("order_type", "order-types"),
                       ("order_method", "order-methods"), ("site", "sites")):
        for entry in books.get(book, {}).values():
            add(kind, entry)
    for entity, fields in custom_fields.items():
        for entry in fields:
            if isinstance(entry, Mapping):
                add(f"custom_field:{entity}", entry, parent=code_of(entry.get("dictionary")),
                    extra={"type": as_text(entry.get("type"))})
    for dictionary in dictionaries:
        code = code_of(dictionary.get("code")) if isinstance(dictionary, Mapping) else None
        elements = dictionary.get("elements") if code else None
        if isinstance(elements, Mapping):
            elements = list(elements.values())
        for element in elements if isinstance(elements, list) else []:
            add(f"dictionary:{code}", element)
    return list(items.values())


def account_timezone(settings: Mapping[str, Any], override: str | None) -> str:
    """The override, else `/settings` `timezone.value` when it is a known zone, else Moscow."""
    if override:
        return override
    entry = settings.get("timezone")
    value = as_text(entry.get("value") if isinstance(entry, Mapping) else entry, max_length=64)
    if value:
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("the account time zone %r is unknown here; using %s", value, DEFAULT_TIMEZONE)
    return DEFAULT_TIMEZONE


def account_currency(settings: Mapping[str, Any]) -> str | None:
    """`/settings` `default_currency.value`, if any."""
    entry = settings.get("default_currency")
    return as_text(entry.get("value") if isinstance(entry, Mapping) else entry, max_length=8)


class ReferenceBook:
    """Known codes of the store's reference data, refreshed from the API when stale or incomplete."""

    def __init__(self, engine: Engine, client: RetailCRMClient, *, timezone_override: str | None = None) -> None:
        self.engine = engine
        self.client = client
        self.timezone_override = timezone_override
        self.refreshed_this_cycle = False
        self._known: dict[str, set[str]] = {}
        self._dictionary_of: dict[str, dict[str, str]] = {}
        self._loaded = False
        self._timezone: str | None = None
        self._pending: asyncio.Future[None] | None = None

    async def refresh(self) -> None:
        """Fetch `/settings` and every reference book and replace the stored ones."""
        await self.start_refresh()
        await self.settle()

    async def start_refresh(self) -> None:
        """Ask for `/settings` now (alone: a wrong key costs one request), the reference books in the background.

        The account time zone is known when this returns; `settle()` waits for the books to be stored.
        """
        settings = await self.client.settings()
        self._timezone = account_timezone(settings, self.timezone_override)
        self.refreshed_this_cycle = True
        self._pending = asyncio.ensure_future(self._fetch_and_store(self._timezone, account_currency(settings)))

    async def settle(self) -> None:
        """Wait for a background refresh to be stored (re-raising its failure)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    def cancel(self) -> None:
        """Drop a background refresh (the cycle failed for another reason)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()

    async def _fetch_and_store(self, timezone: str, currency: str | None) -> None:
        names = ("statuses", "status-groups", "order-types", "order-methods", "sites")
        results = await gather_all(
            *(self.client.reference(name) for name in names),
            self.client.custom_fields("order"),
            self.client.custom_fields("customer"),
            self.client.custom_dictionaries(),
        )
        books = dict(zip(names, results[: len(names)], strict=True))
        order_fields, customer_fields, dictionaries = results[len(names):]
        items = reference_items(books, {"order": order_fields, "customer": customer_fields}, dictionaries)
        await asyncio.to_thread(self._store, items, timezone, currency)
        logger.info("reference data refreshed: %d items, time zone %s", len(items), timezone)

    def _store(self, items: list[dict[str, Any]], timezone: str, currency: str | None) -> None:
        with session_for(self.engine) as session:
            session.execute(delete(ReferenceItem))
            for item in items:
                session.add(ReferenceItem(**item))
            meta = store_meta(session)
            meta.timezone = timezone
            meta.currency = currency or meta.currency
            meta.reference_refreshed_at = utcnow()
            bump_data_version(session)
            session.commit()
        self._load_from(items)

    async def ensure_fresh(self, max_age: timedelta = REFRESH_EVERY) -> bool:
        """Start a refresh when never done, older than `max_age`, or the time zone override changed.

        True if one was started (the books may still be arriving: see `settle`).
        """
        refreshed_at, timezone = await asyncio.to_thread(self._meta)
        self._timezone = self.timezone_override or timezone
        stale = refreshed_at is None or utcnow() - refreshed_at > max_age
        wrong_zone = self.timezone_override is not None and timezone != self.timezone_override
        if stale or wrong_zone:
            await self.start_refresh()
            return True
        return False

    def _meta(self) -> tuple[datetime | None, str | None]:
        with session_for(self.engine) as session:
            meta = store_meta(session)
            session.commit()
            return meta.reference_refreshed_at, meta.timezone

    def timezone(self) -> str:
        """The account time zone: the override, else the latest `/settings` or stored one."""
        return self.timezone_override or self._timezone or self._meta()[1] or DEFAULT_TIMEZONE

    def unknown_codes(self, stream: str, rows: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
        """(kind, code) pairs in `rows` that the stored reference data does not know."""
        self._ensure_loaded()
        unknown: set[tuple[str, str]] = set()
        field_kind = _CUSTOM_FIELD_KIND[stream]
        for row in rows:
            for column, kind in _CODE_COLUMNS[stream]:
                code = row.get(column)
                if code and code not in self._known.get(kind, ()):
                    unknown.add((kind, code))
            for field, value in (row.get("custom_fields") or {}).items():
                if field not in self._known.get(field_kind, ()):
                    unknown.add((field_kind, field))
                    continue
                dictionary = self._dictionary_of.get(field_kind, {}).get(field)
                if dictionary is None:
                    continue
                kind = f"dictionary:{dictionary}"
                for element in value if isinstance(value, list) else [value]:
                    if isinstance(element, str) and element not in self._known.get(kind, ()):
                        unknown.add((kind, element))
        return unknown

    async def learn(self, stream: str, rows: Iterable[Mapping[str, Any]]) -> bool:
        """Refresh (once per cycle) when `rows` hold codes the store does not know; True if refreshed."""
        if self.refreshed_this_cycle:
            return False
        unknown = await asyncio.to_thread(self.unknown_codes, stream, list(rows))
        if not unknown:
            return False
        logger.info("new reference codes seen (%s); refreshing reference data",
                    ", ".join(f"{kind}={code}" for kind, code in sorted(unknown)[:5]))
        await self.start_refresh()
        return True

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with session_for(self.engine) as session:
            rows = session.execute(select(ReferenceItem)).scalars().all()
            self._load_from([row.model_dump() for row in rows])

    def _load_from(self, items: Iterable[Mapping[str, Any]]) -> None:
        known: dict[str, set[str]] = {}
        dictionary_of: dict[str, dict[str, str]] = {}
        for item in items:
            known.setdefault(item["kind"], set()).add(item["code"])
            if item["kind"].startswith("custom_field:") and item.get("parent"):
                dictionary_of.setdefault(item["kind"], {})[item["code"]] = item["parent"]
        self._known, self._dictionary_of, self._loaded = known, dictionary_of, True
