"""Seeded, deterministic generation of a whole account (orders, customers, both histories).

Plan first, then simulate: every month gets a target number of *live* orders (November 2024 and
November 2025 are fixed at 1,163 and 1,447 at scale 1.0); live orders are placed at their final
createdAt, some were created at another time and moved there by a `created_at` edit; orders that
end deleted or merged are added on top. Each order's events are applied to its row in time order,
so the final state is exactly the replay of the history. Each month has its own random stream, so
a later end date does not change earlier months' orders.
"""

from __future__ import annotations

import calendar
import gc
import random
from array import array
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import accumulate
from operator import itemgetter

from . import catalog, history
from .account import Account
from .clock import DAY, month_start, to_ts, today_local
from .history import pack_meta
from .rows import (CUSTOMER_ATTRS, FIRST_NAMES, NONE, ORDER_ATTRS, CustomerRow, OrderRow, Strings,
                   address_code, change, initial_value, pack_item)

START = date(2024, 1, 1)
FIXED_MONTHS = {(2024, 11): 1163, (2025, 11): 1447}
_SEASON = (0.85, 0.88, 0.97, 0.95, 0.92, 0.82, 0.78, 0.84, 0.97, 1.04, 1.30, 1.38)
_GROWTH = 1447 / 1163  # year over year
_BASE = 1163 / _SEASON[10] / _GROWTH ** (10 / 12)  # trend level in January 2024
_WEEKDAY = (1.10, 1.05, 1.00, 1.00, 0.95, 0.80, 0.92)
_HOURS = (2, 1, 1, 1, 1, 1, 2, 4, 6, 8, 10, 11, 12, 11, 10, 10, 10, 10, 11, 12, 13, 12, 8, 4)
DELETED_SHARE = 0.035
MERGED_SHARE = 0.012
_CUSTOMER_START = to_ts(date(2023, 6, 1))
_BIRTH_START = to_ts(date(1960, 1, 1))
_START_TS = to_ts(START)
_ALL_INTERESTS = (1 << len(catalog.INTERESTS)) - 1


@dataclass(frozen=True)
class MonthPlan:
    """One month of the plan: [start, stop) local seconds and how many live orders it ends with."""

    year: int
    month: int
    start: int
    stop: int
    live: int

    @property
    def full(self) -> bool:
        return self.stop == month_start(*_next_month(self.year, self.month))


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def base_live(year: int, month: int) -> float:
    """Live orders a full month ends with at scale 1.0 (exact for the fixed Novembers)."""
    if (year, month) in FIXED_MONTHS:
        return FIXED_MONTHS[(year, month)]
    months = (year - START.year) * 12 + month - 1
    return _BASE * _GROWTH ** (months / 12) * _SEASON[month - 1]


def plan_months(end: date, scale: float) -> list[MonthPlan]:
    """Monthly live-order targets from START up to `end` (exclusive)."""
    end_ts = to_ts(end)
    plans = []
    year, month = START.year, START.month
    while month_start(year, month) < end_ts:
        start = month_start(year, month)
        full_stop = month_start(*_next_month(year, month))
        stop = min(full_stop, end_ts)
        live = round(base_live(year, month) * scale * (stop - start) / (full_stop - start))
        plans.append(MonthPlan(year, month, start, stop, live))
        year, month = _next_month(year, month)
    return plans


def expected_orders(end: date, scale: float = 1.0) -> int:
    """About how many orders (live, deleted and merged) `generate` makes."""
    live = sum(p.live for p in plan_months(end, scale))
    return round(live * (1 + DELETED_SHARE + MERGED_SHARE))


def generate(seed: int = 42, *, end: date | None = None, scale: float = 1.0, orders: int | None = None,
             clock: Callable[[], int] | None = None) -> Account:
    """Generate an account with orders from 2024-01-01 up to `end` (exclusive; default: today in
    the account's zone). `orders` asks for about that many orders instead of a `scale`."""
    end = end or today_local(catalog.TIMEZONE)
    if end <= START:
        raise ValueError(f"end must be after {START}")
    if orders is not None:
        scale = orders / expected_orders(end, 1.0)
    was_enabled = gc.isenabled()
    gc.disable()  # millions of acyclic objects: collections would only cost time
    try:
        builder = _Builder(to_ts(end))
        for plan in plan_months(end, scale):
            builder.month(plan, random.Random(f"{seed}:{plan.year}-{plan.month:02d}"))
        account = builder.account(clock)
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()  # keep the data set out of later collections (a server stays responsive)
    return account


