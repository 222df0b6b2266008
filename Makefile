# The two commands of the README:
#   make demo   set everything up, write the 2020 demo exports, publish published/2020/
#   make test   run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
YEAR ?= 2020

.PHONY: demo test install bench bench-backfill

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $@

demo: install
	$(BIN)/impact demo-data --year $(YEAR)
	$(BIN)/impact run --year $(YEAR)

test: install
	$(BIN)/pytest -q

# Benchmarks: scripts that print and write numbers (benchmarks/README.md), not tests.
bench: install
	$(BIN)/python benchmarks/bench.py

bench-backfill: install
	$(BIN)/python benchmarks/backfill.py
