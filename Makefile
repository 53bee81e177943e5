# `make run`, `make test` and `make docs` each create .venv when it is missing, install what
# they need, and run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# The site is built with --strict: a broken link, a missing API object or an example that
# raises fails the build. (The banner about MkDocs 2 is Material's, not ours.)
MKDOCS := NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

.PHONY: run test lint docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps re-install when pyproject.toml changes.
$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.docs-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@ $(VENV)/.run-deps

# The test extra includes the docs extra: `make test` builds the site too.
$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.run-deps $(VENV)/.docs-deps

run: $(VENV)/.run-deps
	$(BIN)/deeprecipe run

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -m "slow or not slow"
	$(MKDOCS)

docs: $(VENV)/.docs-deps
	$(MKDOCS)

bench: $(VENV)/.test-deps
	$(BIN)/python benchmarks/train_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
