"""Incremental builds give the same marts as full builds (real generator, ingestion and dbt).

One generated landing zone (scale 1, 30 days) is landed in different orders into separate
warehouses, each ingested with ``ingest_landing_zone`` and built with dbt in-process (one
``dbt parse``, then ``dbtRunner(manifest=...)``: no dbt start-up per run):

- A: day by day (``land_day`` + ingest + a daily run with that day's window, 30 times);
- B: everything at once, one run (the session's end-to-end CLI run); C: A, then
  ``dbt run --full-refresh``;
- D: days 1..15 one at a time (``lookback_days: 0``) with one feed day held back, which then lands
  ten days late: its rows reach the marts through the dates they touch.

Every table of the schemas ``marts``, ``intermediate`` and ``facts`` is compared row for row
(EXCEPT ALL both ways, columns named ``_*`` left out, floating point columns rounded to 9 decimals).

A daily run here builds what is incremental (``DAILY``: the facts and the intermediate rollups,
each from its previous build); everything else is a full rebuild from those, so building it
once, after the last day, gives what building it after every day would (and keeps this file to a
few minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from demo_data.landing import land_day, landing_days
from ingestion import IngestSettings, ingest_landing_zone
from orchestration.nothing_new import FINGERPRINTS_DDL
from orchestration.settings import Settings
from tests.conftest import REPO, TEST_HASH_KEY

pytestmark = pytest.mark.slow

DBT_DIR = REPO / "dbt_project"
COMPARED_SCHEMAS = ("marts", "intermediate", "facts")
INGEST = IngestSettings(pii_hash_key=TEST_HASH_KEY)
HELD_FEED = "sendgrid"  # the late feed day: SendGrid events (every event kind, many dates)
HELD_DAY_INDEX = 4  # day 5 of the period ...
LATE_AFTER_INDEX = 14  # ... lands after day 15
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
# a daily run builds what is incremental: the facts and the intermediate rollups (and
# int_mailings, the one table a rollup reads)
DAILY = ["run", "--select", "config.materialized:incremental", "int_mailings"]


# ----------------------------------------------------------------------------- dbt in-process
@contextmanager
def warehouse_env(path: Path) -> Iterator[None]:
    """CW_WAREHOUSE_PATH (read by dbt_project/profiles.yml) set to ``path`` for the block."""
    old = os.environ.get("CW_WAREHOUSE_PATH")
    os.environ["CW_WAREHOUSE_PATH"] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("CW_WAREHOUSE_PATH", None)
        else:
            os.environ["CW_WAREHOUSE_PATH"] = old


class Dbt:
    """dbt invoked in this process on a manifest parsed once (target and logs in a temp dir)."""

    def __init__(self, work: Path) -> None:
        from dbt.cli.main import dbtRunner

        self.work = work
        self.base_vars = Settings(landing_dir=work, data_dir=work).dbt_vars()
        self.seconds: list[tuple[str, float]] = []
        # the manifest records each model's database, which dbt-duckdb names after the file's stem:
        # every warehouse of these tests is a ``warehouse.duckdb`` (in its own folder)
        with warehouse_env(work / "parse" / "warehouse.duckdb"):
            result = dbtRunner().invoke(self._args(["parse"]))
        if not result.success:
            raise RuntimeError(f"dbt parse failed: {result.exception}")
        self.manifest = result.result

    def _args(self, args: list[str]) -> list[str]:
        return [
            *args,
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(self.work / "target"),
            "--log-path",
            str(self.work / "logs"),
            "--quiet",
            "--no-use-colors",
        ]

    def __call__(self, args: list[str], warehouse: Path, **dbt_vars: object) -> None:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
        from dbt.cli.main import dbtRunner

        variables = {**self.base_vars, **dbt_vars}
        assert warehouse.name == "warehouse.duckdb", warehouse
        full = self._args([*args, "--vars", json.dumps(variables)])
        started = time.perf_counter()
        try:
            with warehouse_env(warehouse):
                result = dbtRunner(manifest=self.manifest).invoke(full)
        finally:
            # dbt-duckdb keeps its DuckDB instance in a class attribute: close the file so that
            # ingestion and the comparisons (other connections) can open it
            env = DuckDBConnectionManager._ENV
            if env is not None:
                env.close()
            DuckDBConnectionManager._ENV = None
        self.seconds.append((" ".join(args), time.perf_counter() - started))
        if not result.success:
            failed = [
                f"{r.node.unique_id}: {r.message}"
                for r in (getattr(result.result, "results", None) or [])
                if str(r.status) in ("error", "fail")
            ]
            error = result.exception or failed
            raise AssertionError(f"dbt {' '.join(args)} on {warehouse.parent.name}: {error}")


def day_window(day: dt.date) -> dict[str, str]:
    """The vars of a daily run for landing day ``day`` (as a Dagster daily partition passes)."""
    return {"window_start": day.isoformat(), "window_end": (day + dt.timedelta(days=1)).isoformat()}


# ----------------------------------------------------------------------------- comparison
def table_columns(
    path: Path, schemas: tuple[str, ...] = COMPARED_SCHEMAS
) -> dict[str, list[tuple[str, str]]]:
    """``schema.table`` -> [(column, type)] of the compared schemas, ``_*`` columns left out."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            f"""
            select table_schema, table_name, column_name, data_type
            from information_schema.columns
            where table_schema in ({", ".join("?" for _ in schemas)})
            order by table_schema, table_name, ordinal_position
            """,
            list(schemas),
        ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        out.setdefault(f"{schema}.{table}", [])
        if not column.startswith("_"):
            out[f"{schema}.{table}"].append((column, dtype))
    return out


def _select(alias: str, table: str, columns: list[tuple[str, str]]) -> str:
    exprs = [
        f'round("{c}", 9) as "{c}"' if t.upper() in FLOAT_TYPES else f'"{c}"' for c, t in columns
    ]
    return f"select {', '.join(exprs)} from {alias}.{table}"


def compare_warehouses(
    left: Path, right: Path, sample: int = 3, schemas: tuple[str, ...] = COMPARED_SCHEMAS
) -> dict[str, str]:
    """Every difference between the compared tables of two warehouses: {table: description}."""
    left_tables, right_tables = table_columns(left, schemas), table_columns(right, schemas)
    diffs: dict[str, str] = {}
    for table in sorted(set(left_tables) ^ set(right_tables)):
        diffs[table] = f"only in {left.parent.name if table in left_tables else right.parent.name}"
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        for table in sorted(set(left_tables) & set(right_tables)):
            columns = left_tables[table]
            if columns != right_tables[table]:
                diffs[table] = f"columns differ: {columns} vs {right_tables[table]}"
                continue
            names = [c for c, _ in columns]
            sql_l, sql_r = _select("l", table, columns), _select("r", table, columns)
            counts = con.execute(
                f"select (select count(*) from l.{table}), (select count(*) from r.{table})"
            ).fetchone()
            only_l = con.execute(f"{sql_l} except all {sql_r}").fetchall()
            only_r = con.execute(f"{sql_r} except all {sql_l}").fetchall()
            if only_l or only_r or counts[0] != counts[1]:
                diffs[table] = (
                    f"rows {counts[0]} vs {counts[1]}; {len(only_l)} only in {left.parent.name}, "
                    f"{len(only_r)} only in {right.parent.name}; columns {names}; "
                    f"e.g. {left.parent.name}: {sorted(only_l, key=repr)[:sample]} / "
                    f"{right.parent.name}: {sorted(only_r, key=repr)[:sample]}"
                )
    return diffs


def row_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: con.execute(f"select count(*) from {table}").fetchone()[0]
            for table in table_columns(path)
        }


def assert_same(left: Path, right: Path) -> None:
    diffs = compare_warehouses(left, right)
    assert not diffs, "\n".join(f"{t}: {d}" for t, d in diffs.items())


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("incremental")


@pytest.fixture(scope="module")
def source(landing_zone) -> Path:
    """The session's generated landing zone (scale 1, 30 days, seed 7)."""
    return landing_zone


