# Two commands on a fresh machine:  `make repro` (install + run the pipeline), `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export DVC_NO_ANALYTICS := 1
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: repro repro-all test lint bench diff diff-baseline clean

# On a fresh clone this recomputes only what the clone lacks: the meta-trained rules and their
# metrics are committed, so every meta-training whose inputs are unchanged is skipped (~10 min).
repro: $(VENV)/.installed
	dvc repro

# Recompute everything, meta-training included (~1 h on 2 cores; runs fan out over every core,
# or a Dask cluster: README "Every core, and a cluster").
repro-all: $(VENV)/.installed
	dvc repro --force

test: $(VENV)/.installed-dev
	pytest

bench: $(VENV)/.installed-dev
	python benchmarks/run_all.py

# The CI-sized pipeline (params.yaml + ci/params-overrides.yaml) of the work tree, in ci/work/head,
# and its metric diff (Markdown) against ci/metrics/, or against the CI-sized run of REV
# (`make diff REV=main`). Tolerances: ci/tolerances.yaml. Exits 1 on a degradation.
REV ?=
diff: $(VENV)/.installed
	python -m metahebb.metric_diff run $(if $(REV),--rev $(REV))

# Regenerate the committed CI baseline ci/metrics/ deliberately (then commit it).
diff-baseline: $(VENV)/.installed
	python -m metahebb.metric_diff baseline

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
	rm -rf $(VENV) .pytest_cache .ruff_cache ci/work
