"""The engine dbt builds on: DuckDB (default) or Spark (`CW_ENGINE=spark`, `--engine spark`).

Everything but dbt stays on DuckDB, so the job, the checks and the publication are the same on
both engines:

- ingestion validates, hashes and quarantines into the DuckDB warehouse as always; on Spark it then
  lands the raw tables' new rows as Parquet for Spark (`ingestion/spark_landing.py`);
- dbt builds on the profile's target for the engine (`dev` or `spark`, dbt-spark's session
  method), with its own manifest (`dbt_project/target-spark`) and its own target folder;
- the run's window (`audit.run_window`) is landed for Spark too, before each dbt run;
- before each dbt step on Spark, table folders a killed build left without their table are
  deleted (`orchestration/spark_orphans.py`);
- after each dbt step on Spark, the tables dbt built (Parquet under Spark's warehouse folder)
  appear in the DuckDB warehouse under the same names: views, and tables for the marts (whose
  columns are cast to their contract's types), so the Great Expectations checks and the
  publication read them as they read DuckDB's own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import duckdb

from ingestion.spark_landing import land_raw_tables, land_table_snapshot
from orchestration.settings import Settings
from orchestration.spark_orphans import remove_orphan_table_folders

DBT_TARGETS = {"duckdb": "dev", "spark": "spark"}
# dbt_project/<folder> holding each engine's manifest (`make prepare`, `make spark`)
MANIFEST_FOLDERS = {"duckdb": "target", "spark": "target-spark"}
MARTS_SCHEMA = "marts"


def dbt_target(settings: Settings) -> str:
    return DBT_TARGETS[settings.engine]


def manifest_folder(settings: Settings) -> str:
    return MANIFEST_FOLDERS[settings.engine]


def is_spark(settings: Settings) -> bool:
    return settings.engine == "spark"


def spark_landing_dir(settings: Settings) -> Path:
    return settings.spark_dir / "landing"


def spark_warehouse_dir(settings: Settings) -> Path:
    """spark.sql.warehouse.dir of the profile: a table is `<dir>/<schema>.db/<table>/`."""
    return settings.spark_dir / "warehouse"


def missing_spark_runtime(settings: Settings) -> str | None:
    """What the Spark engine lacks on this machine (Java, pyspark), or None."""
    if not is_spark(settings):
        return None
    missing = [
        what
        for what, present in (
            ("Java 17 (java on PATH)", shutil.which("java") or os.environ.get("JAVA_HOME")),
            ("the spark extra (dbt-spark, pyspark)", importlib.util.find_spec("pyspark")),
        )
        if not present
    ]
    return " and ".join(missing) or None


def export_dbt_environment(settings: Settings) -> None:
    """The env vars dbt's profile reads (dbt runs as a subprocess and inherits them)."""
    os.environ.setdefault("CW_WAREHOUSE_PATH", str(settings.warehouse_path))
    if is_spark(settings):
        os.environ.setdefault("CW_SPARK_DIR", str(settings.spark_dir))


def land_raw_tables_for_engine(settings: Settings) -> dict[str, int]:
    """After ingestion: on Spark, land the raw tables' new rows as Parquet; nothing on DuckDB."""
    if not is_spark(settings):
        return {}
    return land_raw_tables(settings.warehouse_path, spark_landing_dir(settings))


def land_run_window_for_engine(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """After audit.run_window changed: on Spark, land it too (dbt registers it as a table)."""
    if is_spark(settings):
        land_table_snapshot(con, "audit.run_window", spark_landing_dir(settings))


def remove_orphans_for_engine(settings: Settings, manifest_path: Path) -> list[Path]:
    """Before a dbt step: on Spark, delete the table folders a killed build left without their
    table (they would fail the next build with LOCATION_ALREADY_EXISTS; spark_orphans.py)."""
    if not is_spark(settings):
        return []
    return remove_orphan_table_folders(settings.spark_dir.resolve(), manifest_path)


# ----------------------------------------------------------------------------- Spark -> DuckDB
def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _built_tables(manifest_path: Path) -> list[dict]:
    """The manifest's models that dbt writes as tables (tables and incremental facts)."""
    manifest = json.loads(manifest_path.read_text())
    return sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["config"]["materialized"] in ("table", "incremental")
        ),
        key=lambda node: (node["schema"], node["alias"]),
    )


def _existing_kind(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    row = con.execute(
        "select table_type from information_schema.tables "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return None if row is None else ("view" if row[0] == "VIEW" else "table")


def _select_list(con: duckdb.DuckDBPyConnection, files: str, contract_types: dict[str, str]) -> str:
    """Spark's columns in Spark's order: contract columns cast to their declared type, other
    timestamps (Parquet instants) back to UTC wall clock like the DuckDB engine's."""
    columns = con.execute(f"describe select * from {files}").fetchall()
    expressions = []
    for name, data_type, *_ in columns:
        column = _quote(name)
        declared = contract_types.get(name.lower())
        if declared:
            expressions.append(f"cast({column} as {declared}) as {column}")
        elif data_type == "TIMESTAMP WITH TIME ZONE":
            expressions.append(f"timezone('UTC', {column}) as {column}")
        else:
            expressions.append(column)
    return ", ".join(expressions)


def mirror_spark_tables(settings: Settings, manifest_path: Path) -> list[str]:
    """Make every table dbt built on Spark readable in the DuckDB warehouse; returns their names.

    Marts become DuckDB tables (the publication copies tables, with their contract's types);
    everything else a view over the Parquet files, read where Spark keeps them. A model Spark has
    not written yet (or an empty partitioned one: no file) is left out.
    """
    from orchestration.warehouse_lock import connect_warehouse

    warehouse = spark_warehouse_dir(settings)
    mirrored = []
    with connect_warehouse(settings.warehouse_path) as con:
        con.execute("set TimeZone = 'UTC'")
        for node in _built_tables(manifest_path):
            schema, name = node["schema"], node["alias"]
            folder = warehouse / f"{schema}.db" / name
            if not any(folder.rglob("*.parquet")):
                continue
            files = (
                f"read_parquet({_literal(str(folder / '**' / '*.parquet'))}, "
                "hive_partitioning = true)"
            )
            contract_types = {
                column["name"].lower(): column["data_type"]
                for column in node.get("columns", {}).values()
                if column.get("data_type") and node["config"].get("contract", {}).get("enforced")
            }
            kind = "table" if schema == MARTS_SCHEMA else "view"
            relation = f"{_quote(schema)}.{_quote(name)}"
            con.execute(f"create schema if not exists {_quote(schema)}")
            existing = _existing_kind(con, schema, name)
            if existing is not None and existing != kind:
                con.execute(f"drop {existing} {relation}")
            select = _select_list(con, files, contract_types)
            con.execute(f"create or replace {kind} {relation} as select {select} from {files}")
            mirrored.append(f"{schema}.{name}")
    return mirrored
