"""The benchmark machinery at toy scale (`--quick`), on SQLite and PostgreSQL, so it cannot rot.

One run of every section; it checks that each reports tables and that every measured time, rate, size and
memory figure is a positive number (counts such as errors or API requests may be zero).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bench.options import QUICK, SECTIONS, Options
from bench.run import RUNNERS, run_benchmark
from tests.conftest import TEST_DATABASE_URL, require_postgres

POSITIVE_UNITS = ("_ms", "_s", "_mb", "_per_s", "_bytes", "_fraction")


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every number in nested metrics."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_quick_benchmark_reports_every_section(tmp_path) -> None:  # type: ignore[no-untyped-def]
    require_postgres()
    options = Options(profile=QUICK, sizes=QUICK.sizes, postgres_url=TEST_DATABASE_URL, data_dir=tmp_path / "data",
                      results_dir=tmp_path / "results", schema_prefix=f"bs_{uuid.uuid4().hex[:8]}",
                      drop_postgres=True, command="pytest smoke")

    report = run_benchmark(options)

    assert [section.name for section in report.sections] == list(SECTIONS)
    for section in report.sections:
        assert section.error is None, f"{section.name}: {section.error}"
        assert section.tables and all(table.rows for table in section.tables), section.name
        numbers = list(leaves(section.metrics))
        assert numbers, f"{section.name} reported no numbers"
        for path, value in numbers:
            assert math.isfinite(value) and value >= 0, f"{section.name}.{path} = {value}"
            if path.endswith(POSITIVE_UNITS):
                assert value > 0, f"{section.name}.{path} = {value}"
    assert {"sqlite", "postgresql"} <= {key.split("_")[0] for key in report.sections[1].metrics["core"]}
    written = json.loads((tmp_path / "results" / "results.json").read_text())
    assert [section["name"] for section in written["sections"]] == list(SECTIONS)
    markdown = (tmp_path / "results" / "results.md").read_text()
    for title, _ in RUNNERS.values():
        assert f"### {title}" in markdown
    assert "### Targets" in markdown and "| verdict |" in markdown


def test_readme_performance_section_is_replaced_between_the_markers_only() -> None:
    from scripts.render_readme import END, START, render

    readme = "# Title\n\nIntro.\n"
    first = render(readme, "| a |\n")
    assert first.startswith(readme.rstrip()) and "## Performance" in first
    assert first.count(START) == 1 and first.index(START) < first.index("| a |") < first.index(END)

    edited = first.replace("Intro.", "Intro, edited by hand.") + "\n## After\n\nkept\n"
    second = render(edited, "| b |\n")
    assert "| a |" not in second and "| b |" in second
    assert "Intro, edited by hand." in second and second.endswith("## After\n\nkept\n")
    assert second.count("## Performance") == 1
