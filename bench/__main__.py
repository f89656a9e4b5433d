"""`python -m bench`: run the benchmark, print the table, write bench/results/results.{json,md}.

    python -m bench                                   # everything (about half an hour; stores cached in data/bench/)
    python -m bench --quick                           # toy sizes in seconds; writes bench/results/tmp/
    python -m bench --sections queries --sizes 10000,100000 --skip-postgres
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.options import FULL, QUICK, RESULTS_DIR, SECTIONS, Options, postgres_url_from_environment
from bench.machine import postgres_problem
from bench.run import run_benchmark


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be numbers separated by commas, got {text!r}") from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError(f"sizes must be at least 100 orders each, got {text!r}")
    return sizes


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(unknown) or text!r}; "
                                         f"choose from {', '.join(SECTIONS)}")
    return tuple(name for name in SECTIONS if name in chosen)


def parse_options(argv: list[str]) -> Options:
    """Options from the command line (PostgreSQL from BENCH_DATABASE_URL / TEST_DATABASE_URL)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="toy sizes and short runs (seconds); for smoke tests")
    parser.add_argument("--sizes", type=_sizes, help="store sizes in orders, e.g. 10000,100000,1000000")
    parser.add_argument("--sections", type=_sections, default=SECTIONS, help=f"any of {','.join(SECTIONS)}")
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--drop-postgres", action="store_true",
                        help="drop the cached PostgreSQL schemas of these sizes at the end")
    parser.add_argument("--output", type=Path, help="results folder (default bench/results, or bench/results/tmp "
                                                     "with --quick)")
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    return Options(
        profile=profile,
        sizes=args.sizes or profile.sizes,
        sections=args.sections,
        postgres_url=None if args.skip_postgres else postgres_url_from_environment(),
        results_dir=args.output or (RESULTS_DIR / "tmp" if args.quick else RESULTS_DIR),
        schema_prefix="bench_quick" if args.quick else "bench",
        drop_postgres=args.drop_postgres,
        command=" ".join(["python -m bench", shlex.join(argv)]).strip(),
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when it ran (missed targets are results, not failures)."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    if options.postgres_url and (problem := postgres_problem(options.postgres_url)):
        print(f"bench: PostgreSQL is not reachable ({problem}); start it, set BENCH_DATABASE_URL, or pass "
              "--skip-postgres", file=sys.stderr)
        return 2
    run_benchmark(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
