"""The in-memory RetailCRM account: orders, customers, both histories, and consistent mutations.

Every mutation changes a row *and* appends the history record that describes the change, so the
final state always equals the replay of the history. All public methods take the account lock:
live mode mutates while requests are served.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from . import catalog, history
from .clock import DAY, month_key, now_local, parse, to_ts
from .history import HistoryLog, page_of, pack_meta
from .query import CustomerFilter, HistoryFilter, OrderFilter
from .render import customer_dict, customer_record, order_dict, order_record
from .rows import (CUSTOMER_ATTRS, FIRST_NAMES, NONE, ORDER_ATTRS, CustomerRow, OrderRow, Strings,
                   change, interests_mask, pack_item)

_SOURCE_CODES = {name: i for i, name in enumerate(history.SOURCES)}
_MANAGER_IDS = frozenset(m[0] for m in catalog.MANAGERS)
_CACHE_SIZE = 16
_FIELDS = {
    "status": history.STATUS, "manager": history.MANAGER, "site": history.SITE,
    "created_at": history.CREATED_AT, "delivery_address.city": history.CITY,
    "custom_adress_client": history.ADDRESS, "order_method": history.ORDER_METHOD,
    "order_type": history.ORDER_TYPE, "custom_registration_method": history.CUSTOM_REGISTRATION,
    "custom_interests": history.CUSTOM_INTERESTS, "custom_gift_wrap": history.CUSTOM_GIFT,
}
_CUSTOMER_FIELDS = {
    "manager": history.MANAGER, "address.city": history.CITY,
    "custom_registration_method": history.CUSTOM_REGISTRATION,
    "custom_interests": history.CUSTOM_INTERESTS, "custom_newsletter": history.CUSTOM_NEWSLETTER,
}


def _index(table: tuple[tuple[Any, ...], ...], code: str) -> int:
    for i, entry in enumerate(table):
        if entry[0] == code:
            return i
    raise ValueError(f"unknown code {code!r}")


def _when(value: datetime | str | int) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return parse(value)
    return to_ts(value)


class Account:
    """One account's data. Build it with `retailcrm_emulator.generate()` or empty for tests."""

    timezone = catalog.TIMEZONE
    currency = catalog.CURRENCY

    def __init__(self, *, clock: Callable[[], int] | None = None) -> None:
        self.lock = threading.RLock()
        self.strings = Strings()
        self.orders: dict[int, OrderRow] = {}
        self.customers: dict[int, CustomerRow] = {}
        self.order_history = HistoryLog()
        self.customer_history = HistoryLog()
        self.live_order_count = 0
        self.live_customer_count = 0
        self.last_numbers = [1000] * len(catalog.SITES)
        self.version = 0
        self._clock = clock or partial(now_local, catalog.TIMEZONE)
        self._cache: OrderedDict[tuple[int, OrderFilter], list[int]] = OrderedDict()

    # ----- reads -------------------------------------------------------------------------------

    def live_orders(self) -> list[dict[str, Any]]:
        """API payloads of every existing order (what a perfect sync stores), ascending id."""
        with self.lock:
            return [self._order(row) for row in self.orders.values() if not row.gone]

    def live_customers(self) -> list[dict[str, Any]]:
        """API payloads of every existing customer, ascending id."""
        with self.lock:
            return [customer_dict(row, self.strings) for row in self.customers.values() if not row.gone]

    def order_count_by_month(self) -> dict[str, int]:
        """Live orders per account-local month of their createdAt ("YYYY-MM" -> count)."""
        with self.lock:
            counts = Counter(month_key(row.created) for row in self.orders.values() if not row.gone)
        return dict(sorted(counts.items()))

    def truth(self) -> dict[str, Any]:
        """A summary of the current state, for tests driving the emulator over HTTP."""
        with self.lock:
            return {
                "liveOrders": self.live_order_count,
                "liveCustomers": self.live_customer_count,
                "maxOrderId": next(reversed(self.orders), 0),
                "maxOrderHistoryId": len(self.order_history),
                "maxCustomerHistoryId": len(self.customer_history),
                "ordersByMonth": self.order_count_by_month(),
            }

    def orders_page(self, flt: OrderFilter, page: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, payloads) of one /orders page, sorted by id descending."""
        with self.lock:
            ids = self._matching_ids(flt)
            chosen = ids[(page - 1) * limit:page * limit]
            return len(ids), [self._order(self.orders[i]) for i in chosen]

    def customers_page(self, flt: CustomerFilter, page: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, payloads) of one /customers page, sorted by id descending."""
        with self.lock:
            rows = [r for r in reversed(self.customers.values()) if not r.gone and flt.matches(r)]
            chosen = rows[(page - 1) * limit:page * limit]
            return len(rows), [customer_dict(r, self.strings) for r in chosen]

    def order_history_page(self, flt: HistoryFilter, page: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, records) of one /orders/history page, ascending id."""
        with self.lock:
            total, picked = self._history_page(self.order_history, flt, page, limit)
            return total, [order_record(self.order_history, i, self.orders, self.customers, self.strings)
                           for i in picked]

    def customer_history_page(self, flt: HistoryFilter, page: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """(totalCount, records) of one /customers/history page, ascending id."""
        with self.lock:
            total, picked = self._history_page(self.customer_history, flt, page, limit)
            return total, [customer_record(self.customer_history, i, self.customers, self.strings)
                           for i in picked]

    def now(self) -> int:
        """The account clock (local epoch seconds), never behind the newest history record."""
        latest = max(self.order_history.ts[-1] if len(self.order_history) else 0,
                     self.customer_history.ts[-1] if len(self.customer_history) else 0)
        return max(self._clock(), latest)

    def _order(self, row: OrderRow) -> dict[str, Any]:
        return order_dict(row, self.customers[row.customer], self.strings)

    def _matching_ids(self, flt: OrderFilter) -> list[int]:
        key = (self.version, flt)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        test = flt.predicate(self.strings)
        rows: Iterator[OrderRow] = reversed(self.orders.values())
        ids = [r.id for r in rows if not r.gone and (test is None or test(r))]
        self._cache[key] = ids
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return ids

    @staticmethod
    def _history_page(log: HistoryLog, flt: HistoryFilter, page: int, limit: int) -> tuple[int, list[int]]:
        segments = log.select(since_id=flt.since_id, start=flt.start, end=flt.end, entity=flt.entity)
        return page_of(segments, (page - 1) * limit, limit)

    # ----- mutations ---------------------------------------------------------------------------

    def create_customer(self, *, site: str = "main-store", created_at: datetime | str | int | None = None,
                        first_name_index: int | None = None, manager_id: int | None = None,
                        city: str | None = None, source: str = "api") -> int:
        """Register a customer (names derived from the new id) and return its id."""
        with self.lock:
            now = self.now()
            customer_id = next(reversed(self.customers), 0) + 1
            row = CustomerRow(
                customer_id=customer_id, site=_index(catalog.SITES, site),
                created=now if created_at is None else _when(created_at),
                first=customer_id % len(FIRST_NAMES) if first_name_index is None else first_name_index,
                last=customer_id % len(catalog.LAST_NAMES), manager=self._manager(manager_id),
                city=NONE if city is None else self.strings.code(city), reg=0, interests=0,
                newsletter=NONE, birth=NONE)
            self.customers[customer_id] = row
            self.live_customer_count += 1
            self.customer_history.append(now, customer_id, history.CREATED, 0, 0,
                                         self._meta(source, row.site, manager=row.manager))
            self.version += 1
            return customer_id

    def create_order(self, *, site: str = "main-store", status: str = "new",
                     created_at: datetime | str | int | None = None, customer_id: int | None = None,
                     order_type: str = "eshop-individual", order_method: str = "shopping-cart",
                     manager_id: int | None = None, city: str | None = None, address: str | None = None,
                     items: list[tuple[int, int]] | None = None, external_id: str | None = None,
                     source: str = "api") -> int:
        """Create an order (and its customer when none is given); return the new order id.

        `items` are (product index in `catalog.PRODUCTS`, quantity) pairs.
        """
        with self.lock:
            if customer_id is None:
                customer_id = self.create_customer(site=site, manager_id=manager_id, city=city)
            elif customer_id not in self.customers or self.customers[customer_id].gone:
                raise KeyError(f"no customer {customer_id}")
            now = self.now()
            site_index = _index(catalog.SITES, site)
            self.last_numbers[site_index] += 1
            order_id = next(reversed(self.orders), 0) + 1
            row = OrderRow(
                order_id=order_id, number=f"{self.last_numbers[site_index]}A", ext=external_id,
                site=site_index, otype=_index(catalog.ORDER_TYPES, order_type),
                method=_index(catalog.ORDER_METHODS, order_method),
                created=now if created_at is None else _when(created_at),
                manager=self._manager(manager_id), customer=customer_id, source=NONE,
                city=NONE if city is None else self.strings.code(city),
                addr=NONE if address is None else -2 - self.strings.code(address), delivery=0,
                items=tuple(pack_item(p, q) for p, q in (items or [(0, 1)])), pay=NONE, reg=NONE,
                interests=0, gift=NONE, status=_index(catalog.STATUSES, status))
            row.status_upd = now
            self.orders[order_id] = row
            self.live_order_count += 1
            self.order_history.append(now, order_id, history.CREATED, 0, 0,
                                      self._meta(source, row.site, row.status, row.manager))
            self.version += 1
            return order_id

    def change_status(self, order_id: int, status: str, *, source: str = "user") -> None:
        """Move an order to another status."""
        self.edit_order(order_id, "status", status, source=source)

    def edit_order(self, order_id: int, field: str, value: Any, *, source: str = "user") -> None:
        """Change one field (history field names: status, manager, site, created_at,
        delivery_address.city, order_method, order_type, custom_adress_client,
        custom_registration_method, custom_interests, custom_gift_wrap). No-op when unchanged."""
        with self.lock:
            row = self._live_order(order_id)
            kind = _FIELDS[field]
            code = self._encode(kind, value)
            if code == getattr(row, ORDER_ATTRS[kind]):
                return
            now = self.now()
            old = change(row, kind, code, now)
            self.order_history.append(now, order_id, kind, old, code,
                                      self._meta(source, row.site, row.status, row.manager))
            self.version += 1

    def edit_customer(self, customer_id: int, field: str, value: Any, *, source: str = "user") -> None:
        """Change one customer field (manager, address.city, custom_registration_method,
        custom_interests, custom_newsletter). No-op when unchanged."""
        with self.lock:
            row = self.customers[customer_id]
            if row.gone:
                raise KeyError(f"customer {customer_id} was merged")
            kind = _CUSTOMER_FIELDS[field]
            code = self._encode(kind, value)
            if code == getattr(row, CUSTOMER_ATTRS[kind]):
                return
            now = self.now()
            old = change(row, kind, code, now)
            self.customer_history.append(now, customer_id, kind, old, code,
                                         self._meta(source, row.site, manager=row.manager))
            self.version += 1

    def delete_order(self, order_id: int, *, source: str = "user") -> None:
        """Delete an order: it leaves /orders, history gets a `deleted` record."""
        with self.lock:
            row = self._live_order(order_id)
            row.gone = 1
            self.live_order_count -= 1
            self.order_history.append(self.now(), order_id, history.DELETED, 0, 0,
                                      self._meta(source, row.site, row.status, row.manager))
            self.version += 1

    def merge_orders(self, source_id: int, target_id: int) -> None:
        """Merge order `source_id` into `target_id`: the source leaves /orders (`combinedTo`)."""
        with self.lock:
            if source_id == target_id:
                raise ValueError("an order cannot be merged into itself")
            row = self._live_order(source_id)
            self._live_order(target_id)
            row.gone = 2
            self.live_order_count -= 1
            self.order_history.append(self.now(), source_id, history.COMBINED, 0, target_id,
                                      self._meta("combine", row.site, row.status, row.manager))
            self.version += 1

    def merge_customers(self, source_id: int, target_id: int) -> None:
        """Merge customer `source_id` into `target_id`; the source's orders move to the target."""
        with self.lock:
            if source_id == target_id:
                raise ValueError("a customer cannot be merged into itself")
            source, target = self.customers[source_id], self.customers[target_id]
            if source.gone or target.gone:
                raise KeyError("both customers must exist")
            now = self.now()
            for row in self.orders.values():
                if row.customer == source_id and not row.gone:
                    change(row, history.CUSTOMER, target_id, now)
                    self.order_history.append(now, row.id, history.CUSTOMER, source_id, target_id,
                                              self._meta("combine", row.site, row.status, row.manager))
            source.gone = 2
            self.live_customer_count -= 1
            self.customer_history.append(now, source_id, history.COMBINED, 0, target_id,
                                         self._meta("combine", source.site))
            self.version += 1

    def random_activity(self, rng: random.Random, n: int) -> dict[str, int]:
        """Perform `n` realistic random mutations; return how many of each kind were done."""
        done: Counter[str] = Counter()
        actions = (
            (self._act_create, 25), (self._act_status, 30), (self._act_manager, 8),
            (self._act_move_created, 8), (self._act_city, 5), (self._act_address, 4),
            (self._act_site, 4), (self._act_method, 3), (self._act_delete, 5), (self._act_merge, 4),
            (self._act_customer, 4),
        )
        functions = [a for a, _ in actions]
        weights = [w for _, w in actions]
        with self.lock:
            for _ in range(n):
                action = rng.choices(functions, weights)[0]
                done[action(rng)] += 1
        return dict(done)

    def live_tick(self, rng: random.Random) -> dict[str, int]:
        """What live mode does each interval: a few new orders and a few status changes."""
        done: Counter[str] = Counter()
        with self.lock:
            for _ in range(rng.randint(1, 3)):
                done[self._act_create(rng)] += 1
            for _ in range(rng.randint(1, 5)):
                done[self._act_status(rng)] += 1
        return dict(done)

    # ----- random actions (each returns its name) ----------------------------------------------

    def _random_live_order(self, rng: random.Random) -> OrderRow | None:
        top = next(reversed(self.orders), 0)
        for _ in range(50):
            row = self.orders.get(rng.randint(1, top)) if top else None
            if row is not None and not row.gone:
                return row
        return None

    def _act_create(self, rng: random.Random) -> str:
        live = [c for c in (self.customers.get(rng.randint(1, len(self.customers))) for _ in range(3))
                if c is not None and not c.gone] if self.customers else []
        customer = live[0].id if live and rng.random() < 0.3 else None
        canonical = rng.choice(catalog.CITIES)
        self.create_order(
            site=rng.choice(catalog.SITES)[0], customer_id=customer,
            order_method=rng.choices([m[0] for m in catalog.ORDER_METHODS], [m[2] for m in catalog.ORDER_METHODS])[0],
            manager_id=rng.choice(catalog.MANAGERS)[0] if rng.random() < 0.6 else None,
            city=rng.choice((canonical[0], *canonical[2])),
            items=[(rng.randrange(len(catalog.PRODUCTS)), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))])
        return "create"

    def _act_status(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        options = [s[0] for i, s in enumerate(catalog.STATUSES) if s[3] and i != row.status]
        self.change_status(row.id, rng.choice(options), source=rng.choice(("user", "user", "api", "rule")))
        return "status"

    def _act_manager(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        self.edit_order(row.id, "manager", rng.choice(catalog.MANAGERS)[0])
        return "manager"

    def _act_move_created(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        moved = min(row.created + rng.choice((-1, 1)) * rng.randint(DAY, 45 * DAY), self.now())
        self.edit_order(row.id, "created_at", moved)
        return "created_at"

    def _act_city(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        city = rng.choice(catalog.CITIES)
        self.edit_order(row.id, "delivery_address.city", rng.choice((city[0], *city[2])))
        return "city"

    def _act_address(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        street = rng.choice(catalog.STREETS)
        self.edit_order(row.id, "custom_adress_client", f"{street}, д. {rng.randint(1, 120)}")
        return "address"

    def _act_site(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        self.edit_order(row.id, "site", catalog.SITES[1 - row.site][0])
        return "site"

    def _act_method(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        self.edit_order(row.id, "order_method", rng.choice(catalog.ORDER_METHODS)[0])
        return "order_method"

    def _act_delete(self, rng: random.Random) -> str:
        row = self._random_live_order(rng)
        if row is None:
            return "skip"
        self.delete_order(row.id)
        return "delete"

    def _act_merge(self, rng: random.Random) -> str:
        source, target = self._random_live_order(rng), self._random_live_order(rng)
        if source is None or target is None or source.id == target.id:
            return "skip"
        self.merge_orders(source.id, target.id)
        return "merge"

    def _act_customer(self, rng: random.Random) -> str:
        if not self.customers:
            return "skip"
        row = self.customers.get(rng.randint(1, next(reversed(self.customers))))
        if row is None or row.gone:
            return "skip"
        self.edit_customer(row.id, "custom_registration_method", rng.choice(catalog.REGISTRATION_METHODS))
        return "customer"

    # ----- helpers ------------------------------------------------------------------------------

    def _live_order(self, order_id: int) -> OrderRow:
        row = self.orders.get(order_id)
        if row is None or row.gone:
            raise KeyError(f"no order {order_id}")
        return row

    @staticmethod
    def _manager(manager_id: int | None) -> int:
        if manager_id is None:
            return 0
        if manager_id not in _MANAGER_IDS:
            raise ValueError(f"unknown manager {manager_id}")
        return manager_id

    @staticmethod
    def _meta(source: str, site: int, status: int = 0, manager: int = 0) -> int:
        code = _SOURCE_CODES[source]
        api_key = history.CURRENT_KEY if code == history.API else history.NO_KEY
        user = catalog.ADMIN_USER_ID if code == history.USER else 0
        return pack_meta(code, api_key, user, status, site, manager)

    def _encode(self, kind: int, value: Any) -> int:
        """The stored code of a field value given in API terms."""
        if kind == history.STATUS:
            return _index(catalog.STATUSES, value)
        if kind == history.SITE:
            return _index(catalog.SITES, value)
        if kind == history.ORDER_METHOD:
            return _index(catalog.ORDER_METHODS, value)
        if kind == history.ORDER_TYPE:
            return _index(catalog.ORDER_TYPES, value)
        if kind == history.MANAGER:
            return self._manager(value)
        if kind == history.CREATED_AT:
            return _when(value)
        if kind == history.CITY:
            return NONE if not value else self.strings.code(value)
        if kind == history.ADDRESS:
            return NONE if not value else -2 - self.strings.code(value)
        if kind == history.CUSTOM_REGISTRATION:
            return NONE if value is None else catalog.REGISTRATION_METHODS.index(value)
        if kind == history.CUSTOM_INTERESTS:
            return interests_mask(list(value or []))
        return NONE if value is None else int(bool(value))
