"""Storage models (SQLModel): the same tables on SQLite and PostgreSQL.

Conventions:
- order and customer date-times are naive and account-local, exactly as RetailCRM gives them;
  `created_date` is their local calendar day, so "a month" is a plain date range with no time-zone
  arithmetic;
- bookkeeping times of our own (synced_at, sync runs, last success) are naive UTC;
- date-times are `NaiveDatetime` (sqlmodel otherwise insists on aware values);
- money is stored as integer minor units (kopecks) so sums are exact on every database;
- dimension columns of the daily aggregates use "" for "not set", so they can form a primary key.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, BigInteger, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = JSON().with_variant(JSONB(), "postgresql")


def json_column() -> Column:
    """A JSON column (JSONB on PostgreSQL)."""
    return Column(JsonType, nullable=True)


class Order(SQLModel, table=True):
    """One RetailCRM order, keyed by its internal id; contact details are never stored."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_live_created", "is_deleted", "created_at"),
        Index("ix_orders_created_date", "created_date"),
    )

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    number: str | None = Field(default=None, index=True)
    external_id: str | None = None
    site: str = Field(default="", index=True)
    status: str = Field(default="", index=True)
    order_type: str = Field(default="", index=True)
    order_method: str = Field(default="", index=True)
    manager_id: int | None = Field(default=None, index=True)
    customer_id: int | None = Field(default=None, index=True)
    created_at: NaiveDatetime = Field(index=True)
    created_date: date
    status_updated_at: NaiveDatetime | None = None
    summ_minor: int = Field(default=0, sa_type=BigInteger)
    total_minor: int = Field(default=0, sa_type=BigInteger)
    prepay_minor: int = Field(default=0, sa_type=BigInteger)
    currency: str | None = None
    utm_source: str = Field(default="", index=True)
    delivery_city: str | None = None
    city_key: str = Field(default="", index=True)
    custom_fields: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    is_deleted: bool = Field(default=False)
    merged_into: int | None = Field(default=None, sa_type=BigInteger)
    raw: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    synced_at: NaiveDatetime


class Customer(SQLModel, table=True):
    """One RetailCRM customer: registration time, site and custom fields; no contact details."""

    __tablename__ = "customers"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    external_id: str | None = None
    site: str = Field(default="", index=True)
    created_at: NaiveDatetime = Field(index=True)
    created_date: date = Field(index=True)
    custom_fields: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    is_deleted: bool = Field(default=False)
    merged_into: int | None = Field(default=None, sa_type=BigInteger)
    synced_at: NaiveDatetime


class ReferenceItem(SQLModel, table=True):
    """A code and its label from RetailCRM reference data.

    `kind` is one of: status (parent = status group), status_group, order_type, order_method, site,
    custom_field:order / custom_field:customer (parent = dictionary code, extra.type = field type),
    dictionary:<dictionary code> (an element of a custom dictionary).
    """

    __tablename__ = "reference_items"

    kind: str = Field(primary_key=True)
    code: str = Field(primary_key=True)
    name: str
    parent: str | None = None
    ordering: int = 0
    active: bool = True
    extra: dict[str, Any] | None = Field(default=None, sa_column=json_column())


class DailyOrderStat(SQLModel, table=True):
    """Live orders and revenue per account-local day and main dimensions (pre-aggregated)."""

    __tablename__ = "daily_order_stats"

    day: date = Field(primary_key=True)
    site: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    order_type: str = Field(primary_key=True)
    order_method: str = Field(primary_key=True)
    manager_id: str = Field(primary_key=True)
    city_key: str = Field(primary_key=True)
    utm_source: str = Field(primary_key=True)
    orders: int
    revenue_minor: int = Field(sa_type=BigInteger)


class OrderDayChange(SQLModel, table=True):
    """The data version at which each day's `daily_order_stats` were last recomputed.

    Lets readers keep an in-memory copy of the aggregates and refresh only the days changed since
    the version they loaded, instead of re-reading the whole table after every sync.
    """

    __tablename__ = "order_day_changes"

    day: date = Field(primary_key=True)
    data_version: int = Field(sa_type=BigInteger, index=True)


class DailyCustomerStat(SQLModel, table=True):
    """Live customers registered per account-local day and site (pre-aggregated)."""

    __tablename__ = "daily_customer_stats"

    day: date = Field(primary_key=True)
    site: str = Field(primary_key=True)
    customers: int


class SyncState(SQLModel, table=True):
    """Where one stream ("orders" or "customers") stands; committed with the data it describes."""

    __tablename__ = "sync_state"

    stream: str = Field(primary_key=True)
    history_since_id: int | None = Field(default=None, sa_type=BigInteger)
    backfill_done: bool = False
    backfill_cursor: dict[str, Any] | None = Field(default=None, sa_column=json_column())
    backfill_started_at: NaiveDatetime | None = None
    backfill_finished_at: NaiveDatetime | None = None
    last_success_at: NaiveDatetime | None = None
    last_error: str | None = None
    last_error_at: NaiveDatetime | None = None
    records_applied: int = Field(default=0, sa_type=BigInteger)


class StoreMeta(SQLModel, table=True):
    """Facts about the whole store: one row, id = 1."""

    __tablename__ = "store_meta"

    id: int = Field(default=1, primary_key=True)
    data_version: int = Field(default=0, sa_type=BigInteger)
    timezone: str | None = None
    currency: str | None = None
    reference_refreshed_at: NaiveDatetime | None = None
    last_sync_at: NaiveDatetime | None = None


class SyncRun(SQLModel, table=True):
    """One sync cycle, for the health page: what it did and how it ended."""

    __tablename__ = "sync_runs"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    started_at: NaiveDatetime = Field(index=True)
    finished_at: NaiveDatetime | None = None
    status: str = "running"
    pages: int = 0
    api_requests: int = 0
    orders_upserted: int = 0
    customers_upserted: int = 0
    history_records: int = 0
    error: str | None = None
