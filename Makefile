# FactoryShift — `make run` and `make test` are the two set-up commands (see README.md).

VENV := .venv
BIN := $(VENV)/bin
# The first Python >= 3.12 on this machine (python3.13, python3.12, pyenv installs, python3).
PY_CANDIDATES := python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) python3
PYTHON ?= $(shell for p in $(PY_CANDIDATES); do \
	if $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then command -v $$p; break; fi; done)

SCENARIO ?= baseline
ARGS ?=

.PHONY: run test lint bench docs dashboard clean help

help:
	@echo "make run    create $(VENV), install, run the baseline (results/baseline/)"
	@echo "make test   create $(VENV) with test extras, run the whole suite"
	@echo "make dashboard  install the 'dashboard' extra and serve the web dashboard (PORT=8765)"
	@echo "make bench  run the benchmark scripts in benchmarks/"
	@echo "make lint   ruff"
	@echo "make docs   regenerate the parameter reference in docs/scenarios.md and docs/tutorial.ipynb"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found (tried: $(PY_CANDIDATES))" >&2; exit 2; }
	"$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# The tests cover the dashboard too, so they install its extra.
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test,dashboard]"
	@touch $@

$(VENV)/.installed-dashboard: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dashboard]"
	@touch $@

run: $(VENV)/.installed
	$(BIN)/factoryshift run $(SCENARIO) $(ARGS)
	@echo "The interactive web dashboard: make dashboard (installs the optional 'dashboard' extra)"

PORT ?= 8765
dashboard: $(VENV)/.installed-dashboard
	$(BIN)/factoryshift dashboard --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

docs: $(VENV)/.installed
	$(BIN)/python -m sim.scenarios.docgen
	$(BIN)/python docs/notebook.py

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .hypothesis
