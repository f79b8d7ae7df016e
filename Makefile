# landkit: `make demo` runs the pipeline on the shipped sample, `make test` runs the tests.
# Both create their own virtual environment in .venv (Python 3.11 or newer) on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test sysdeps sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "landkit needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/landkit demo --overwrite

# The PostGIS tests need a server: scripts/postgres.sh starts a throwaway one on 127.0.0.1:54329
# (LANDKIT_TEST_PG names it; LANDKIT_PG_PORT=... another port) and it is stopped after the tests,
# even interrupted ones, if this run started it. `make test PYTEST_ARGS="tests/test_postgis.py -x"`
# runs a part of the suite.
PYTEST_ARGS ?=
test: sysdeps $(STAMP)
	pgenv=$$(bash scripts/postgres.sh start) || exit 1; eval "$$pgenv"; \
	if [ "$$LANDKIT_PG_STARTED" = 1 ]; then trap 'bash scripts/postgres.sh stop' EXIT; trap 'exit 130' INT TERM; fi; \
	$(BIN)/ruff check landkit tests scripts && $(BIN)/mypy && $(BIN)/lint-imports --no-cache && $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Debian packages the tests need (installed when missing; needs root or sudo).
sysdeps:
	bash scripts/system-deps.sh

sample: $(STAMP)
	$(BIN)/python scripts/make_sample.py --overwrite --next-year

clean:
	rm -rf $(VENV) out .pytest_cache
