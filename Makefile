# `make run` and `make test` each create .venv when it is missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reputation run --config config.yaml

# The checks CI runs (.ci/run calls this), cheapest first: lint, format, types, the import
# contracts (pyproject.toml), then the tests.
test: lint
	$(BIN)/python -m pytest

# mypy checks connectors/ as reputation.connectors, the name it is installed under (through
# the reputation/connectors symlink); naming connectors/ as well would check it twice.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy reputation
	$(BIN)/lint-imports --no-logo

clean:
	rm -rf $(VENV) data/reputation.db* data/digests
