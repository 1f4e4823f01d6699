# Campaign Warehouse: `make demo` and `make test` work on a fresh machine with Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT := $(BIN)/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project

.PHONY: install prepare postgres demo run test lint format dev clean

install: $(INSTALLED)

# Reinstall when the dependency pins change; constraints.txt makes a fresh install resolve the same.
$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# The dbt manifest is a build artifact: Dagster loads it, it never parses dbt at import.
prepare: $(INSTALLED)
	cd dbt_project && ../$(BIN)/dbt --no-use-colors parse --quiet --profiles-dir .

demo: prepare
	$(BIN)/campaign-warehouse demo

run: prepare
	$(BIN)/campaign-warehouse run

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && CW_WAREHOUSE_PATH=:memory: ../$(BIN)/sqlfluff lint models macros tests

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cd dbt_project && ../$(BIN)/sqlfluff fix models macros

# The PostgreSQL publication tests start a real server (tests/publication/conftest.py) from
# Debian's `postgresql` package: installed here when missing (we are root on CI machines).
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql)

test: prepare lint postgres
	$(BIN)/pytest

dev: prepare
	mkdir -p data/dagster_home
	$(BIN)/python -c \
		"from orchestration.instance import ensure_dagster_home; from pathlib import Path; ensure_dagster_home(Path('data'))"
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(CURDIR)/data/dagster_home $(BIN)/dagster dev -m orchestration.definitions

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
