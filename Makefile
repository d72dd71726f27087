# The OMS. `make run` sets up and serves it with demo data; `make test` sets up and tests it.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# `make run` also runs a live day of the demo (manage.py simulate): SIMULATE=0 leaves it out;
# SIMULATE_SPEED is simulated minutes per real minute.
SIMULATE ?= 1
SIMULATE_SPEED ?= 60

.DEFAULT_GOAL := help

.PHONY: help install run test lint format migrate demo worker beat bench clean cluster-up cluster-down cluster-test

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is needed ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies

run: $(STAMP) ## Set up, load demo data once, serve the console on http://127.0.0.1:8000 with worker, beat and a live day (SIMULATE=0: none)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 PORT=$(PORT) $(BIN)/python manage.py ensure_admin
	DEBUG=1 PORT=$(PORT) SIMULATE_SPEED=$(SIMULATE_SPEED) PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(BIN)/honcho -f Procfile.dev start $(if $(filter 0,$(SIMULATE)),web worker beat,)

test: $(STAMP) ## Set up, then lint, type-check and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=oms.test_settings
	$(BIN)/lint-imports
	$(BIN)/pytest -n auto

lint: $(STAMP) ## ruff check and format check, mypy; import-linter holds the layers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP) ## Apply migrations
	DEBUG=1 $(BIN)/python manage.py migrate

demo: $(STAMP) ## Load the demo network (idempotent)
	DEBUG=1 $(BIN)/python manage.py seed_demo

bench: $(STAMP) ## Run the benchmarks (needs DATABASE_URL to PostgreSQL for most; the soak apart: bench/soak.py)
	for script in $(filter-out bench/soak.py,$(wildcard bench/*.py)); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

cluster-up: $(STAMP) ## Start the reference deployment: a namespace per host (root; ops/cluster, docs/deployment.md)
	$(BIN)/python -m ops.cluster.cluster up

cluster-down: ## Stop the reference deployment and remove all of it, a crashed run's leftovers included
	$(PYTHON) -m ops.cluster.cluster down

cluster-test: $(STAMP) ## The deployment and a short soak with faults (root; about 8 minutes)
	$(BIN)/pytest -p no:cacheprovider -s -m cluster tests/cluster

clean: ## Remove the virtualenv, local database and var/
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var staticfiles