def _cumulative(weights: list[float] | tuple[float, ...]) -> list[float]:
    return list(accumulate(weights))


_METHOD_CW = _cumulative([m[2] for m in catalog.ORDER_METHODS])
_MANAGER_CW = _cumulative([m[3] for m in catalog.MANAGERS])
_SOURCE_CW = _cumulative([s[3] for s in catalog.UTM_SOURCES])
_CITY_CW = _cumulative([c[1] for c in catalog.CITIES])
_DELIVERY_CW = _cumulative([d[3] for d in catalog.DELIVERIES])
_HOUR_CW = _cumulative(_HOURS)
_CANCEL_CW = _cumulative([c[1] for c in catalog.CANCEL_STATUSES])
_CANCEL_CODES = [catalog.STATUS_INDEX[c[0]] for c in catalog.CANCEL_STATUSES]
_PATH = [(catalog.STATUS_INDEX[code], p) for code, p in catalog.COMPLETE_PATH]
_STUCK = [catalog.STATUS_INDEX[c] for c in ("client-confirmed", "offer-analog", "redirect", "assembling")]
_API_METHODS = (0, 2, 3)  # shopping-cart, one-click, landing-page: created by the site through the API
_LIVE, _DELETED, _MERGED = 0, 1, 2
_WHO_KEY = {history.API: pack_meta(0, history.OTHER_KEY)}  # API changes come from another key


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect(cumulative, rng.random() * cumulative[-1])


def _day_weights(plan: MonthPlan) -> list[float]:
    """Relative order volume of each day of the month (weekday, Black Friday, holidays)."""
    days = (plan.stop - plan.start + DAY - 1) // DAY
    last_day = calendar.monthrange(plan.year, plan.month)[1]
    black_friday = 0
    if plan.month == 11:
        black_friday = max(d for d in range(last_day - 6, last_day + 1) if date(plan.year, 11, d).weekday() == 4)
    weights = []
    for index in range(days):
        day = index + 1
        weight = _WEEKDAY[date(plan.year, plan.month, day).weekday()]
        if plan.month == 11 and day == black_friday:
            weight *= 3.0
        elif plan.month == 11 and 0 < day - black_friday <= 3:
            weight *= 1.8
        elif plan.month == 12 and 18 <= day <= 30:
            weight *= 1.3
        elif plan.month == 1 and day <= 8:
            weight *= 0.6
        elif plan.month == 3 and day in (6, 7):
            weight *= 1.5
        weights.append(weight)
    return weights


