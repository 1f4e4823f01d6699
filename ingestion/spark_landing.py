"""Land the raw tables where Spark reads them (the Spark engine, CW_ENGINE=spark).

Ingestion validates, hashes and quarantines in DuckDB as on the DuckDB engine (one code path, one
accounting); then this module copies the rows each raw table gained into Parquet under
`<spark landing>/raw/<table>/`, one file per table and landing: `ingested-<UTC date>-<id>.parquet`.
dbt registers each folder as a Spark table over its files (`register_landed_tables` in
dbt_project/macros/cross_db.sql).

Why files named by ingestion date, not `ingested_on=<date>/` partition folders: the facts pick the
rows landed since their watermark by `_ingested_at` (which Parquet's column statistics already
prune file by file) and then recompute whole event days, which a partition by landing day does
not narrow. Flat folders need no partition repair before each dbt run, and an empty table is one
file carrying the schema.

A copy is new rows only: `_ingested_at` after the newest one already in the folder. A copy is
written to a hidden file and renamed into place, so Spark never reads half a file, and a crash
between DuckDB's commit and the copy is made good by the next landing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

RAW_SCHEMA = "raw"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _landed_through(con: duckdb.DuckDBPyConnection, folder: Path) -> datetime | None:
    """The newest `_ingested_at` already landed in `folder` (from Parquet statistics)."""
    if not any(folder.glob("*.parquet")):
        return None
    (newest,) = con.execute(
        f"select max(_ingested_at) from read_parquet({_literal(str(folder / '*.parquet'))})"
    ).fetchone()
    return newest


def _write_parquet(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """COPY `query` to `target` through a hidden file (Spark skips names starting with '.')."""
    target.parent.mkdir(parents=True, exist_ok=True)
    hidden = target.with_name(f".{target.name}.tmp")
    con.execute(f"copy ({query}) to {_literal(str(hidden))} (format parquet)")
    hidden.replace(target)


def land_table(con: duckdb.DuckDBPyConnection, table: str, landing_dir: Path) -> int:
    """Copy the rows of raw.<table> not yet landed; returns how many were copied."""
    folder = landing_dir / RAW_SCHEMA / table
    landed_through = _landed_through(con, folder)
    source = f"{RAW_SCHEMA}.{_quote(table)}"
    condition = (
        "true"
        if landed_through is None
        else f"_ingested_at > timestamp {_literal(landed_through.isoformat(sep=' '))}"
    )
    (rows,) = con.execute(f"select count(*) from {source} where {condition}").fetchone()
    if rows == 0 and landed_through is not None:
        return 0  # nothing new; a first landing writes even an empty file (the schema)
    query = f"select * from {source} where {condition}"
    today = datetime.now(UTC).date().isoformat()
    _write_parquet(con, query, folder / f"ingested-{today}-{uuid.uuid4().hex[:12]}.parquet")
    return rows


def land_raw_tables(warehouse_path: Path, landing_dir: Path) -> dict[str, int]:
    """Land every raw table's new rows for Spark; returns rows copied per table."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        return {table: land_table(con, table, landing_dir) for table in tables}


def land_table_snapshot(con: duckdb.DuckDBPyConnection, table: str, landing_dir: Path) -> Path:
    """Replace the one Parquet file of a small table (`schema.name`), e.g. audit.run_window."""
    schema, name = table.split(".")
    target = landing_dir / schema / name / f"{name}.parquet"
    _write_parquet(con, f"select * from {schema}.{_quote(name)}", target)
    return target
