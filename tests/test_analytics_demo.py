"""The demo dataset (emulator, scale 1.0) synced by the real sync engine: the user-measured facts.

November 2024 = 1,163 and November 2025 = 1,447 orders (+284, +24.4 %), whatever the machine's time
zone. The dataset is synced once per database for the whole session; it ends on 2026-01-01 (about 22k
orders instead of ~40k up to today: the Novembers are the same, the sync takes half the time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from core.analytics import Analytics
from core.db import init_db, make_engine
from core.sync import run_cycle
from retailcrm_emulator import Account, generate
from tests.conftest import new_database_url
from tests.support.emulator import emulator_transport, sync_settings

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Demo:
    url: str
    account: Account
    analytics: Analytics

    def sync(self) -> None:
        result = run_cycle(sync_settings(self.url), transport=emulator_transport(self.account),
                           engine=self.analytics.engine)
        assert result.status == "ok"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    urls = new_database_url(request.param, tmp_path_factory.mktemp("demo"))
    url = next(urls)
    engine = make_engine(url)
    init_db(engine)
    store = Demo(url, generate(end=date(2026, 1, 1)), Analytics(engine, sync_settings(url)))
    store.sync()
    yield store
    engine.dispose()
    next(urls, None)


def test_the_user_measured_novembers(demo: Demo) -> None:
    assert demo.analytics.count_orders("2025-11").count == 1447
    assert demo.analytics.count_orders("2024-11").count == 1163
    answer = demo.analytics.compare_periods("2024-11", "2025-11")
    assert (answer.a.count, answer.b.count, answer.delta, answer.delta_pct) == (1163, 1447, 284, 24.4)
    assert answer.source == "store" and answer.period_a.timezone == "Europe/Moscow"


def test_breakdowns_and_series_add_up_on_the_demo_data(demo: Demo) -> None:
    for by in ("status_group", "city", "manager", "custom:registration_method"):
        rows = demo.analytics.breakdown("2025-11", by, top_n=100).rows
        assert sum(row.count for row in rows) == 1447
    series = demo.analytics.orders_timeseries("2024-11..2025-11", "month")
    assert (series.points[0].count, series.points[-1].count, len(series.points)) == (1163, 1447, 13)


def test_a_synced_change_shows_at_once_despite_the_cache(demo: Demo) -> None:
    before = demo.analytics.count_orders("2025-11").count
    assert demo.analytics.count_orders("2025-11").count == before  # now cached
    order_id = demo.account.create_order(created_at="2025-11-15 12:00:00", city="Москва")
    demo.sync()
    assert demo.analytics.count_orders("2025-11").count == before + 1
    demo.account.delete_order(order_id)
    demo.sync()
    assert demo.analytics.count_orders("2025-11").count == before


_ANSWERS_SCRIPT = """
import json
from datetime import datetime, timezone
from core.analytics import Analytics
from core.db import make_engine
from core.periods import local_now
from tests.support.emulator import sync_settings
url = {url!r}
analytics = Analytics(make_engine(url), sync_settings(url), now=lambda: datetime(2025, 12, 1, 0, 30, tzinfo=timezone.utc))
clock_gap = abs((local_now("Europe/Moscow") - datetime.now(timezone.utc).replace(tzinfo=None)).total_seconds() - 3 * 3600)
print(json.dumps({{
    "count": analytics.count_orders("2025-11").count,
    "compare": analytics.compare_periods("2024-11", "2025-11").model_dump(mode="json", include={{"delta", "delta_pct"}}),
    "last_month": analytics.count_orders("last_month").model_dump(mode="json", include={{"count", "period"}}),
    "days": [p.count for p in analytics.orders_timeseries("2025-11-28..2025-12-01", "day").points],
    "moscow_now_is_utc_plus_3": clock_gap < 60,
}}))
"""


def test_answers_do_not_depend_on_the_machine_time_zone(demo: Demo) -> None:
    processes = {
        zone: subprocess.Popen([sys.executable, "-c", _ANSWERS_SCRIPT.format(url=demo.url)], cwd=ROOT,
                               env={**os.environ, "TZ": zone, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        for zone in ("UTC", "America/New_York", "Asia/Vladivostok")
    }
    answers = {}
    for zone, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        answers[zone] = json.loads(out.strip().splitlines()[-1])
    first = answers["UTC"]
    assert all(answer == first for answer in answers.values()), answers
    assert first["count"] == 1447 and first["compare"] == {"delta": 284, "delta_pct": 24.4}
    # 2025-12-01 00:30 UTC is 03:30 in Moscow: "last_month" is November there (in New York it would still be October).
    assert first["last_month"]["count"] == 1447 and first["last_month"]["period"]["start"] == "2025-11-01T00:00:00"
    assert first["moscow_now_is_utc_plus_3"] is True
