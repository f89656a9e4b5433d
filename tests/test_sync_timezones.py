"""Account-local times are stored as given: the machine's TZ never moves an order to another day or month."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import text

from core.db import make_engine
from tests.support.daemon import daemon_env
from tests.support.emulator import ROOT


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Vladivostok"])
def test_a_month_boundary_stays_put_whatever_the_machine_zone(database_url, zone: str) -> None:  # type: ignore[no-untyped-def]
    env = daemon_env(database_url, None, TZ=zone)
    probe = subprocess.run([sys.executable, "-m", "tests.support.tz_probe", database_url], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout.splitlines()[-1])

    assert report["machine_zone"] != "" and (zone == "UTC") == (report["machine_zone"] == "UTC")
    assert report["created_at"] == ["2024-11-30 23:59:59", "2024-12-01 00:00:00"]
    assert report["created_date"] == ["2024-11-30", "2024-12-01"]
    assert report["daily_order_stats"] == [["2024-11-30", 1], ["2024-12-01", 1]]
    engine = make_engine(database_url)
    with engine.connect() as connection:
        months = connection.execute(text(
            "select count(*) from orders where created_date >= '2024-11-01' and created_date < '2024-12-01'"
        )).scalar_one()
    engine.dispose()
    assert months == 1
