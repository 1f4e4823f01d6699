# Campaign Warehouse: `make demo` and `make test` work on a fresh machine with Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
DBT := $(BIN)/dbt --no-use-colors
DBT_DIRS := --project-dir dbt_project --profiles-dir dbt_project

.PHONY: install prepare system-packages postgres browser demo run test test-fast test-pipeline \
	suite lint format dev clean spark spark-install test-spark

install: $(INSTALLED)

# Reinstall when the dependency pins change; constraints.txt makes a fresh install resolve the same.
# uv (pinned, from PyPI into the venv) installs the pinned set in parallel: a fresh install takes
# a minute or two where pip took five or more. Its output goes to a log (shown when it fails).
# --compile-bytecode: uv, unlike pip, writes no .pyc unless asked, and where PYTHONDONTWRITEBYTECODE
# is set (CI machines) Python then compiles Dagster, dbt and GX from source in every process: it
# was ~20 s of CPU in each small run (benchmarks/fixed_cost_profile.md). Costs ~30 s once here.
UV_VERSION := 0.13.8
PIP_LOG := $(VENV)/install.log
$(INSTALLED): pyproject.toml constraints.txt
	@echo "install  Python packages into $(VENV): a minute or two on a fresh machine (log: $(PIP_LOG))"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install uv==$(UV_VERSION) > $(PIP_LOG) 2>&1 || (tail -30 $(PIP_LOG); exit 1)
	@$(BIN)/uv pip install --python $(BIN)/python -c constraints.txt --compile-bytecode \
		-e ".[dev]" >> $(PIP_LOG) 2>&1 \
		|| (tail -30 $(PIP_LOG); exit 1)
	@echo "install  done"
	@touch $@

# The dbt manifest is a build artifact: Dagster loads it, it never parses dbt at import. Parsed
# with a run's vars and warehouse path, so a first run on data/ reuses this parse.
prepare: $(INSTALLED)
	@$(BIN)/python -m compileall -q orchestration ingestion data_checks reporting > /dev/null
	@echo "prepare  dbt manifest (dbt parse)"
	@$(BIN)/python -m orchestration.dbt_project

demo: prepare
	@$(BIN)/campaign-warehouse demo

# Debian packages the tests need, installed only when missing (we are root on CI machines):
# Chromium for the report's browser tests (tests/report), PostgreSQL for the publication tests
# (tests/publication/conftest.py starts a real server). One `apt-get update` for both.
SYSTEM_PACKAGES = $$(command -v chromium > /dev/null || echo chromium) \
	$$(ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1 || echo postgresql)
system-packages:
	@missing=$$(echo $(SYSTEM_PACKAGES)); [ -z "$$missing" ] || { echo "install  $$missing (Debian)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
		> /dev/null; }

browser postgres: system-packages

run: prepare
	$(BIN)/campaign-warehouse run

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && CW_WAREHOUSE_PATH=:memory: DBT_TARGET_PATH=target/lint \
		../$(BIN)/sqlfluff lint --processes 2 models macros tests

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	cd dbt_project && ../$(BIN)/sqlfluff fix models macros

# Tests (README, "Tests"): the whole suite on two pytest-xdist workers, one file per worker at a
# time, in the order tests/conftest.py sets (xdist would start the files with most tests first);
# a build many files read (tests/conftest.py `built_once`) is made once for both. The
# 25 slowest tests and fixtures are listed at the end (benchmarks/ci_profile.md).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

test: prepare lint system-packages
	$(PYTEST) -m "not spark"

# The fast tier (unit tests, SQL on small fixtures, no pipeline run) and the pipeline tier.
test-fast: prepare
	$(PYTEST) -m "not slow and not spark"

test-pipeline: prepare system-packages
	$(PYTEST) -m "slow and not spark"

# The suite alone, for .ci/run (which runs the other steps of `make test` itself, timed).
suite: $(INSTALLED)
	$(PYTEST) -m "not spark"

# The Spark engine (CW_ENGINE=spark), opt-in: Debian's Java 17 when java is missing, the spark
# extra (dbt-spark's session method, pyspark) and the Spark manifest (dbt_project/target-spark).
SPARK_INSTALLED := $(VENV)/.spark-installed
$(SPARK_INSTALLED): $(INSTALLED) pyproject.toml constraints.txt
	@command -v java > /dev/null || { echo "install  Java 17 (Debian openjdk-17-jre-headless)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq openjdk-17-jre-headless > /dev/null; }
	@echo "install  the spark extra (dbt-spark, pyspark) into $(VENV) (log: $(PIP_LOG))"
	@$(BIN)/uv pip install --python $(BIN)/python -c constraints.txt --compile-bytecode \
		-e ".[dev,spark]" >> $(PIP_LOG) 2>&1 \
		|| (tail -30 $(PIP_LOG); exit 1)
	@touch $@

spark-install: $(SPARK_INSTALLED)

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
