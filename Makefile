# Benchmark targets. `make bench` sets up .venv (and Debian's chromium for the dashboard pages), runs the whole
# benchmark (about half an hour; the stores it builds are cached in data/bench/), writes
# bench/results/results.{json,md} and puts them into README.md. Extra options: make bench BENCH_ARGS="--skip-postgres"
PYTHON := .venv/bin/python
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: bench bench-quick setup-dev chromium

setup-dev:
	scripts/setup.sh requirements-dev.txt

chromium:
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the dashboard measurements"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

bench: setup-dev chromium
	$(PYTHON) -m bench $(BENCH_ARGS)
	$(PYTHON) scripts/render_readme.py

bench-quick: setup-dev chromium
	$(PYTHON) -m bench --quick $(BENCH_ARGS)
