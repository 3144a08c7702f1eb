# `make run` and `make test` each create .venv when it is missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean mutate

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

# Mutation testing, not part of `make test` (docs/mutation.md): mutmut over the six
# safety-critical modules, one module at a time, two workers (MUTATE_JOBS), each mutant
# against the tests that reach its function. Results accumulate in mutants/ (resumable);
# `$(BIN)/mutmut results` lists the survivors, `$(BIN)/mutmut show NAME` shows one.
MUTATE_MODULES ?= text brands notify sinks.slack store ledger
MUTATE_JOBS ?= 2
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutate]'
	for module in $(MUTATE_MODULES); do \
		$(BIN)/mutmut run --max-children $(MUTATE_JOBS) "reputation.$$module.*" || exit 1; \
	done
	$(BIN)/python bench/mutation.py

clean:
	rm -rf $(VENV) data/reputation.db* data/digests mutants
