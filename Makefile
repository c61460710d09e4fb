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

.PHONY: setup run build test test-unit test-integration generate dev bench lock clean system-deps

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "==> creating the Python environment in $(VENV) (pinned by requirements.lock)"
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
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

test: setup
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

clean:
	rm -rf $(IKMS_DATA_DIR)
