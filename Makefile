# Campaign Warehouse: `make demo` and `make test` work on a fresh machine with Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT := $(BIN)/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project

.PHONY: install prepare postgres browser demo run test lint format dev clean spark test-spark

install: $(INSTALLED)

# Reinstall when the dependency pins change; constraints.txt makes a fresh install resolve the same.
# pip's output goes to a log (shown when it fails); a line per phase says what is going on.
PIP_LOG := $(VENV)/install.log
$(INSTALLED): pyproject.toml constraints.txt
	@echo "install  Python packages into $(VENV): a few minutes on a fresh machine (log: $(PIP_LOG))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --upgrade pip > $(PIP_LOG) 2>&1 || (tail -30 $(PIP_LOG); exit 1)
	@$(BIN)/python -m pip install -c constraints.txt -e ".[dev]" >> $(PIP_LOG) 2>&1 \
		|| (tail -30 $(PIP_LOG); exit 1)
	@echo "install  done"
	@touch $@

# The dbt manifest is a build artifact: Dagster loads it, it never parses dbt at import. Parsed
# with a run's vars and warehouse path, so a first run on data/ reuses this parse.
prepare: $(INSTALLED)
	@echo "prepare  dbt manifest (dbt parse)"
	@$(BIN)/python -m orchestration.dbt_project

demo: prepare
	@$(BIN)/campaign-warehouse demo

# Debian's Chromium for the report's browser tests (tests/report), installed only when missing.
browser:
	@command -v chromium > /dev/null || { echo "install  chromium (Debian) for the browser tests"; \
		apt-get update -qq && apt-get install -y -qq chromium > /dev/null; }

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

test: prepare lint postgres browser
	$(BIN)/pytest -m "not spark"

# The Spark engine (CW_ENGINE=spark), opt-in: Debian's Java 17 when java is missing, the spark
# extra (dbt-spark's session method, pyspark) and the Spark manifest (dbt_project/target-spark).
SPARK_INSTALLED := $(VENV)/.spark-installed
$(SPARK_INSTALLED): $(INSTALLED) pyproject.toml constraints.txt
	@command -v java > /dev/null || { echo "install  Java 17 (Debian openjdk-17-jre-headless)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq openjdk-17-jre-headless > /dev/null; }
	@echo "install  the spark extra (dbt-spark, pyspark) into $(VENV) (log: $(PIP_LOG))"
	@$(BIN)/python -m pip install -c constraints.txt -e ".[dev,spark]" >> $(PIP_LOG) 2>&1 \
		|| (tail -30 $(PIP_LOG); exit 1)
	@touch $@

spark: $(SPARK_INSTALLED)
	@echo "prepare  dbt manifest for Spark (dbt parse --target spark)"
	@CW_ENGINE=spark $(BIN)/python -m orchestration.dbt_project

# Both engines on one small demo landing, and the incremental equivalence on Spark (tests/spark).
test-spark: prepare spark
	$(BIN)/pytest -m spark

# `dagster dev` loads pyproject's [tool.dagster]: the code location is named `campaign_warehouse`.
# The daily partitions start at the demo's first day when data/landing is a generated demo.
DEMO_START = $$($(BIN)/python -c "from demo_data import landing_period as p; d = p('data/landing'); print(d[0] if d else '')")
dev: prepare
	mkdir -p data/dagster_home
	$(BIN)/python -c \
		"from orchestration.instance import ensure_dagster_home; from pathlib import Path; ensure_dagster_home(Path('data'))"
	PATH=$(CURDIR)/$(BIN):$$PATH DAGSTER_HOME=$(CURDIR)/data/dagster_home \
		CW_PARTITIONS_START=$${CW_PARTITIONS_START:-$(DEMO_START)} $(BIN)/dagster dev

clean:
	rm -rf data dbt_project/target dbt_project/target-spark dbt_project/logs .pytest_cache
