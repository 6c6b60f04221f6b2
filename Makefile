# Mirada: `make run` sets up and serves the app; `make test` sets up and runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export MIRADA_DATA_DIR ?= instance
MODEL := $(MIRADA_DATA_DIR)/models/efficientnet-lite0.onnx
MODEL_INT8 := $(MIRADA_DATA_DIR)/models/efficientnet-lite0-int8.onnx
# The int8 copy (the default precision) is made at install unless fp32 is chosen (about 30 s).
MODELS := $(MODEL) $(if $(filter fp32,$(MIRADA_MODEL_PRECISION)),,$(MODEL_INT8))
STAMPS := $(VENV)/.stamps
# Tests run in this many processes (pytest-xdist): most of them wait on servers and browsers.
TEST_WORKERS ?= 2

.PHONY: help install run test lint format model model-int8 translations lock benchmark clean

help:
	@echo "make run      set up, upgrade the database and serve Mirada on http://$(HOST):$(PORT)"
	@echo "make install  set up only: virtual environment, dependencies, database, model"
	@echo "              (and its int8 copy, unless MIRADA_MODEL_PRECISION=fp32)"
	@echo "make model-int8  the statically quantised int8 copy of the model"
	@echo "make lint     ruff (style) and mypy (types) on the sources"
	@echo "make test     install the dev dependencies and run lint and the whole test suite"
	@echo "make lock     re-pin every dependency into requirements/*.lock"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	mkdir -p $(STAMPS)

$(STAMPS)/base: requirements/base.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/base.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(STAMPS)/export: requirements/export.lock | $(STAMPS)/base
	$(BIN)/pip install --quiet -r requirements/export.lock
	touch $@

$(STAMPS)/dev: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMPS)/base $(STAMPS)/export $@

translations: $(STAMPS)/base
	$(BIN)/mirada translate compile

$(MODEL):
	$(MAKE) $(STAMPS)/export
	$(BIN)/mirada model export --output $(MODEL)

$(MODEL_INT8): $(MODEL) | $(STAMPS)/base
	$(BIN)/mirada model quantize --source $(MODEL) --output $(MODEL_INT8) --force

model: $(MODELS)

model-int8: $(MODEL_INT8)

install: $(STAMPS)/base translations model
	$(BIN)/mirada db upgrade

run: install
	@echo
	@echo "Mirada runs at http://$(HOST):$(PORT)"
	@echo "Create the first administrator in another shell with:"
	@echo "  $(BIN)/mirada users create you@example.com --admin"
	@echo
	$(BIN)/mirada serve --host $(HOST) --port $(PORT)

lint: $(STAMPS)/dev
	$(BIN)/ruff check src tests benchmarks typings
	$(BIN)/ruff format --check src tests benchmarks typings
	$(BIN)/mypy src

format: $(STAMPS)/dev
	$(BIN)/ruff format src tests benchmarks typings
	$(BIN)/ruff check --fix src tests benchmarks typings

test: $(STAMPS)/dev translations $(MODEL) lint
	MIRADA_MODEL_PATH=$(abspath $(MODEL)) $(BIN)/pytest -n $(TEST_WORKERS) --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

benchmark: $(STAMPS)/dev model
	MIRADA_MODEL_PATH=$(abspath $(MODEL)) $(BIN)/python benchmarks/classify_pipeline.py

lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras -o requirements/base.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --extra export -o requirements/export.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --extra dev --extra export -o requirements/dev.lock pyproject.toml
	sed -i 's/^torch==\(.*\)+cpu/torch==\1/' requirements/*.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage test-artifacts
