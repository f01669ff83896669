# One command to set up and run each main job; every target creates .venv when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXAMPLE_CONNECTOR := examples/thirdparty_connector

.PHONY: demo test lint unit bench clean

$(BIN)/.installed: pyproject.toml $(wildcard $(EXAMPLE_CONNECTOR)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	if [ -f $(EXAMPLE_CONNECTOR)/pyproject.toml ]; then \
	  $(BIN)/python -m pip install --quiet -e $(EXAMPLE_CONNECTOR); fi
	touch $@

## demo: sync every connector from the built-in sandbox and export a bundle (offline, no keys)
demo: $(BIN)/.installed
	$(BIN)/cscor demo

## test: lint, type-check and run the whole test suite
test: lint unit

lint: $(BIN)/.installed
	$(BIN)/ruff check cscor_tools tests benchmarks examples
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest -q

## bench NAME=store_upsert: run one benchmark and print its JSON
bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks $(NAME) --json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
