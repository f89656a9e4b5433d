#!/usr/bin/env bash
# Set up and run the demo: RetailCRM emulator + first sync + sync daemon + MCP server + dashboard,
# on the embedded SQLite store in data/demo.db. Extra arguments go to scripts/demo.py (--help).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh requirements.txt
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python scripts/demo.py "$@"
