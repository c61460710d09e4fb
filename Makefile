# The two commands: `make run` (set up, generate the demo country, materialize every asset) and
# `make test` (set up, run the whole test suite). Both do their own set-up from a fresh clone.
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export IKMS_DATA_DIR ?= $(CURDIR)/data
# Demo-country size: 1.0 = the real national figures; the default keeps `make run` well inside 15 minutes.
SCALE ?= 0.05
YEARS ?= 2015-2024
SEED ?= 20241

.PHONY: setup run build test test-unit test-integration generate dev bench lock clean system-deps \
	ckan-setup ckan-start ckan-stop ckan-status ckan-lock

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "==> creating the Python environment in $(VENV) (pinned by requirements.lock)"
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@# bytecode compiled now: when PYTHONDONTWRITEBYTECODE is set (it is on these machines) nothing is ever cached and
	@# every process (dbt, Dagster, each test's subprocess) would compile Dagster, dbt and pandas again: 9 s -> 2 s
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# generate (skipped when already generated with the same parameters), ingest, then the dbt build through the
# indicators, all as Dagster materializations; prints progress, a summary and the time of each stage.
run: setup
	$(BIN)/ikms run --scale $(SCALE) --years $(YEARS) --seed $(SEED)

# only the dbt part (staging -> intermediate -> marts -> indicators) over what is already ingested.
build: setup
	$(BIN)/ikms build

generate: setup
	$(BIN)/ikms generate --scale $(SCALE) --years $(YEARS) --seed $(SEED)

test: setup ckan-setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-unit: setup
	$(BIN)/python -m pytest -m "not integration" -q

# The Dagster UI on http://127.0.0.1:3000 over the same data directory.
dev: setup
	DAGSTER_HOME=$(IKMS_DATA_DIR)/dagster_home $(BIN)/ikms dev

# Scale 1.0 x 10 years: generation and ingest timings, rows and peak memory, then the dbt full build and a
# one-year rebuild with per-model seconds (see README and pipelines/bench.py for the flags).
bench: setup
	$(BIN)/python -m pipelines.bench --scale $${BENCH_SCALE:-1.0} --years $(YEARS)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 -o requirements.lock

# System packages, each installed only when missing: PostgreSQL's server binaries for the CKAN portal's private
# cluster (Debian's own main cluster is not created), pg_config + gcc to build psycopg2 for CKAN, and Debian's
# chromium + chromium-driver, the real browser the dashboard tests drive (nothing downloads a browser).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  echo "==> installing PostgreSQL (apt-get install postgresql)"; \
	  $(SUDO) mkdir -p /etc/postgresql-common/createcluster.d; \
	  echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.d/ikms.conf >/dev/null; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	fi
	@if ! command -v pg_config >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then \
	  echo "==> installing libpq-dev and gcc (apt-get)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpq-dev gcc; \
	fi
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  echo "==> installing Chromium and its chromedriver for the dashboard tests (apt-get)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# The local CKAN portal for tests and demos (ckan/README.md): its own venv .venv-ckan from ckan/requirements.lock
# (skipped when up to date; the time is printed), then start/stop/status of the portal in $(IKMS_DATA_DIR)/ckan.
ckan-setup: setup system-deps
	@$(BIN)/python ckan/portal.py setup

ckan-start: ckan-setup
	@$(BIN)/python ckan/portal.py start

# KEEP=1 keeps the portal's data: the next ckan-start serves it again
ckan-stop:
	@$(BIN)/python ckan/portal.py stop $(if $(KEEP),--keep)

ckan-status:
	@$(BIN)/python ckan/portal.py status

ckan-lock:
	$(BIN)/uv pip compile ckan/requirements.in --python-version 3.11 -o ckan/requirements.lock

clean:
	rm -rf $(IKMS_DATA_DIR)
