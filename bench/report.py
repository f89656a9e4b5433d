"""What a benchmark run produces: tables to print, targets met or missed, raw numbers; JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Table:
    """One table of formatted cells; `notes` are printed under it."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        """Append a row (cells are shown with `str`)."""
        self.rows.append([str(cell) for cell in cells])


@dataclass
class Check:
    """A target from the brief and how this run did against it."""

    target: str
    measured: str
    met: bool
    note: str = ""


@dataclass
class SectionResult:
    """The outcome of one section: its tables, its checks and its raw numbers (`metrics`).

    Metric names end with their unit (`_ms`, `_s`, `_mb`, `_per_s`, `_bytes`, `_fraction`) or are counts.
    """

    name: str
    title: str
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


@dataclass
class Report:
    """A whole run: when, where, with which options, and every section's result."""

    date: str
    machine: dict[str, Any]
    options: dict[str, Any]
    sections: list[SectionResult] = field(default_factory=list)
    seconds: float = 0.0

    def checks(self) -> list[tuple[str, Check]]:
        """Every check with the name of its section."""
        return [(section.name, check) for section in self.sections for check in section.checks]

    def to_json(self) -> dict[str, Any]:
        """Everything, as plain JSON values."""
        return asdict(self)

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write results.json and results.md into `folder`; return both paths."""
        folder.mkdir(parents=True, exist_ok=True)
        json_path, markdown_path = folder / "results.json", folder / "results.md"
        json_path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False, default=str) + "\n")
        markdown_path.write_text(to_markdown(self))
        return json_path, markdown_path


def _markdown_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    numeric = [all(_looks_numeric(row[index]) for row in rows) if rows else False for index in range(len(columns))]
    separator = "| " + " | ".join("---:" if is_number else "---" for is_number in numeric) + " |"
    return [line(columns), separator, *(line(row) for row in rows)]


def _looks_numeric(cell: str) -> bool:
    text = cell.replace(",", "").replace("×", "").replace("%", "").replace("−", "-").strip()
    try:
        float(text.split()[0]) if text else None
    except ValueError:
        return False
    return bool(text)


def checks_table(report: Report) -> Table:
    """The targets of the brief with this run's measurement and verdict."""
    table = Table("Targets", ["section", "target", "measured", "verdict", "note"])
    for section, check in report.checks():
        table.add(section, check.target, check.measured, "met" if check.met else "**missed**", check.note)
    return table


def machine_line(report: Report) -> str:
    """One line describing the machine and the software versions."""
    m = report.machine
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gb']:.0f} GB RAM; Python {m['python']}, SQLite {m['sqlite']}, "
            f"PostgreSQL {m['postgresql'] or 'not used'}; load average {m['load_at_start']:.2f} at start, "
            f"{m.get('load_at_end', float('nan')):.2f} at end")


def to_markdown(report: Report) -> str:
    """The report as Markdown: header, targets, then every section's tables and notes."""
    lines = [f"Benchmark run of {report.date} ({report.seconds / 60:.1f} min), `{report.options['command']}`.",
             "", f"Machine: {machine_line(report)}.", ""]
    targets = checks_table(report)
    lines += [f"### {targets.title}", "", *_markdown_table(targets.columns, targets.rows), ""]
    for section in report.sections:
        lines += [f"### {section.title}", ""]
        if section.error:
            lines += [f"**The section failed:** {section.error}", ""]
        for table in section.tables:
            lines += [f"**{table.title}**", "", *_markdown_table(table.columns, table.rows), ""]
            lines += [f"- {note}" for note in table.notes]
            if table.notes:
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def to_text(table: Table) -> str:
    """A table aligned for a terminal."""
    widths = [max(len(cell) for cell in [column, *(row[index] for row in table.rows)])
              for index, column in enumerate(table.columns)]
    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()
    out = [table.title, line(table.columns), line(["-" * width for width in widths])]
    out += [line(row) for row in table.rows]
    out += [f"  * {note}" for note in table.notes]
    return "\n".join(out)
