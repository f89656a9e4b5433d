#!/usr/bin/env bash
# Set up everything the tests need (venv, packages, Debian's chromium) and run the whole suite.
# Extra arguments go to pytest, e.g. ./test.sh -k sync -x
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
    echo "test: installing Debian's chromium for the browser tests"
    if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
    $apt_get update -qq && DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq chromium >/dev/null
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m pytest "$@"
