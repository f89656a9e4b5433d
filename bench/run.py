"""Running the benchmark: every chosen section in turn, a printed table, results as JSON and Markdown."""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from bench import concurrency, old_vs_new, queries, resources, sync
from bench.context import Bench, Progress
from bench.machine import describe_machine
from bench.options import Options
from bench.report import Check, Report, SectionResult, checks_table, machine_line, to_text
from bench.stores import StoreCache

RUNNERS: dict[str, tuple[str, Callable[[Bench], SectionResult]]] = {
    "old_vs_new": ("1. The users' question: old way vs new way", old_vs_new.run),
    "queries": ("2. Query latency", queries.run),
    "sync": ("3. Sync", sync.run),
    "resources": ("4. Resources", resources.run),
    "concurrency": ("5. Concurrency", concurrency.run),
}


def run_section(bench: Bench, name: str) -> SectionResult:
    """One section; a failure becomes a result that says so (and a missed check), not a crash of the run."""
    title, runner = RUNNERS[name]
    started = time.monotonic()
    try:
        result = runner(bench)
    except Exception as failure:  # noqa: BLE001 - the other sections still run; the failure is reported
        bench.log(f"{name} failed:\n{traceback.format_exc()}")
        reason = " ".join(f"{type(failure).__name__}: {failure}".split())[:500]
        result = SectionResult(name, title, error=reason,
                               checks=[Check(f"section {name} completes", "failed", False, reason)])
    result.seconds = time.monotonic() - started
    return result


def run_benchmark(options: Options) -> Report:
    """Run the chosen sections, print each one's tables, then the targets; write results.json and results.md."""
    log = Progress()
    report = Report(date=datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
                    machine=describe_machine(options.postgres_url),
                    options={"command": options.command, "sizes": list(options.sizes),
                             "sections": list(options.sections), "postgresql": bool(options.postgres_url),
                             "profile": vars(options.profile)})
    log(f"machine: {machine_line(report)}")
    stores = StoreCache(options.data_dir, options.postgres_url, options.schema_prefix, log)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        bench = Bench(options, stores, log, Path(scratch))
        for name in options.sections:
            log(f"=== {RUNNERS[name][0]}")
            result = run_section(bench, name)
            report.sections.append(result)
            for table in result.tables:
                print("\n" + to_text(table) + "\n", flush=True)
            log(f"{name} done in {result.seconds:.0f} s")
    if options.drop_postgres:
        stores.drop_postgres(list(options.sizes))
    report.machine["load_at_end"] = os.getloadavg()[0]
    report.seconds = time.monotonic() - log.started
    json_path, markdown_path = report.write(options.results_dir)
    print("\n" + to_text(checks_table(report)) + "\n", flush=True)
    log(f"wrote {json_path} and {markdown_path}")
    return report
