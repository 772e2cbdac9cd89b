# Every target installs what it needs: uv (from PyPI) and the locked environment in .venv.
# `demo` installs the core and the demo generator's extra (fast); `test` and `bench` add
# every extra (Spark).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")

.PHONY: demo test bench bench-quality lint format uv clean chromium docs-config

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv

.venv/.core: uv.lock pyproject.toml | uv
	$(UV) sync --frozen --inexact --extra demo
	@touch $@

.venv/.all: uv.lock pyproject.toml | uv
	$(UV) sync --frozen --all-extras
	@touch $@ .venv/.core

demo: .venv/.core
	$(UV) run --frozen --no-sync e360 demo $(ARGS)

# The steward app's browser tests drive Debian's Chromium through Playwright.
APT := $(if $(filter 0,$(shell id -u)),,sudo) apt-get
chromium:
	@test -x /usr/bin/chromium || { $(APT) update -qq && $(APT) install -y -qq chromium; }

# Test processes: one per core, at most 4 (most tests wait on servers, dbt or Spark, so two
# share two cores well); `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= auto
PYTEST_ARGS ?= --numprocesses=$(TEST_WORKERS) --maxprocesses=4 --dist=loadgroup --durations=25

test: lint chromium
	$(UV) run --frozen --no-sync pytest $(PYTEST_ARGS)

bench: .venv/.all
	$(UV) run --frozen --no-sync python -m bench.run $(ARGS)
	$(UV) run --frozen --no-sync python -m bench.incremental
	$(UV) run --frozen --no-sync python -m bench.resolve
	$(UV) run --frozen --no-sync python -m bench.ingest_stream
	$(UV) run --frozen --no-sync python -m bench.quality
	$(UV) run --frozen --no-sync python -m bench.active_learning

# e360 resolve beside plain Splink on public data: FEBRL, ../shared/benchmarks, the demo.
bench-quality: .venv/.all
	$(UV) run --frozen --no-sync python -m bench.quality $(ARGS)

# ruff, the import contracts of pyproject.toml (the layer rule, the Splink adapter) and mypy.
lint: .venv/.all
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .
	$(UV) run --frozen --no-sync lint-imports
	$(UV) run --frozen --no-sync mypy

format: .venv/.all
	$(UV) run --frozen --no-sync ruff check --fix .
	$(UV) run --frozen --no-sync ruff format .

clean:
	rm -rf .e360 .pytest_cache .ruff_cache dbt_project/target dbt_project/logs bench/.work

# The configuration reference, generated from the configuration models (a test keeps it in sync).
docs-config: .venv/.core
	$(UV) run --frozen --no-sync e360 schema --markdown > docs/configuration.md
