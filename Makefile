# sagaops: developer and CI entry points. Everything runs from the virtualenv in $(VENV).
#   make install   create $(VENV) and install requirements-dev.txt (quick when nothing changed)
#   make run       preflight, migrate, superuser, seed, static, then web+worker+beat+demo (honcho)
#   make test      preflight, Chromium for browser tests (when root), then pytest $(PYTEST_ARGS)
#                  (all but the `scale` tests)
#   make test-scale  the scale-out tests: Redis Cluster, two beats, worker hosts in network namespaces
#   make bench-hosts checkout throughput with 1, 2 and 3 worker hosts on RabbitMQ (docs/SCALING.md)
#   make bench-failover  how long timers stop when the leading beat is killed
#   make lint      ruff check + ruff format --check
#   make bench     the engine against a bare Celery chain and DBOS on its own databases (docs/PERFORMANCE.md)
#   make soak      thousands of checkouts under faults and worker kills, then the invariants
#   make bench-scale  storage, HOT updates, prune, tick drain, reconcile, rebuild at 100k+ sagas

VENV ?= .venv
PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=
# Procfile processes to start (empty: all of them), e.g. `make run PROCS="web worker beat"`.
PROCS ?=
# Flags for sagaops_bench, e.g. `make bench BENCH_ARGS="--sagas 500 --rate-seconds 10"`.
BENCH_ARGS ?=
# The benchmark empties its own database and Redis databases (mirror db 5, broker db 4): never the dev ones.
BENCH_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/sagaops_bench \
	REDIS_URL=redis://127.0.0.1:6379/5 CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \
	SAGAOPS_SAGA_MODULES=bench.flows DJANGO_DEBUG=0 DJANGO_SECRET_KEY=sagaops-bench-only

BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.sagaops-installed
URL := http://127.0.0.1:$(PORT)

.DEFAULT_GOAL := help
.PHONY: help install run test test-scale lint bench bench-hosts bench-failover bench-scale soak

help:
	@echo "make install   create $(VENV) and install requirements-dev.txt"
	@echo "make run       start sagaops on $(URL) (console /admin/, API /api/)"
	@echo "make test      run the test suite (PYTEST_ARGS='-k ...' to narrow it)"
	@echo "make test-scale  the scale-out tests (Redis Cluster, two beats, worker hosts; needs root)"
	@echo "make bench-hosts checkout throughput with 1, 2 and 3 worker hosts (BENCH_HOSTS_ARGS='--orders 300')"
	@echo "make bench-failover  timers' pause when the leading beat is killed (FAILOVER_ARGS='--runs 5 --lease 5')"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make bench     benchmark the engine against a bare Celery chain (BENCH_ARGS='--sagas 500')"
	@echo "make soak      soak the checkout under faults and worker kills (SOAK_ARGS='--orders 200')"
	@echo "make bench-scale  storage, prune, timers, reconcile, rebuild at scale (SCALE_ARGS='--million')"

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
	$(BIN)/pytest -m "not scale" $(PYTEST_ARGS)

# They start servers of their own (a three-node Redis Cluster, RabbitMQ vhosts) and, as root,
# network namespaces; redis-server, rabbitmq-server and socat come from apt when missing.
test-scale: install
	$(MANAGE) sagaops_preflight --settings tests.settings
	@scripts/ensure-scale-tools.sh
	$(BIN)/pytest -m scale $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The peer the benchmark runs beside the engine (DBOS); without it the run says so and goes on.
BENCH_STAMP := $(VENV)/.sagaops-bench-installed
$(BENCH_STAMP): requirements-bench.txt | $(BIN)/python
	-$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt && touch $@

bench: install $(BENCH_STAMP)
	$(BENCH_ENV) $(MANAGE) sagaops_preflight
	$(BENCH_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(BENCH_ENV) $(MANAGE) sagaops_bench $(BENCH_ARGS)

# Its own database, a throwaway redis-server it starts, and its own RabbitMQ virtual host.
BENCH_HOSTS_ARGS ?=
BENCH_HOSTS_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/sagaops_bench_hosts \
	CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672/sagaops-bench-hosts DJANGO_DEBUG=0 \
	DJANGO_SECRET_KEY=sagaops-bench-only SAGAOPS_BEAT_LEASE_SECONDS=2

bench-hosts: install
	@scripts/ensure-scale-tools.sh
	@scripts/rabbitmq-vhost.sh sagaops-bench-hosts
	$(BENCH_HOSTS_ENV) $(MANAGE) sagaops_preflight
	$(BENCH_HOSTS_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(BENCH_HOSTS_ENV) $(BIN)/python -m tests.scale.bench_hosts $(BENCH_HOSTS_ARGS)

# Two beats on a throwaway redis-server; no database.
FAILOVER_ARGS ?=
bench-failover: install
	@scripts/ensure-scale-tools.sh
	$(BIN)/python -m tests.scale.bench_failover $(FAILOVER_ARGS)

# The soak empties its own database and Redis databases (mirror db 3, broker db 2): never the dev ones.
SOAK_ARGS ?=
SOAK_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/sagaops_soak \
	REDIS_URL=redis://127.0.0.1:6379/3 CELERY_BROKER_URL=redis://127.0.0.1:6379/2 \
	SAGAOPS_FAULTS_FROM_REDIS=1 SAGAOPS_RECONCILE_SECONDS=5 SAGAOPS_START_GRACE=5

soak: install
	$(SOAK_ENV) $(MANAGE) sagaops_preflight
	$(SOAK_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(SOAK_ENV) $(MANAGE) sagaops_soak $(SOAK_ARGS)

# The scale benchmark empties its own database. Every Redis database is taken (dev 0/1, soak 2/3,
# bench 4/5, test slots 6-15): it shares bench's and deletes only the engine's keys in db 5 and
# its own prefixed broker keys in db 4. Do not run it at the same time as `make bench`.
SCALE_ARGS ?=
SCALE_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/sagaops_bench_scale \
	REDIS_URL=redis://127.0.0.1:6379/5 CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \
	CELERY_BROKER_KEYPREFIX=sagaops-bench-scale: \
	SAGAOPS_SAGA_MODULES=bench.flows DJANGO_DEBUG=0 DJANGO_SECRET_KEY=sagaops-bench-only

bench-scale: install
	$(SCALE_ENV) $(MANAGE) sagaops_preflight
	$(SCALE_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(SCALE_ENV) $(MANAGE) sagaops_bench_scale $(SCALE_ARGS)
