# Two commands on a fresh machine:  `make repro` (install + run the pipeline), `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export DVC_NO_ANALYTICS := 1
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: repro test lint bench clean

repro: $(VENV)/.installed
	dvc repro

test: $(VENV)/.installed-dev
	pytest

bench: $(VENV)/.installed-dev
	python benchmarks/run_all.py

lint: $(VENV)/.installed-dev
	ruff check src stages tests benchmarks
	ruff format --check src stages tests benchmarks

$(VENV)/.installed: requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