@pytest.fixture(scope="module")
def days(source) -> list[dt.date]:
    found = landing_days(source)
    assert len(found) == 30
    return found


@pytest.fixture(scope="module")
def dbt(work) -> Dbt:
    return Dbt(work / "dbt")


def ingest(warehouse: Path, landing: Path) -> None:
    report = ingest_landing_zone(warehouse, landing, INGEST)
    rejected = report.totals()["files_rejected"]
    assert rejected <= 3  # the generator's bad files: truncated gzip, HTML page, missing column


def new_warehouse(work: Path, name: str, dbt: Dbt) -> tuple[Path, Path]:
    """(landing dir, warehouse path) of a fresh warehouse with the seeds loaded."""
    landing, warehouse = work / name / "landing", work / name / "warehouse.duckdb"
    landing.mkdir(parents=True)
    ingest(warehouse, landing)  # creates the raw tables (empty)
    dbt(["seed"], warehouse)
    dbt(["run", "--select", "path:models/staging"], warehouse)  # the views the facts read
    return landing, warehouse


def copy_warehouse(warehouse: Path, work: Path, name: str, landing: Path | None = None) -> Path:
    """A copy of ``warehouse`` (and of its landing dir, hard links) under ``work/name``."""
    target = work / name / "warehouse.duckdb"
    target.parent.mkdir(parents=True)
    shutil.copyfile(warehouse, target)
    if landing is not None:
        shutil.copytree(landing, target.parent / "landing", copy_function=os.link)
    return target


