"""`python -m retailcrm_emulator`: generate an account and serve it with uvicorn."""

from __future__ import annotations

import argparse
from datetime import date

import uvicorn

from .app import create_app
from .dataset import generate


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m retailcrm_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--api-key", default="demo-key")
    parser.add_argument("--seed", type=int, default=42)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1.0 is about 37k orders)")
    size.add_argument("--orders", type=int, help="about this many orders instead of --scale")
    parser.add_argument("--end", type=date.fromisoformat, help="first day NOT generated (default: today, Moscow)")
    parser.add_argument("--rps", type=float, default=10, help="rate limit per client IP; 0 turns it off")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--live", action="store_true", help="keep creating orders and changing statuses")
    parser.add_argument("--live-interval", type=float, default=5.0, help="seconds between live-mode changes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, generate the data set, serve until interrupted."""
    args = _arguments(argv)
    account = generate(args.seed, end=args.end, scale=args.scale, orders=args.orders)
    app = create_app(account, api_key=args.api_key, rate_limit_rps=args.rps or None, latency=args.latency,
                     live_interval=args.live_interval if args.live else None, live_seed=args.seed)
    print(f"RetailCRM emulator: http://{args.host}:{args.port} ({len(account.orders)} orders, "
          f"api key {args.api_key!r}{', live' if args.live else ''})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
