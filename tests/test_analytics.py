"""The analytics core on a small hand-made store (tests/support/sample_orders.py), SQLite and PostgreSQL.

Every expected figure below can be checked by reading the sample's order list.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import Engine, create_engine

from core.analytics import Analytics, FilterError, NotSyncedError
from core.config import load_settings
from core.db import init_db, make_engine, session_for
from core.models import Order, SyncState
from core.store import bump_data_version, mark_removed, refresh_order_days
from core.sync_windows import BackfillCursor
from tests.conftest import new_database_url
from tests.support.sample_orders import NOW, SYNCED_AT_UTC, load_sample
from tests.support.store_loader import mark_synced, write_orders


def analytics_for(engine: Engine, **env: str) -> Analytics:
    """Analytics over `engine` with settings from `env` only, and "now" fixed at the sample's NOW."""
    return Analytics(engine, load_settings(env, dotenv=False), now=lambda: NOW)


@pytest.fixture
def sample(engine: Engine) -> Engine:
    """A sample store of its own, for tests that change it."""
    load_sample(engine)
    return engine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_sample(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One sample store per database for the tests that only read it."""
    urls = new_database_url(request.param, tmp_path_factory.mktemp("sample"))
    engine = make_engine(next(urls))
    init_db(engine)
    load_sample(engine)
    yield engine
    engine.dispose()
    next(urls, None)


@pytest.fixture
def analytics(shared_sample: Engine) -> Analytics:
    return analytics_for(shared_sample)


def test_count_echoes_the_period_freshness_and_source(analytics: Analytics) -> None:
    answer = analytics.count_orders("2025-11")
    assert (answer.count, answer.revenue, answer.currency) == (4, "1330.99", "RUB")
    assert (answer.period.start, answer.period.end) == (datetime(2025, 11, 1), datetime(2025, 12, 1))
    assert answer.period.timezone == "Europe/Moscow"
    assert answer.source == "store"
    assert answer.data_as_of is not None and answer.data_as_of.isoformat() == "2025-12-10T13:00:00+03:00"
    assert answer.filters == {}


def test_month_boundaries_are_local_to_the_second(analytics: Analytics) -> None:
    assert analytics.count_orders("2024-11").count == 2  # includes 2024-11-30 23:59:59
    assert analytics.count_orders("2024-12").count == 1  # 2024-12-01 00:00:00
    assert analytics.count_orders("2024-11-30").count == 1
    assert analytics.count_orders("2024-11..2025-11").count == 7


def test_deleted_orders_never_count(analytics: Analytics) -> None:
    assert analytics.count_orders("2025-11-15").count == 0  # order 9 was deleted


@pytest.mark.parametrize(
    ("period", "filters", "expected"),
    [
        ("2025-11", {"cities": ["москва"]}, 2),
        ("2025-11", {"cities": [" МОСКВА "]}, 2),
        ("2025-11", {"managers": ["5"]}, 2),
        ("2025-11", {"managers": [5, 9]}, 3),
        ("2025-11", {"status_groups": ["new", "delivery"]}, 2),
        ("2025-11", {"statuses": ["new"], "status_groups": ["complete"]}, 0),
        ("2025-11", {"statuses": "complete"}, 1),
        ("2025", {"utm_sources": ["yandex"]}, 1),
        ("2025", {"sites": ["second-store"]}, 1),
        ("2025", {"order_methods": ["shopping-cart"], "managers": ["5"]}, 1),
        ("2024", {"order_types": ["eshop-legal"]}, 1),
        ("2024-11", {"custom_fields": {"interests": "home"}}, 2),
        ("2024-11", {"custom_fields": {"interests": ["electronics", "books"]}}, 1),
        ("2024-11..2025-11", {"custom_fields": {"interests": "*"}}, 3),
        ("2024-11..2025-11", {"custom_fields": {"registration_method": "*", "interests": "*"}}, 1),
        ("2025-11", {"custom_fields": {"registration_method": "phone"}, "cities": ["Казань"]}, 1),
        ("2024-11..2025-11", {"custom_fields": {"gift_wrap": "true"}}, 1),
    ],
)
def test_filters_combine_with_and_and_alternatives_with_or(analytics: Analytics, period: str, filters: dict,
                                                            expected: int) -> None:
    answer = analytics.count_orders(period, filters)
    assert answer.count == expected
    assert answer.filters  # echoed


def test_compare_gives_counts_revenue_and_deltas(analytics: Analytics) -> None:
    answer = analytics.compare_periods("2024-11", "2025-11")
    assert (answer.a.count, answer.b.count, answer.delta, answer.delta_pct) == (2, 4, 2, 100.0)
    assert (answer.a.revenue, answer.b.revenue, answer.revenue_delta) == ("300.10", "1330.99", "1030.89")
    assert answer.revenue_delta_pct == 343.5
    assert not answer.in_progress and answer.elapsed is None


def test_compare_with_a_running_period_adds_the_same_elapsed_time(analytics: Analytics) -> None:
    # now = 2025-12-10 14:00 local, last sync 13:00: 9 days 13 hours of December are known.
    answer = analytics.compare_periods("2025-11", "this_month")
    assert (answer.a.count, answer.b.count) == (4, 1)
    assert answer.in_progress
    elapsed = answer.elapsed
    assert elapsed is not None and elapsed.elapsed_days == 9.54
    assert elapsed.period_a.end == datetime(2025, 11, 10, 13, 0)
    assert elapsed.period_b.end == datetime(2025, 12, 10, 13, 0)
    assert (elapsed.a.count, elapsed.b.count, elapsed.delta, elapsed.delta_pct) == (2, 1, -1, -50.0)
    assert analytics.compare_periods("2025-11", "this_month", full_period=True).elapsed is None


def test_the_elapsed_cut_has_revenue_changes_and_applies_to_the_rows_too(analytics: Analytics) -> None:
    # Up to the 10th, 13:00: November has orders 4 (10.00) and 5 (300.00), December order 8 (5.00).
    answer = analytics.compare_periods("2025-11", "this_month", by="site")
    elapsed = answer.elapsed
    assert elapsed is not None and (elapsed.a.revenue, elapsed.b.revenue) == ("310.00", "5.00")
    assert (elapsed.revenue_delta, elapsed.revenue_delta_pct) == ("-305.00", -98.4)
    rows = {row.key: (row.a, row.b, row.elapsed.a, row.elapsed.b, row.elapsed.delta, row.elapsed.delta_pct)
            for row in answer.rows or [] if row.elapsed is not None}
    assert rows == {"main-store": (3, 1, 2, 1, -1, -50.0), "second-store": (1, 0, 0, 0, 0, None)}
    assert len(answer.rows or []) == 2
    whole = analytics.compare_periods("2025-11", "this_month", by="site", full_period=True)
    assert [(row.a, row.b, row.elapsed) for row in whole.rows or []] == [(3, 1, None), (1, 0, None)]


def test_the_elapsed_cut_never_reaches_past_the_end_of_a_shorter_period(analytics: Analytics) -> None:
    answer = analytics.compare_periods("2024-11", "this_year", by="site")  # 2025 is 343 days old
    assert answer.elapsed is not None and answer.elapsed.period_a.end == datetime(2024, 12, 1)
    assert (answer.elapsed.a.count, answer.elapsed.a.revenue) == (2, "300.10")  # not order 3 of 2024-12-01
    assert sum(row.elapsed.a for row in answer.rows or [] if row.elapsed is not None) == 2


def test_compare_by_dimension_and_cumulative_series(analytics: Analytics) -> None:
    answer = analytics.compare_periods("2024-11", "2025-11", by="status_group", cumulative=True)
    rows = {row.key: (row.label, row.a, row.b, row.delta_pct) for row in answer.rows or []}
    assert rows == {"new": ("Новый", 1, 1, 0.0), "complete": ("Выполнен", 1, 1, 0.0),
                    "cancel": ("Отменен", 0, 1, None), "delivery": ("Доставка", 0, 1, None)}
    points = answer.cumulative or []
    assert len(points) == 30
    assert (points[4].date_a, points[4].a, points[4].date_b, points[4].b) == (date(2024, 11, 5), 1, date(2025, 11, 5), 1)
    assert (points[9].a, points[9].b) == (1, 3)
    assert (points[-1].a, points[-1].b) == (2, 4)
    running = analytics.compare_periods("last_month", "this_month", cumulative=True).cumulative or []
    assert [(p.day_index, p.b) for p in running[8:11]] == [(9, 1), (10, 1), (11, None)]  # no future days
    assert running[-1].date_b == date(2025, 12, 31) and running[-1].date_a is None  # November has 30 days


def test_timeseries_has_every_bucket(analytics: Analytics) -> None:
    weekly = analytics.orders_timeseries("2025-11", "week")
    assert [(p.bucket, p.count) for p in weekly.points] == [
        (date(2025, 11, 1), 0), (date(2025, 11, 3), 1), (date(2025, 11, 10), 2), (date(2025, 11, 17), 1),
        (date(2025, 11, 24), 0)]
    monthly = analytics.orders_timeseries("2024-11..2025-11", "month")
    assert len(monthly.points) == 13 and monthly.total == 7
    assert [monthly.points[i].count for i in (0, 1, 2, 12)] == [2, 1, 0, 4]
    assert monthly.points[0].revenue == "300.10"
    daily = analytics.orders_timeseries("2025-11", "day")
    assert len(daily.points) == 30 and sum(p.count for p in daily.points) == 4


def test_timeseries_split_by_a_dimension(analytics: Analytics) -> None:
    answer = analytics.orders_timeseries("2025-11", "month", split_by="site")
    series = {s.key: (s.label, [p.count for p in s.points]) for s in answer.series or []}
    assert series == {"main-store": ("Основной магазин", [3]), "second-store": ("Второй магазин", [1])}
    assert answer.total == 4


def test_breakdown_rows_labels_top_n_and_other(analytics: Analytics) -> None:
    answer = analytics.breakdown("2025-11", "city", top_n=2)
    assert [(r.key, r.label, r.count, r.share) for r in answer.rows] == [
        ("москва", "Москва", 2, 50.0), ("", "(not set)", 1, 25.0), ("__other__", "Other (1 more)", 1, 25.0)]
    assert (answer.total, answer.total_groups, answer.truncated) == (4, 3, True)
    assert answer.total_revenue == "1330.99"
    managers = analytics.breakdown("2025-11", "manager")
    assert [(r.label, r.count) for r in managers.rows] == [("Manager #5", 2), ("(not set)", 1), ("Manager #9", 1)]
    assert sum(r.count for r in managers.rows) == managers.total and not managers.truncated


def test_breakdown_then_by(analytics: Analytics) -> None:
    answer = analytics.breakdown("2024-11..2025-11", "site", then_by="status_group")
    main = next(row for row in answer.rows if row.key == "main-store")
    assert main.count == 5
    assert {(c.key, c.count) for c in main.children or []} == {("new", 1), ("complete", 2), ("cancel", 1),
                                                               ("delivery", 1)}


def test_custom_field_dimensions_label_dictionaries_and_count_multiselect_values_each(analytics: Analytics) -> None:
    interests = analytics.breakdown("2024-11..2025-11", "custom:interests")
    assert [(r.key, r.label, r.count) for r in interests.rows] == [
        ("", "(not set)", 4), ("home", "Дом и сад", 2), ("books", "Книги и канцелярия", 1),
        ("electronics", "Электроника", 1)]
    assert interests.multi_valued and interests.total == 7  # rows sum to 8: order 1 has two interests
    registration = analytics.breakdown("2024-11..2025-11", "custom:registration_method")
    assert [(r.label, r.count) for r in registration.rows] == [
        ("(not set)", 5), ("По звонку", 1), ("Регистрация на сайте", 1)]
    assert not registration.multi_valued and sum(r.count for r in registration.rows) == registration.total
    gift = analytics.breakdown("2024", "custom:gift_wrap")
    assert [(r.label, r.count) for r in gift.rows] == [("(not set)", 2), ("Yes", 1)]


def test_find_orders_gives_facts_never_contact_details(analytics: Analytics) -> None:
    answer = analytics.find_orders("2025-11")
    assert answer.total == 4 and [r.id for r in answer.rows] == [7, 6, 5, 4]
    first = answer.rows[0]
    assert (first.status_label, first.site_label, first.manager, first.city, first.total) == (
        "Выполнен", "Основной магазин", "Manager #5", "Москва", "1000.99")
    text = answer.model_dump_json()
    for secret in ("Иван", "+7999", "ivan@example.com", "Ленина"):
        assert secret not in text
    assert [r.id for r in analytics.find_orders("2025-11", limit=2, offset=1).rows] == [6, 5]
    assert [r.id for r in analytics.find_orders(number="500A").rows] == [5]
    books = analytics.find_orders(filters={"custom_fields": {"interests": "books"}})
    assert (books.total, [r.id for r in books.rows]) == (1, [6])
    with pytest.raises(ValueError, match="limit"):
        analytics.find_orders(limit=0)


def test_list_dimensions_shows_reference_codes_and_stored_values(analytics: Analytics) -> None:
    dimensions = {d.name: d for d in analytics.list_dimensions().dimensions}
    statuses = {v.key: (v.label, v.count) for v in dimensions["status"].values}
    assert statuses["complete"] == ("Выполнен", 3) and statuses["return"] == ("Возврат", 0)
    cities = {v.key: (v.label, v.count) for v in dimensions["city"].values}
    assert cities == {"москва": ("Москва", 4), "казань": ("Казань", 2), "санкт-петербург": ("Санкт-Петербург", 1),
                      "": ("(not set)", 1)}
    interests = {v.key: (v.label, v.count) for v in dimensions["custom:interests"].values}
    assert interests["sport"] == ("Спорт и отдых", 0) and interests["home"] == ("Дом и сад", 2)
    assert dimensions["custom:interests"].filter == "custom_fields.interests"
    assert "custom:adress_client" not in dimensions  # free text: not offered (personal, unbounded)
    assert dimensions["manager"].filter == "managers"


def test_sync_status(analytics: Analytics) -> None:
    status = analytics.sync_status()
    assert (status.orders_stored, status.customers_stored) == (8, 3)
    assert (status.earliest_order, status.latest_order) == (datetime(2024, 11, 5, 10), datetime(2025, 12, 2, 10))
    assert status.last_sync_at_utc == SYNCED_AT_UTC and status.lag_seconds == 3600.0
    assert {s.stream for s in status.streams} == {"orders", "customers"}


def test_new_customers_by_site_only(analytics: Analytics) -> None:
    assert analytics.count_new_customers("2025-11").count == 2
    assert analytics.count_new_customers("2025-11", {"sites": ["main-store"]}).count == 1
    with pytest.raises(FilterError, match="sites only"):
        analytics.count_new_customers("2025-11", {"statuses": ["new"]})


def test_a_committed_order_changes_the_answer_at_once(sample: Engine) -> None:
    analytics = analytics_for(sample)
    assert analytics.count_orders("2025-11").count == 4
    new_order = {"id": 100, "createdAt": "2025-11-25 10:00:00", "status": "new", "totalSumm": 1}
    write_orders(sample, [new_order], bump=False)
    assert analytics.count_orders("2025-11").count == 4  # same data version: the cached answer stands
    write_orders(sample, [dict(new_order, id=101)], bump=True)
    assert analytics.count_orders("2025-11").count == 6
    assert analytics.count_orders("2025-11").revenue == "1332.99"


def test_unknown_codes_are_errors_naming_the_valid_ones(analytics: Analytics) -> None:
    with pytest.raises(FilterError) as error:
        analytics.count_orders("2025-11", {"statuses": ["complet"]})
    assert "`complet`" in str(error.value) and "complete (Выполнен)" in str(error.value)
    assert "did you mean complete" in str(error.value)
    with pytest.raises(FilterError, match="did you mean complete \\(Выполнен\\) for `Выполнено`"):
        analytics.count_orders("2025-11", {"statuses": ["Выполнено"]})  # a label close to a label: its code is offered
    with pytest.raises(FilterError, match="казань"):
        analytics.count_orders("2025-11", {"cities": ["Казан"]})
    with pytest.raises(FilterError, match="not a dimension"):
        analytics.breakdown("2025-11", "colour")
    with pytest.raises(FilterError, match="interests"):
        analytics.breakdown("2025-11", "custom:hobbies")
    with pytest.raises(FilterError, match="sport \\(Спорт и отдых\\)"):
        analytics.count_orders("2025-11", {"custom_fields": {"interests": "sports"}})
    with pytest.raises(FilterError, match="status_groups: unknown `done`"):
        analytics.count_orders("2025-11", {"status_groups": ["done"]})
    with pytest.raises(FilterError, match="managers: unknown `6`"):
        analytics.count_orders("2025-11", {"managers": ["6"]})


def test_periods_outside_the_store_are_refused_without_an_api(sample: Engine) -> None:
    limited = analytics_for(sample, SYNC_START_DATE="2025-01-01")
    assert limited.count_orders("2025-11").count == 4
    with pytest.raises(NotSyncedError) as error:
        limited.count_orders("2024-11")
    assert "SYNC_START_DATE 2025-01-01" in str(error.value) and "RETAILCRM_URL" in str(error.value)
    two_days_later = Analytics(sample, load_settings({}, dotenv=False),
                               now=lambda: datetime(2025, 12, 12, 9, 0, tzinfo=timezone.utc))
    with pytest.raises(NotSyncedError, match="after the last sync"):
        two_days_later.count_orders("2025-12-11")  # started after the last sync (12-10 13:00), before now
    with pytest.raises(NotSyncedError, match="needs the synced store"):
        limited.breakdown("2024", "status")


def test_a_period_that_has_not_started_is_zero_from_the_store_and_says_so(sample: Engine) -> None:
    analytics = analytics_for(sample)  # no API: a gap would raise NotSyncedError
    future = analytics.count_orders("2026-01")
    assert (future.count, future.revenue, future.source) == (0, "0.00", "store")
    assert "2026-01 has not started yet" in future.source_detail
    assert analytics.breakdown("2030", "status").total == 0
    assert analytics.count_new_customers("2030").count == 0
    compared = analytics.compare_periods("2025-01", "2026-01")
    assert (compared.b.count, compared.source) == (0, "store") and "2026-01 has not started" in compared.source_detail
    # A period running into the future counts what exists, and is not said to lie ahead.
    running = analytics.count_orders("2025-12..2026-01")
    assert running.count == analytics.count_orders("2025-12").count == 1
    assert "has not started" not in running.source_detail


def test_a_store_never_synced_answers_nothing(engine: Engine) -> None:
    write_orders(engine, [{"id": 1, "createdAt": "2025-11-02 10:00:00", "status": "new"}])
    with pytest.raises(NotSyncedError, match="nothing has been synced"):
        analytics_for(engine).count_orders("2025-11")


def test_while_the_backfill_runs_only_finished_windows_are_answered(sample: Engine) -> None:
    mark_synced(sample, at=SYNCED_AT_UTC, backfill_done=False)
    cursor = BackfillCursor(first="2024-11-01", open_from="2025-12-01", head=False, window=12, page=3)
    with session_for(sample) as session:
        state = session.get(SyncState, "orders")
        assert state is not None
        state.backfill_cursor = cursor.to_json()
        session.commit()
    analytics = analytics_for(sample)
    assert analytics.count_orders("2025-10").count == 0  # window 11 (October 2025) is finished
    with pytest.raises(NotSyncedError, match="backfill"):
        analytics.count_orders("2025-11")  # window 12 is still being paged


def test_moved_and_deleted_orders_update_every_month_they_touch(sample: Engine) -> None:
    analytics = analytics_for(sample)
    assert (analytics.count_orders("2024-11").count, analytics.count_orders("2025-11").count) == (2, 4)
    moved = {"id": 7, "createdAt": "2024-11-20 08:00:00", "status": "complete", "totalSumm": 1000.99}
    write_orders(sample, [moved], bump=False)
    with session_for(sample) as session:
        refresh_order_days(session, mark_removed(session, Order, [4]))
        bump_data_version(session)
        session.commit()
    assert (analytics.count_orders("2024-11").count, analytics.count_orders("2025-11").count) == (3, 2)
    assert analytics.breakdown("2024-11", "status").total == 3


def test_threads_asking_while_a_writer_commits_see_consistent_growing_answers(sample: Engine) -> None:
    analytics = analytics_for(sample)
    seen: list[list[int]] = [[] for _ in range(6)]
    done = threading.Event()

    def ask(index: int) -> None:
        questions = [lambda: analytics.count_orders("2025-11").count,
                     lambda: analytics.breakdown("2025-11", "custom:interests").total,
                     lambda: sum(p.count for p in analytics.orders_timeseries("2025-11", "day").points)]
        while not done.is_set():
            seen[index].append(questions[index % 3]())

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for number in range(10):
        write_orders(sample, [{"id": 200 + number, "createdAt": f"2025-11-{number + 1:02d} 10:00:00", "status": "new",
                               "customFields": {"interests": ["home"]}}])
    done.set()
    for thread in threads:
        thread.join()
    for answers in seen:
        assert answers and answers == sorted(answers) and set(answers) <= set(range(4, 15))
    assert analytics.count_orders("2025-11").count == 14
    assert analytics.breakdown("2025-11", "custom:interests").total == 14


def test_questions_never_hold_one_pooled_connection_while_asking_for_another(database_url: str) -> None:
    """A pool of one connection answers every question, cold and after a commit: a thread holding a connection
    while the in-memory copy loads would, with many threads waiting, leave the loading thread no connection."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=3)
    init_db(engine)
    load_sample(engine)
    analytics = analytics_for(engine)

    def ask_everything() -> None:
        analytics.count_orders("2025-11")
        analytics.count_orders("2025", {"custom_fields": {"interests": "*"}})
        analytics.compare_periods("2024-11", "2025-11", by="status_group", cumulative=True)
        analytics.orders_timeseries("2025", "day", split_by="site")
        analytics.breakdown("2025-11", "custom:interests")
        analytics.count_new_customers("2025")
        analytics.find_orders("2025-11")
        analytics.list_dimensions()
        analytics.sync_status()

    try:
        ask_everything()
        with session_for(engine) as session:
            refresh_order_days(session, [date(2025, 11, 3)])
            bump_data_version(session)
            session.commit()
        ask_everything()
    finally:
        engine.dispose()
