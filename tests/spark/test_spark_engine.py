"""The Spark engine (CW_ENGINE=spark) gives what DuckDB gives (real generator, ingestion, dbt-spark
in a local Spark session, Dagster, publication). Run by `make test-spark` (Java 17 and the spark
extra) and by `.ci/run` where Java is; `make test` leaves these out.

One small demo landing (scale 1, SPARK_DAYS days) is:

- published by the real CLI (`campaign-warehouse run`) on each engine: every published mart is the
  same, row for row (floating point to 1e-9);
- built on Spark day by day (ingestion, landing for Spark, `dbt run` of the facts and the
  intermediate rollups with that day's window, in this process: one Spark session for all runs),
  then by `--full-refresh`: the facts, rollups and marts equal those of the one CLI run on Spark
  (incremental equivalence); a run with a
  one-day window replaces that day's partition only (insert_overwrite, dynamic partitions);
- a mart's build killed in the published Spark run's folder leaves a folder the next build would
  trip on: the step's clean-up removes it.

The two CLI runs go on in the background while this process builds day by day: on two cores the
three overlap, which is most of this module's speed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
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
    remove_orphans_for_engine,
    spark_warehouse_dir,
)
from orchestration.run_window import write_run_window
from orchestration.settings import Settings
from orchestration.spark_orphans import metastore_tables
from tests.conftest import CLI, REPO, TEST_HASH_KEY, cli_env
from tests.test_incremental import DAILY, compare_warehouses, day_window

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
KILLED_MART = "mart_customers"  # a mart whose write takes a while (the kill must land in it)


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="module")
def source(work) -> Path:
    out = work / "source"
    generate(out, scale=1, seed=11, start=START, days=SPARK_DAYS)
    return out


class PublishedRun:
    """`campaign-warehouse run` on one engine, started in the background (output in files)."""

    def __init__(self, work: Path, source: Path, engine: str) -> None:
        self.engine, self.data_dir = engine, work / engine
        self.stdout, self.stderr = work / f"{engine}.stdout", work / f"{engine}.stderr"
        env = cli_env(self.data_dir, source) | {"CW_ENGINE": engine}
        self.started = time.time()
        with self.stdout.open("w") as stdout, self.stderr.open("w") as stderr:
            self.process = subprocess.Popen(
                [*CLI, "run", "--json"], cwd=REPO, env=env, stdout=stdout, stderr=stderr
            )

    def result(self) -> Path:
        """Wait for it to publish; returns its data folder."""
        self.process.wait(timeout=3600)
        # its wall time (`pytest -m spark -s`), alongside the other work, until it wrote its
        # result (not until this wait): never asserted
        took = self.stdout.stat().st_mtime - self.started
        print(f"\n{self.engine}: campaign-warehouse run took {took:.1f} s")
        assert self.process.returncode == 0, self.stderr.read_text()[-4000:]
        assert json.loads(self.stdout.read_text())["status"] == "published"
        return self.data_dir


@pytest.fixture(scope="module")
def published_runs(work, source):
    """Both engines' CLI runs, started at once and in the background: each is mostly one busy
    process (Python, or Spark's driver on small data), so they share the two cores with each
    other and with the Spark session of `day_by_day`."""
    runs = {engine: PublishedRun(work, source, engine) for engine in ("spark", "duckdb")}
    yield runs
    for run in runs.values():
        if run.process.poll() is None:  # a failed test: do not leave a run behind
            run.process.kill()
            run.process.wait()


@pytest.fixture(scope="module")
def duckdb_run(published_runs) -> Path:
    return published_runs["duckdb"].result()


@pytest.fixture(scope="module")
def spark_run(published_runs) -> Path:
    return published_runs["spark"].result()


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


def dbt_subprocess(settings: Settings, args: list[str], log: Path) -> subprocess.Popen:
    """dbt on the `spark` target in a process group of its own (dbt, and Spark's JVM); its
    output goes to `log`."""
    env = os.environ | {
        "CW_SPARK_DIR": str(settings.spark_dir),
        "CW_WAREHOUSE_PATH": str(settings.warehouse_path),
    }
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--target", "spark"]
    command += ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    command += ["--target-path", str(log.parent / "target")]
    command += ["--vars", json.dumps(settings.dbt_vars()), "--no-use-colors"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:  # the child keeps its own copy of the file
        return subprocess.Popen(
            command,
            env=env,
            cwd=DBT_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def ingest_and_land(settings: Settings) -> None:
    report = ingest_landing_zone(
        settings.warehouse_path, settings.landing_dir, IngestSettings(pii_hash_key=TEST_HASH_KEY)
    )
    assert report.totals()["files_rejected"] <= 3  # the generator's bad files
    land_raw_tables_for_engine(settings)


def snapshot(settings: Settings, manifest: Path, out: Path) -> Path:
    """The facts, rollups and marts Spark holds now, copied into the DuckDB file `out` as tables."""
    mirror_spark_tables(settings, manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(out)) as con:
        con.execute(f"attach '{settings.warehouse_path}' as built (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'built' and table_schema in ('facts', 'intermediate', 'marts')"
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
def day_by_day(work, source, published_runs):
    """Each day landed, ingested, landed for Spark and its facts and rollups built with that day's
    window (lookback 0: the day and the dates its new rows touch); then the rest (`dbt run`). Built
    while the published runs (started first) go on in the background."""
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
        dbt(DAILY, lookback_days=0, **day_window(day))
    # everything, as the job's steps do: the staging tables (snapshot pickers, built while the raw
    # tables were empty) and the facts of the last window again, then the marts
    dbt(["run"], **day_window(days[-1]))
    return settings, dbt, days


# ----------------------------------------------------------------------------- tests
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


def test_spark_day_by_day_equals_one_run_equals_full_refresh(work, day_by_day, spark_run):
    settings, dbt, _ = day_by_day
    one_run = spark_run / "warehouse.duckdb"  # facts, rollups, marts of the CLI run (Spark)
    snapshots = work / "snapshots"
    daily = snapshot(settings, dbt.manifest_path, snapshots / "daily" / "warehouse.duckdb")
    diffs = compare_warehouses(daily, one_run)
    assert not diffs, "\n".join(f"{table}: {diff}" for table, diff in diffs.items())

    dbt(["run", "--full-refresh"])
    refreshed = snapshot(settings, dbt.manifest_path, snapshots / "full" / "warehouse.duckdb")
    diffs = compare_warehouses(refreshed, one_run)
    assert not diffs, "\n".join(f"{table}: {diff}" for table, diff in diffs.items())


def test_a_table_folder_left_by_a_killed_build_is_removed_before_the_next(
    work, spark_run, monkeypatch
):
    """A dbt build killed (process group, SIGKILL) while Spark writes a mart leaves the mart's
    folder without its table; the next build would fail with LOCATION_ALREADY_EXISTS. The step's
    clean-up deletes that folder, and only it; the mart then builds again. Last in this module:
    it rebuilds a mart of the published Spark run (the same rows as before)."""
    monkeypatch.setenv("CW_SPARK_DIR", str(spark_run / "spark"))  # not day_by_day's
    settings = Settings(landing_dir=spark_run / "landing", data_dir=spark_run, engine="spark")
    manifest = DBT_DIR / "target-spark" / "manifest.json"
    folder = spark_warehouse_dir(settings) / "marts.db" / KILLED_MART
    metastore = settings.spark_dir / "metastore_db"
    assert f"marts.{KILLED_MART}" in metastore_tables(metastore)

    logs = work / "killed"
    build = dbt_subprocess(settings, ["run", "--select", KILLED_MART], logs / "killed.log")
    writing = folder / "_temporary"  # Spark's files in progress: the old table is dropped
    deadline = time.monotonic() + 600
    while not writing.exists() and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    assert writing.exists(), (logs / "killed.log").read_text()[-4000:]

    # a real leftover: files in the folder, no table in the metastore
    assert any(folder.iterdir()) and f"marts.{KILLED_MART}" not in metastore_tables(metastore)
    assert remove_orphans_for_engine(settings, manifest) == [folder]
    assert not folder.exists()
    assert remove_orphans_for_engine(settings, manifest) == []  # every other table is known

    rebuild = dbt_subprocess(settings, ["run", "--select", KILLED_MART], logs / "rebuild.log")
    assert rebuild.wait(timeout=900) == 0, (logs / "rebuild.log").read_text()[-4000:]
    assert f"marts.{KILLED_MART}" in metastore_tables(metastore)