class _Builder:
    """Accumulates rows and events month by month, then assigns ids and builds the Account."""

    def __init__(self, end_ts: int) -> None:
        self.end = end_ts
        self.strings = Strings()
        self.city_codes = [(self.strings.code(name), [self.strings.code(v) for v in variants])
                           for name, _, variants in catalog.CITIES]
        self.rows: list[OrderRow] = []
        self.born: list[int] = []
        self.customers: list[CustomerRow] = []
        self.pool: list[int] = []  # customers registered before the current month
        self.events: tuple[list[int], ...] = ([], [], [], [], [], [])  # ts, row, kind, old, new, meta
        self.customer_events: tuple[list[int], ...] = ([], [], [], [], [], [])

    # ----- months ------------------------------------------------------------------------------

    def month(self, plan: MonthPlan, rng: random.Random) -> None:
        """Generate one month: its live orders, then deleted and merged ones, then duplicates."""
        r = rng.random
        new_customers: list[int] = []
        day_cw = _cumulative(_day_weights(plan))
        live_rows = []
        times = self._times(rng, plan, plan.live, day_cw, plan.stop)
        if times:
            times[0] = plan.start
            if plan.full and len(times) > 1:
                times[-1] = plan.stop - 1
        for position, final in enumerate(times):
            forced = plan.full and position == len(times) - 1 and len(times) > 1
            born, edit_ts = self._moved_creation(rng, final, forced)
            live_rows.append(self._order(rng, born, final, edit_ts, _LIVE, None, new_customers))
        for when in self._times(rng, plan, round(plan.live * DELETED_SHARE), day_cw, self.end - 3600):
            self._order(rng, when, when, None, _DELETED, None, new_customers)
        for _ in range(round(plan.live * MERGED_SHARE)):
            if not live_rows:
                break
            target = live_rows[int(r() * len(live_rows))]
            when = self.born[target] + 60 + int(r() * (3 * DAY - 60))
            if when < self.end - 3600:
                self._order(rng, when, when, None, _MERGED, target, new_customers)
        for _ in range(round(len(new_customers) * 0.01)):
            self._duplicate_customer(rng, plan)
        self.pool.extend(new_customers)

    def _times(self, rng: random.Random, plan: MonthPlan, n: int, day_cw: list[float], limit: int) -> list[int]:
        """n sorted local times in the month (before `limit`), by day and hour-of-day weights."""
        r = rng.random
        stop = min(plan.stop, limit)
        if stop <= plan.start:
            return []
        out: list[int] = []
        while len(out) < n:  # rejection sampling: `limit` may cut the month short
            days = rng.choices(range(len(day_cw)), cum_weights=day_cw, k=n - len(out))
            hours = rng.choices(range(24), cum_weights=_HOUR_CW, k=len(days))
            for day, hour in zip(days, hours):
                ts = plan.start + day * DAY + hour * 3600 + int(r() * 3600)
                if ts < stop:
                    out.append(ts)
        out.sort()
        return out

    def _moved_creation(self, rng: random.Random, final: int, forced: bool) -> tuple[int, int | None]:
        """(creation time, time of the created_at edit or None) of a live order ending at `final`."""
        r = rng.random
        if forced:
            born = final + 1 + int(r() * 7200)  # entered just after midnight, dated back
        elif rng.random() < 0.015:
            born = final + rng.choice((-1, 1)) * (600 + int(r() * 40 * DAY))
        else:
            return final, None
        edit = max(born, final) + 60 + int(r() * (3 * DAY - 60))
        if born < _START_TS or edit >= self.end - 3600:
            return final, None
        return born, edit

    # ----- one order -----------------------------------------------------------------------------

    def _order(self, rng: random.Random, born: int, final: int, edit_ts: int | None, fate: int,
               target: int | None, new_customers: list[int]) -> int:
        """Create one order with its whole event timeline; return its row index."""
        r = rng.random
        site = 0 if r() < 0.8 else 1
        method = _pick(rng, _METHOD_CW)
        city_index = _pick(rng, _CITY_CW)
        canonical, variants = self.city_codes[city_index]
        city = NONE if r() < catalog.NO_CITY_SHARE else (
            variants[int(r() * len(variants))] if r() < catalog.DIRTY_CITY_SHARE else canonical)
        if target is not None:
            customer = self.rows[target].customer
        else:
            customer = self._customer_for(rng, min(born, final), site, canonical, new_customers)
        api_made = method in _API_METHODS
        manager = catalog.MANAGERS[_pick(rng, _MANAGER_CW)][0]
        rule_manager = 0
        if api_made and r() < 0.6:
            manager, rule_manager = 0, manager if r() < 0.75 else 0
        items = [pack_item(int(r() * len(catalog.PRODUCTS)), 1 if r() < 0.8 else 2 + int(r() * 2))]
        while len(items) < 4 and r() < 0.35:
            items.append(pack_item(int(r() * len(catalog.PRODUCTS)), 1))
        pay = NONE if r() < 0.15 else int(r() * len(catalog.PAYMENT_TYPES)) * 2 + (r() < 0.55)
        bare = r() < 0.05
        row = OrderRow(
            number="", ext=None, site=site, otype=1 if r() < 0.08 else 0, method=method, created=born,
            manager=manager, customer=customer,
            source=NONE if r() < catalog.NO_SOURCE_SHARE else _pick(rng, _SOURCE_CW), city=city,
            addr=NONE if bare or r() < 0.1 else address_code(
                int(r() * len(catalog.STREETS)), 1 + int(r() * 150), 0 if r() < 0.2 else 1 + int(r() * 300)),
            delivery=_pick(rng, _DELIVERY_CW), items=tuple(items), pay=pay,
            reg=NONE if bare or r() < 0.15 else int(r() * len(catalog.REGISTRATION_METHODS)),
            interests=0 if bare or r() < 0.6 else 1 + int(r() * _ALL_INTERESTS),
            gift=NONE if bare or r() < 0.3 else int(r() < 0.15))
        index = len(self.rows)
        self.rows.append(row)
        self.born.append(born)
        source = history.API if api_made else history.USER
        self._emit(born, index, history.CREATED, 0, 0, pack_meta(
            source, history.OTHER_KEY if api_made else history.NO_KEY,
            0 if api_made else (manager or catalog.ADMIN_USER_ID), row.status, row.site, row.manager))
        self._timeline(rng, row, index, born, final, edit_ts, fate, target, rule_manager, canonical)
        return index

    def _timeline(self, rng: random.Random, row: OrderRow, index: int, born: int, final: int,
                  edit_ts: int | None, fate: int, target: int | None, rule_manager: int, canonical: int) -> None:
        """Draw the order's later events, then apply them in time order."""
        r = rng.random
        planned: list[tuple[int, int, int, int]] = []  # (ts, kind, new value, source)
        if rule_manager:
            planned.append((born + 60 + int(r() * 840), history.MANAGER, rule_manager, history.RULE))
        if fate != _MERGED:
            self._statuses(rng, planned, born, fate)
        if r() < 0.06:
            planned.append((born + 3600 + int(r() * (5 * DAY - 3600)), history.MANAGER,
                            catalog.MANAGERS[int(r() * len(catalog.MANAGERS))][0], history.USER))
        if r() < 0.04:
            new_city = canonical if row.city != canonical else self.city_codes[_pick(rng, _CITY_CW)][0]
            planned.append((born + 600 + int(r() * (3 * DAY - 600)), history.CITY, new_city, history.USER))
        if r() < 0.04:
            planned.append((born + 600 + int(r() * (3 * DAY - 600)), history.ADDRESS, address_code(
                int(r() * len(catalog.STREETS)), 1 + int(r() * 150), int(r() * 301)), history.USER))
        if r() < 0.01:
            planned.append((born + 600 + int(r() * (2 * DAY - 600)), history.SITE, 1 - row.site, history.USER))
        if r() < 0.01:
            planned.append((born + 600 + int(r() * (2 * DAY - 600)), history.ORDER_METHOD,
                            int(r() * len(catalog.ORDER_METHODS)), history.USER))
        if r() < 0.01:
            planned.append((born + 600 + int(r() * (5 * DAY - 600)), history.CUSTOM_REGISTRATION,
                            int(r() * len(catalog.REGISTRATION_METHODS)), history.API))
        if edit_ts is not None:
            planned.append((edit_ts, history.CREATED_AT, final, history.USER))
        cutoff = self.end
        if fate == _DELETED:
            cutoff = min(born + 300 + int(r() * (20 * DAY - 300)), self.end - 1)
        elif fate == _MERGED:
            cutoff = min(born + 300 + int(r() * (2 * DAY - 300)), self.end - 1)
        planned.sort()
        ts_column, row_column, kind_column, old_column, new_column, meta_column = self.events
        previous = born
        for ts, kind, value, source in planned:
            ts = max(ts, previous + 1)
            if ts >= cutoff:
                break
            if kind == history.STATUS:  # inlined: most events are status changes
                old = row.status
                if value == old:
                    continue
                row.status = value
                row.status_upd = ts
                orig = row.orig
                if orig is None:
                    row.orig = (history.STATUS, old)
                elif history.STATUS not in orig[::2]:
                    row.orig = (*orig, history.STATUS, old)
            else:
                old = getattr(row, ORDER_ATTRS[kind])
                if value == old:
                    continue
                change(row, kind, value, ts)
            ts_column.append(ts)
            row_column.append(index)
            kind_column.append(kind)
            old_column.append(old)
            new_column.append(value)
            meta_column.append(self._meta(source, row))
            previous = ts
        if fate == _DELETED:
            self._emit(max(cutoff, previous + 1), index, history.DELETED, 0, 0, self._meta(history.USER, row))
            row.gone = 1
        elif fate == _MERGED:
            self._emit(max(cutoff, previous + 1), index, history.COMBINED, 0, target,
                       pack_meta(history.COMBINE, history.NO_KEY, 0, row.status, row.site, row.manager))
            row.gone = 2

    @staticmethod
    def _statuses(rng: random.Random, planned: list[tuple[int, int, int, int]], born: int, fate: int) -> None:
        """Plan the status changes: the happy path to complete, a cancellation, or a stall."""
        r = rng.random
        roll = r()
        if fate == _DELETED and roll < 0.5:
            return
        ts = born + 60 + int(rng.expovariate(1 / 10_800))
        if fate == _LIVE and roll < 0.72:
            steps = [code for code, p in _PATH if p >= 1.0 or r() < p]
        elif roll < 0.94 or fate == _DELETED:
            steps = [code for code, p in _PATH[:int(r() * 3)] if r() < p]
            steps.append(_CANCEL_CODES[_pick(rng, _CANCEL_CW)])
        else:
            steps = [code for code, p in _PATH[:2] if r() < p] + [_STUCK[int(r() * len(_STUCK))]]
        for code in steps:
            source = history.USER if r() < 0.75 else (history.API if r() < 0.6 else history.RULE)
            planned.append((ts, history.STATUS, code, source))
            ts += 60 + int(rng.expovariate(1 / (172_800 if code == _PATH[-2][0] else 64_800)))

    @staticmethod
    def _meta(source: int, row: OrderRow) -> int:
        """pack_meta() for a change made by `source` (a user acts as the order's manager or the admin)."""
        state = row.status << 13 | row.site << 19 | row.manager << 22
        if source == history.USER:
            return source | (row.manager or catalog.ADMIN_USER_ID) << 5 | state
        return source | _WHO_KEY.get(source, 0) | state

    def _emit(self, ts: int, index: int, kind: int, old: int, new: int, meta: int) -> None:
        columns = self.events
        columns[0].append(ts)
        columns[1].append(index)
        columns[2].append(kind)
        columns[3].append(old)
        columns[4].append(new)
        columns[5].append(meta)

    # ----- customers -----------------------------------------------------------------------------

    def _customer_for(self, rng: random.Random, first_order: int, site: int, city: int,
                      new_customers: list[int]) -> int:
        """A returning customer (about 30% of orders) or a new one registered by `first_order`."""
        r = rng.random
        if self.pool and r() < 0.3:
            chosen = self.pool[int(r() * len(self.pool))]
            if self.customers[chosen].created <= first_order:
                return chosen
        registered = first_order if r() < 0.55 else max(first_order - 60 - int(r() * 120 * DAY),
                                                                   _CUSTOMER_START)
        index = self._new_customer(rng, registered, site, city)
        new_customers.append(index)
        return index

    def _new_customer(self, rng: random.Random, registered: int, site: int, city: int) -> int:
        r = rng.random
        row = CustomerRow(
            site=site, created=registered, first=int(r() * len(FIRST_NAMES)),
            last=int(r() * len(catalog.LAST_NAMES)),
            manager=catalog.MANAGERS[_pick(rng, _MANAGER_CW)][0] if r() < 0.3 else 0,
            city=NONE if r() < 0.2 else city,
            reg=NONE if r() < 0.1 else int(r() * len(catalog.REGISTRATION_METHODS)),
            interests=0 if r() < 0.5 else 1 + int(r() * _ALL_INTERESTS),
            newsletter=NONE if r() < 0.3 else int(r() < 0.4),
            birth=NONE if r() < 0.4 else _BIRTH_START + int(r() * 16_000) * DAY)
        index = len(self.customers)
        self.customers.append(row)
        self._emit_customer(registered, index, history.CREATED, 0, 0,
                            pack_meta(history.API, history.OTHER_KEY, 0, 0, site, row.manager))
        if r() < 0.08:
            when = registered + 3600 + int(r() * (60 * DAY - 3600))
            kind, value = rng.choice((
                (history.MANAGER, catalog.MANAGERS[int(r() * len(catalog.MANAGERS))][0]),
                (history.CUSTOM_INTERESTS, 1 + int(r() * _ALL_INTERESTS)),
                (history.CUSTOM_REGISTRATION, int(r() * len(catalog.REGISTRATION_METHODS))),
                (history.CUSTOM_NEWSLETTER, int(r() < 0.5)),
            ))
            current = getattr(row, CUSTOMER_ATTRS[kind])
            if when < self.end and value != current:
                change(row, kind, value, when)
                self._emit_customer(when, index, kind, current, value,
                                    pack_meta(history.USER, history.NO_KEY, row.manager or catalog.ADMIN_USER_ID,
                                              0, site, row.manager))
        return index

    def _duplicate_customer(self, rng: random.Random, plan: MonthPlan) -> None:
        """A customer registered twice, later merged into the original."""
        r = rng.random
        if not self.pool:
            return
        target = self.pool[int(r() * len(self.pool))]
        registered = plan.start + int(r() * max(plan.stop - plan.start, 1))
        merged = registered + 600 + int(r() * (10 * DAY - 600))
        if merged >= self.end:
            return
        index = self._new_customer(rng, registered, self.customers[target].site, NONE)
        self._emit_customer(merged, index, history.COMBINED, 0, target,
                            pack_meta(history.COMBINE, history.NO_KEY, 0, 0, self.customers[index].site, 0))
        self.customers[index].gone = 2

    def _emit_customer(self, ts: int, index: int, kind: int, old: int, new: int, meta: int) -> None:
        for column, value in zip(self.customer_events, (ts, index, kind, old, new, meta)):
            column.append(value)

    # ----- assembly ------------------------------------------------------------------------------

    def account(self, clock: Callable[[], int] | None) -> Account:
        """Assign ids in creation order, number the orders, and load rows and histories."""
        account = Account(clock=clock)
        account.strings = self.strings
        customer_ids = _assign_ids(self.customers, [c.created for c in self.customers])
        order_ids = _assign_ids(self.rows, self.born)
        rows = sorted(self.rows, key=lambda r: r.id)
        for row in rows:
            row.customer = customer_ids[row.customer]
            site = initial_value(row, history.SITE)
            account.last_numbers[site] += 1
            row.number = f"{account.last_numbers[site]}A"
            if site == 0 and initial_value(row, history.ORDER_METHOD) in _API_METHODS:
                row.ext = f"shop-{account.last_numbers[site]}"
        account.orders = {row.id: row for row in rows}
        account.customers = {row.id: row for row in sorted(self.customers, key=lambda c: c.id)}
        account.live_order_count = sum(1 for row in self.rows if not row.gone)
        account.live_customer_count = sum(1 for row in self.customers if not row.gone)
        _fill_log(account.order_history, self.events, order_ids)
        _fill_log(account.customer_history, self.customer_events, customer_ids)
        return account


def _assign_ids(rows: list[OrderRow] | list[CustomerRow], born: list[int]) -> list[int]:
    """Give rows ids 1..n in order of creation; return the id of each row index."""
    ids = [0] * len(rows)
    for new_id, index in enumerate(sorted(range(len(rows)), key=born.__getitem__), start=1):
        rows[index].id = new_id
        ids[index] = new_id
    return ids


def _fill_log(log: history.HistoryLog, events: tuple[list[int], ...], ids: list[int]) -> None:
    """Load events into a history log in time order (ties keep generation order)."""
    ts, rows, kinds, old, new, meta = events
    if not ts:
        return
    order = sorted(range(len(ts)), key=ts.__getitem__)
    take = itemgetter(*order) if len(order) > 1 else (lambda column: (column[order[0]],))
    log.ts = array("q", take(ts))
    log.entity = array("q", map(ids.__getitem__, take(rows)))
    log.kind = array("b", take(kinds))
    log.old = array("q", take(old))
    log.new = array("q", take(new))
    log.meta = array("q", take(meta))
    for position in (i for i, kind in enumerate(log.kind) if kind == history.COMBINED):
        log.new[position] = ids[log.new[position]]  # merge target: row index -> id