@pytest.fixture(scope="module")
def all_at_once(work, pipeline_run) -> Path:
    """B: every day landed, ingested once and built in one run: the session's end-to-end
    `campaign-warehouse run` (the real Dagster job) on the same landing zone."""
    data_dir, result = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    return copy_warehouse(data_dir / "warehouse.duckdb", work, "all_at_once")


@pytest.fixture(scope="module")
def day_by_day(work, source, days, dbt) -> tuple[Path, Path]:
    """A: each day landed, ingested and built (``dbt run`` with that day's window) in turn.

    After day HELD_DAY_INDEX (the day before the held-back one) the warehouse and its landing dir
    are copied to ``work/late``: where the late-file scenario goes on.
    """
    landing, warehouse = new_warehouse(work, "day_by_day", dbt)
    for i, day in enumerate(days):
        if i == HELD_DAY_INDEX:
            copy_warehouse(warehouse, work, "late", landing)
        assert land_day(source, landing, day)
        ingest(warehouse, landing)
        dbt(DAILY, warehouse, **day_window(day))
    dbt(["run"], warehouse, **day_window(days[-1]))  # the marts, from the facts
    return landing, warehouse


@pytest.fixture(scope="module")
def full_refresh(work, day_by_day, dbt) -> Path:
    """C: a copy of A (built day by day), then ``dbt run --full-refresh``."""
    warehouse = copy_warehouse(day_by_day[1], work, "full_refresh")
    dbt(["run", "--full-refresh"], warehouse)
    return warehouse


# ----------------------------------------------------------------------------- tests
def test_compared_tables_exist(all_at_once):
    tables = row_counts(all_at_once)
    assert sum(t.startswith("marts.") for t in tables) >= 10, tables
    assert all(n > 0 for t, n in tables.items() if t.startswith("facts.")), tables


def test_day_by_day_equals_all_at_once_equals_full_refresh(day_by_day, all_at_once, full_refresh):
    _, warehouse = day_by_day
    assert_same(warehouse, all_at_once)
    assert_same(full_refresh, all_at_once)


def test_rerunning_the_last_day_changes_nothing(day_by_day, full_refresh, days, dbt, work):
    landing, warehouse = day_by_day
    before = copy_warehouse(warehouse, work, "day_by_day_before_rerun")
    counts = row_counts(warehouse)
    report = ingest_landing_zone(warehouse, landing, INGEST)
    assert report.totals()["rows_loaded"] == 0  # every file known: nothing new
    dbt(["run"], warehouse, **day_window(days[-1]))
    assert row_counts(warehouse) == counts
    assert_same(warehouse, before)


