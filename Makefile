# sagaops: developer and CI entry points. Everything runs from the virtualenv in $(VENV).
#   make install   create $(VENV) and install requirements-dev.txt (quick when nothing changed)
#   make run       preflight, migrate, superuser, seed, static, then web+worker+beat+demo (honcho)
#   make test      preflight, Chromium for browser tests (when root), then pytest $(PYTEST_ARGS)
#   make lint      ruff check + ruff format --check

VENV ?= .venv
PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=
# Procfile processes to start (empty: all of them), e.g. `make run PROCS="web worker beat"`.
PROCS ?=

BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.sagaops-installed
URL := http://127.0.0.1:$(PORT)

.DEFAULT_GOAL := help
.PHONY: help install run test lint

help:
	@echo "make install   create $(VENV) and install requirements-dev.txt"
	@echo "make run       start sagaops on $(URL) (console /admin/, API /api/)"
	@echo "make test      run the test suite (PYTEST_ARGS='-k ...' to narrow it)"
	@echo "make lint      ruff check and ruff format --check"

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than the requirements files once they are installed: a second
# `make install` does nothing. The venv itself is an order-only prerequisite.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: install
	$(MANAGE) sagaops_preflight
	$(MANAGE) migrate --noinput
	$(MANAGE) sagaops_admin
	$(MANAGE) sagaops_seed
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo ""
	@echo "sagaops: console $(URL)/admin/  API $(URL)/api/  (Ctrl-C stops everything)"
	@echo ""
	PATH="$(abspath $(BIN)):$$PATH" VIRTUAL_ENV="$(abspath $(VENV))" SAGAOPS_URL="$(URL)" \
		$(BIN)/honcho start --port $(PORT) $(PROCS)

test: install
	$(MANAGE) sagaops_preflight --settings tests.settings
	@scripts/ensure-chromium.sh
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
