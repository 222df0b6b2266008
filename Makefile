# The two commands of the README:
#   make demo   set everything up, write the 2020 demo exports, publish published/2020/
#   make test   run the test suite
#   make ui     the Dagster UI on 127.0.0.1:3000, over the instance make demo recorded in (.dagster/)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
YEAR ?= 2020

AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: demo test install lint bench bench-backfill browser ui

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@

demo: install
	$(BIN)/impact demo-data --year $(YEAR)
	$(BIN)/impact run --year $(YEAR)

# dagster.yaml keeps the instance in .dagster/ (or DAGSTER_HOME when set), as impact run does.
ui: install
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1

# Two workers (this machine's two cores; much of the suite waits on real `impact run` processes);
# --dist loadfile keeps a test module, and its module-scoped pipeline build, in one worker.
test: install browser lint
	$(BIN)/pytest -q -n 2 --dist loadfile

# ruff (lint and format) and the import-linter layer contract, configured in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The browser tests: Debian's Chromium (installed with apt-get when missing; needs root) and the
# npm package axe-core at the version of tests/browser/package.json (node_modules is not committed).
browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

$(AXE): tests/browser/package.json
	npm install --prefix tests/browser --no-package-lock --no-audit --no-fund --ignore-scripts --silent
	touch $@

# Benchmarks: scripts that print and write numbers (benchmarks/README.md), not tests.
bench: install
	$(BIN)/python benchmarks/bench.py

bench-backfill: install
	$(BIN)/python benchmarks/backfill.py
