# Broadsheet: `make site` builds the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: site test serve lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

site: $(STAMP)
	$(BIN)/python build.py

test: $(STAMP)
	$(BIN)/python -m ruff check broadsheet tests bench build.py
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/python build.py serve

bench: $(STAMP)
	$(BIN)/python bench/run.py --articles 1000 --repeat 3

lint: $(STAMP)
	$(BIN)/python -m ruff check broadsheet tests bench build.py

clean:
	rm -rf site .site.* $(VENV) *.egg-info .pytest_cache .ruff_cache
