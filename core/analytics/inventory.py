"""What is in the store: dimension values with counts, new customers, and sync health."""

from __future__ import annotations

from collections import Counter

import polars as pl
from sqlalchemy import func, select

from core.analytics import answers as a
from core.analytics.context import Context
from core.analytics.cube import custom_column
from core.analytics.dimensions import STATS_COLUMNS
from core.analytics.reader import FactReader
from core.filters import DIMENSIONS, FILTER_DIMENSIONS, FilterError, Filters
from core.models import DailyCustomerStat, Order, SyncRun, SyncState

_FILTER_OF = {dimension: name for name, dimension in FILTER_DIMENSIONS.items()}
_REFERENCE_KINDS = ("status", "status_group", "order_type", "order_method", "site")
RECENT_RUNS = 10


def list_dimensions(reader: FactReader, context: Context) -> a.DimensionsAnswer:
    """Every dimension with its values (reference codes and values found in the store), labels and counts."""
    found = _counts_by_column(reader.stats_value_counts(context))
    dimensions = []
    for dimension in DIMENSIONS:
        counts: Counter[str] = Counter()
        for key, orders in found.get(STATS_COLUMNS[dimension], {}).items():
            counts[context.catalogue.status_group_of.get(key, "") if dimension == "status_group" else key] += orders
        if dimension in _REFERENCE_KINDS:
            for code in context.catalogue.reference_codes(dimension):
                counts.setdefault(code, 0)
        dimensions.append(_info(context, dimension, _FILTER_OF[dimension], counts))
    dimensions += _custom_dimensions(reader, context)
    return a.DimensionsAnswer(dimensions=dimensions, **context.stamp(Filters(), "store", context.store_detail()))


def _custom_dimensions(reader: FactReader, context: Context) -> list[a.DimensionInfo]:
    """Custom fields with a closed set of values (dictionaries, booleans); free text (e.g. an address typed into
    a field) is not offered as a dimension: its values may be personal and are too many to group by."""
    found = _counts_by_column(reader.custom_value_counts(context))
    infos = []
    for code in context.catalogue.enumerable_custom_fields():
        counts: Counter[str] = Counter(found.get(custom_column(code), {}))
        dictionary = context.catalogue.custom_fields[code].dictionary
        for element in context.catalogue.reference_codes(f"dictionary:{dictionary}") if dictionary else {}:
            counts.setdefault(element, 0)
        infos.append(_info(context, f"custom:{code}", f"custom_fields.{code}", counts))
    return sorted(infos, key=lambda info: info.name)


def _counts_by_column(counts: pl.DataFrame) -> dict[str, dict[str, int]]:
    """`cube.value_counts` rows as {column: {value: orders}}."""
    by_column: dict[str, dict[str, int]] = {}
    for column, value, orders in counts.select("column", "value", "orders").iter_rows():
        by_column.setdefault(column, {})[value] = orders
    return by_column


def _info(context: Context, dimension: str, filter_name: str, counts: Counter[str]) -> a.DimensionInfo:
    values = [a.DimensionValue(key=key, label=context.catalogue.label(dimension, key), count=count)
              for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return a.DimensionInfo(name=dimension, label=context.catalogue.dimension_label(dimension), filter=filter_name,
                           values=values)


def count_new_customers(reader: FactReader, context: Context, text: str, filters: Filters) -> a.NewCustomersAnswer:
    """Customers registered in the period, optionally on some sites only."""
    other = sorted(set(filters.applied()) - {"sites"})
    if other:
        raise FilterError(f"new customers can be filtered by sites only, not by {', '.join(other)}")
    period = context.period(text)
    scope = context.catalogue.resolve(filters)
    reader.require_store(context, period.start, period.end, "counting new customers")
    statement = select(func.coalesce(func.sum(DailyCustomerStat.customers), 0)).where(
        DailyCustomerStat.day >= period.first_day, DailyCustomerStat.day <= period.last_day)
    if "site" in scope.columns:
        statement = statement.where(DailyCustomerStat.site.in_(sorted(scope.columns["site"])))
    with reader.engine.connect() as connection:
        count = int(connection.execute(statement).scalar_one())
    return a.NewCustomersAnswer(period=a.PeriodInfo.of(period), count=count,
                                **context.stamp(filters, "store", context.store_detail()))


def sync_status(reader: FactReader, context: Context) -> a.SyncStatusAnswer:
    """Store health: freshness, sizes, order time range, stream cursors, errors and recent runs."""
    live_orders = Order.is_deleted.is_(False)
    orders = reader.stored_orders(context)
    with reader.engine.connect() as connection:
        earliest = connection.execute(select(func.min(Order.created_at)).where(live_orders)).scalar()
        latest = connection.execute(select(func.max(Order.created_at)).where(live_orders)).scalar()
        customers = connection.execute(select(func.coalesce(func.sum(DailyCustomerStat.customers), 0))).scalar_one()
        streams = [a.StreamStatus(stream=s.stream, backfill_done=bool(s.backfill_done),
                                  history_since_id=s.history_since_id, last_success_at=s.last_success_at,
                                  last_error=s.last_error, last_error_at=s.last_error_at,
                                  records_applied=s.records_applied or 0)
                   for s in connection.execute(select(SyncState).order_by(SyncState.stream)).all()]
        runs = [a.SyncRunInfo(kind=r.kind, started_at=r.started_at, finished_at=r.finished_at, status=r.status,
                              pages=r.pages, orders_upserted=r.orders_upserted,
                              customers_upserted=r.customers_upserted, history_records=r.history_records,
                              api_requests=r.api_requests, error=r.error)
                for r in connection.execute(
                    select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(RECENT_RUNS)).all()]
    errors = [(s.last_error_at, s.last_error) for s in streams if s.last_error and s.last_error_at]
    return a.SyncStatusAnswer(
        data_as_of=context.state.data_as_of(), last_sync_at_utc=context.state.last_sync_at, lag_seconds=None,
        timezone=context.state.timezone, currency=context.state.currency, data_version=context.state.data_version,
        orders_stored=orders, customers_stored=int(customers), earliest_order=earliest, latest_order=latest,
        streams=streams, last_error=max(errors)[1] if errors else None, recent_runs=runs,
    )
