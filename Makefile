# Every target installs what it needs: uv (from PyPI) and the locked environment.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
SYNC_DONE = .venv/.e360-synced

.PHONY: demo test bench lint format install clean

$(SYNC_DONE): uv.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-extras
	@touch $@

install: $(SYNC_DONE)

demo: install
	$(UV) run --frozen e360 demo $(ARGS)

test: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen pytest $(PYTEST_ARGS)

bench: install
	$(UV) run --frozen python -m bench.run $(ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

clean:
	rm -rf .e360 .pytest_cache .ruff_cache dbt_project/target dbt_project/logs bench/.work