@pytest.fixture(scope="module")
def first_days_at_once(work, source, days, dbt) -> Path:
    """Days 1..LATE_AFTER_INDEX+1 landed at once, nothing held back: what D must end as."""
    landing, warehouse = new_warehouse(work, "first_days", dbt)
    for day in days[: LATE_AFTER_INDEX + 1]:
        land_day(source, landing, day)
    ingest(warehouse, landing)
    dbt(["run"], warehouse)
    return warehouse


@pytest.fixture(scope="module")
def late_file_held_back(work, source, days, dbt, day_by_day) -> tuple[Path, Path]:
    """D before the late file: A's copy after day HELD_DAY_INDEX, then the days up to
    LATE_AFTER_INDEX one at a time, without the held-back feed's folder of the first of them.

    Every daily run of D has ``lookback_days: 0``: it rebuilds its own day and the dates its new
    rows touch, so the late file can only come in through the dates it touches, not through a
    lookback. Returns (landing, warehouse).
    """
    landing, warehouse = work / "late" / "landing", work / "late" / "warehouse.duckdb"
    for i, day in enumerate(days[: LATE_AFTER_INDEX + 1]):
        if i < HELD_DAY_INDEX:
            continue  # landed and built in A
        land_day(source, landing, day, exclude_feeds=[HELD_FEED] if i == HELD_DAY_INDEX else ())
        ingest(warehouse, landing)
        dbt(DAILY, warehouse, lookback_days=0, **day_window(day))
    dbt(["run"], warehouse, lookback_days=0, **day_window(days[LATE_AFTER_INDEX]))
    return landing, warehouse


def test_a_file_ten_days_late_is_reflected(
    late_file_held_back, first_days_at_once, source, days, dbt
):
    landing, warehouse = late_file_held_back
    held, arrives = days[HELD_DAY_INDEX], days[LATE_AFTER_INDEX + 1]
    before = compare_warehouses(warehouse, first_days_at_once)
    assert before, "the held-back file made no difference: the test could not fail"

    assert land_day(source, landing, held, feeds=[HELD_FEED])
    ingest(warehouse, landing)
    dbt(["run"], warehouse, lookback_days=0, **day_window(arrives))
    assert_same(warehouse, first_days_at_once)


# a unit of each kind of rollup, and how to spoil it
SPOILED_UNITS = {
    "intermediate.int_messages": "clicks = clicks + 1000 where partition_date = "
    "(select min(partition_date) from intermediate.int_messages)",
    "intermediate.int_mailing_recipients": "opens = opens + 1000 where mailing_id = "
    "(select min(mailing_id) from intermediate.int_mailing_recipients)",
}


def test_a_rollup_rebuilds_the_units_its_inputs_touched_and_all_after_a_code_change(
    full_refresh, days, dbt, work
):
    """The rollups (by day: int_messages; by mailing: int_mailing_recipients) keep a unit that
    no new row touched; a build by other code or settings (a new fingerprint in
    audit.build_fingerprints) rebuilds every unit."""
    warehouse = copy_warehouse(full_refresh, work, "rollup_units")
    with duckdb.connect(str(warehouse)) as con:
        for table, spoiled in SPOILED_UNITS.items():
            con.execute(f"update {table} set {spoiled}")
    dbt(DAILY, warehouse, **day_window(days[-1]))
    assert set(compare_warehouses(warehouse, full_refresh)) == set(SPOILED_UNITS)

    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists audit")
        con.execute(FINGERPRINTS_DDL)
        con.execute("insert into audit.build_fingerprints values ('a run', 'other code', default)")
    dbt(DAILY, warehouse, **day_window(days[-1]))
    assert_same(warehouse, full_refresh)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in SPOILED_UNITS:
            stamps = con.execute(f"select distinct _build_fingerprint from {table}").fetchall()
            assert stamps == [("other code",)], table
