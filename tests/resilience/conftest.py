"""Fixtures of the resilience suite and its closing summary line.

Each scenario counts what it injected and compared in `tests.support.resilience.TOTALS`; the summary
line "resilience: scenarios run N, faults injected N, orders compared N, mismatches 0" is printed at
the end of any run that ran at least one scenario.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from core.db import init_db, make_engine
from tests.support.resilience import TOTALS


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if TOTALS.scenarios:
        terminalreporter.write_sep("-", "resilience totals")
        terminalreporter.write_line(TOTALS.summary())


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    """An engine on the new store of `database_url` (SQLite and PostgreSQL), schema created."""
    engine = make_engine(database_url)
    init_db(engine)
    yield engine
    engine.dispose()
