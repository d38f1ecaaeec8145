# Glacier: `make demo` runs the main job; `make test` sets up everything the tests need and runs them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CORE_STAMP := $(VENV)/.stamp-core
DEV_STAMP := $(VENV)/.stamp-dev
PYTEST_ARGS ?=

.PHONY: demo test test-only test-deps snapshots bench lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(CORE_STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e ".[all,dev]"
	touch $@ $(CORE_STAMP)

demo: $(CORE_STAMP)
	$(PY) examples/demo.py

# Everything the tests need beyond Python packages: Azurite (npm), Chromium (apt), checkov (own venv).
test-deps: $(DEV_STAMP)
	bash scripts/install-test-deps.sh

test: test-deps
	$(MAKE) test-only

test-only:
	$(PY) -m pytest $(PYTEST_ARGS)

# The one switch that rewrites the golden files (Terraform, export) from the current output.
snapshots: $(DEV_STAMP)
	GLACIER_UPDATE_SNAPSHOTS=1 $(PY) -m pytest tests/terraform/test_terraform.py tests/export/test_export_snapshots.py -k snapshot -q

bench: $(DEV_STAMP)
	$(PY) benchmarks/run.py

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .venv-checkov node_modules .glacier build dist .pytest_cache
