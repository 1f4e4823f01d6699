"""The Spark engine (CW_ENGINE=spark) gives what DuckDB gives (real generator, ingestion, dbt-spark
in a local Spark session, Dagster, publication). Run by `make test-spark` (Java 17 and the spark
extra); `make test` leaves these out.

One small demo landing (scale 1, SPARK_DAYS days) is:

- published by the real CLI (`campaign-warehouse run`) on each engine: every published mart is the
  same, row for row (floating point to 1e-9);
- built on Spark day by day (ingestion, landing for Spark, `dbt run` of the facts with that day's
  window, in this process: one Spark session for all runs), then by `--full-refresh`: the facts
  and marts equal those of the one CLI run on Spark (incremental equivalence); a run with a
  one-day window replaces that day's partition only (insert_overwrite, dynamic partitions).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from demo_data import generate
from demo_data.landing import land_day, landing_days
from ingestion import IngestSettings, ingest_landing_zone
from orchestration.engine import (
    land_raw_tables_for_engine,
    land_run_window_for_engine,
    mirror_spark_tables,
    spark_warehouse_dir,
)
from orchestration.run_window import write_run_window
from orchestration.settings import Settings
from tests.conftest import REPO, TEST_HASH_KEY, cli_env, run_cli
from tests.test_incremental import compare_warehouses, day_window

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs Java 17 (make spark)"),
]
pyspark = pytest.importorskip("pyspark", reason="needs the spark extra (make spark)")

SPARK_DAYS = 5
START = dt.date(2026, 10, 1)
DBT_DIR = REPO / "dbt_project"
PUBLICATIONS = "main.publications"  # the log: versions and times differ by nature
FACT = "fct_provider_events"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="module")
def source(work) -> Path:
    out = work / "source"
    generate(out, scale=1, seed=11, start=START, days=SPARK_DAYS)
    return out


def published_run(work: Path, source: Path, engine: str) -> Path:
    """`campaign-warehouse run` on `engine`; returns its data folder."""
    data_dir = work / engine
    env = cli_env(data_dir, source) | {"CW_ENGINE": engine}
    started = time.perf_counter()
    result = run_cli(["run", "--json"], env, timeout=3600)
    # the wall time, for the README's figures (`pytest -m spark -s`); never asserted
    print(f"\n{engine}: campaign-warehouse run took {time.perf_counter() - started:.1f} s")
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout)["status"] == "published"
    return data_dir


@pytest.fixture(scope="module")
def duckdb_run(work, source) -> Path:
    return published_run(work, source, "duckdb")


@pytest.fixture(scope="module")
def spark_run(work, source) -> Path:
    return published_run(work, source, "spark")


class SparkDbt:
    """dbt on the `spark` target in this process: one parse, one Spark session for every run."""

    def __init__(self, work: Path, settings: Settings) -> None:
        from dbt.cli.main import dbtRunner

        self.work = work
        self.base_vars = settings.dbt_vars()
        result = dbtRunner().invoke(self._args(["parse"]))
        assert result.success, result.exception
        self.manifest = result.result
        self.manifest_path = work / "target" / "manifest.json"

    def _args(self, args: list[str]) -> list[str]:
        return [
            *args,
            *("--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)),
            *("--target", "spark", "--target-path", str(self.work / "target")),
            *("--log-path", str(self.work / "logs"), "--quiet", "--no-use-colors"),
        ]

    def __call__(self, args: list[str], **dbt_vars: object) -> None:
        from dbt.cli.main import dbtRunner

        variables = json.dumps({**self.base_vars, **dbt_vars})
        result = dbtRunner(manifest=self.manifest).invoke(self._args([*args, "--vars", variables]))
        failed = [
            f"{r.node.unique_id}: {r.message}"
            for r in (getattr(result.result, "results", None) or [])
            if str(r.status) in ("error", "fail")
        ]
        assert result.success, f"dbt {' '.join(args)}: {result.exception or failed}"


def ingest_and_land(settings: Settings) -> None:
    report = ingest_landing_zone(
        settings.warehouse_path, settings.landing_dir, IngestSettings(pii_hash_key=TEST_HASH_KEY)
    )
    assert report.totals()["files_rejected"] <= 3  # the generator's bad files
    land_raw_tables_for_engine(settings)


def snapshot(settings: Settings, manifest: Path, out: Path) -> Path:
    """The facts and marts Spark holds now, copied into the DuckDB file `out` as tables."""
    mirror_spark_tables(settings, manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(out)) as con:
        con.execute(f"attach '{settings.warehouse_path}' as built (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'built' and table_schema in ('facts', 'marts')"
        ).fetchall()
        for schema, table in tables:
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} as select * from built.{schema}.{table}")
    return out


def partition_files(settings: Settings, table: str) -> dict[str, set[str]]:
    """partition folder -> its Parquet file names, of a fact on Spark."""
    folder = spark_warehouse_dir(settings) / f"facts.db/{table}"
    return {
        part.name: {file.name for file in part.glob("*.parquet")}
        for part in folder.glob("partition_date=*")
    }


@pytest.fixture(scope="module")
def day_by_day(work, source):
    """Each day landed, ingested, landed for Spark and its facts built with that day's window
    (lookback 0: the day and the dates its new rows touch); then the rest (`dbt run`)."""
    data_dir = work / "day_by_day"
    settings = Settings(landing_dir=data_dir / "landing", data_dir=data_dir, engine="spark")
    settings.landing_dir.mkdir(parents=True)
    os.environ["CW_SPARK_DIR"] = str(settings.spark_dir)  # the profile reads it (one session)
    ingest_and_land(settings)  # the raw tables, empty
    with duckdb.connect(str(settings.warehouse_path)) as con:
        write_run_window(con, "tests", None)  # the window goes in vars here
        land_run_window_for_engine(con, settings)
    dbt = SparkDbt(work / "dbt", settings)
    dbt(["seed"])
    dbt(["run", "--select", "path:models/staging"])
    days = landing_days(source)
    assert len(days) == SPARK_DAYS
    for day in days:
        assert land_day(source, settings.landing_dir, day)
        ingest_and_land(settings)
        dbt(["run", "--select", "path:models/facts"], lookback_days=0, **day_window(day))
    dbt(["run"], **day_window(days[-1]))
    return settings, dbt, days


# ----------------------------------------------------------------------------- tests
def test_published_marts_are_the_same_on_both_engines(duckdb_run, spark_run):
    left, right = duckdb_run / "reports.duckdb", spark_run / "reports.duckdb"
    with duckdb.connect(str(right), read_only=True) as con:
        marts = con.execute(
            "select table_name, estimated_size from duckdb_tables() "
            "where schema_name = 'main' and table_name <> 'publications'"
        ).fetchall()
    assert len(marts) >= 10 and sum(rows for _, rows in marts) > 1000, marts
    diffs = compare_warehouses(left, right, schemas=("main",))
    diffs.pop(PUBLICATIONS, None)
    assert not diffs, "\n".join(f"{table}: {diff}" for table, diff in diffs.items())


def test_a_daily_run_overwrites_only_its_partitions(day_by_day):
    """A run with nothing new landed and a one-day window (lookback 0) replaces that day's
    partition of the fact and leaves every other partition's files as they were."""
    settings, dbt, days = day_by_day
    before = partition_files(settings, FACT)
    rebuilt = f"partition_date={days[2]}"
    assert len(before) >= SPARK_DAYS and rebuilt in before, sorted(before)
    dbt(["run", "--select", FACT], lookback_days=0, **day_window(days[2]))
    after = partition_files(settings, FACT)
    assert set(after) == set(before)
    assert after[rebuilt] != before[rebuilt], "the window's partition was not rewritten"
    assert {p: f for p, f in after.items() if p != rebuilt} == {
        p: f for p, f in before.items() if p != rebuilt
    }


def test_spark_day_by_day_equals_one_run_equals_full_refresh(work, day_by_day, spark_run):
    settings, dbt, _ = day_by_day
    one_run = spark_run / "warehouse.duckdb"  # facts and marts of the CLI run, read from Spark
    snapshots = work / "snapshots"
    daily = snapshot(settings, dbt.manifest_path, snapshots / "daily" / "warehouse.duckdb")
    diffs = compare_warehouses(daily, one_run)
    assert not diffs, "\n".join(f"{table}: {diff}" for table, diff in diffs.items())

    dbt(["run", "--full-refresh"])
    refreshed = snapshot(settings, dbt.manifest_path, snapshots / "full" / "warehouse.duckdb")
    diffs = compare_warehouses(refreshed, one_run)
    assert not diffs, "\n".join(f"{table}: {diff}" for table, diff in diffs.items())
