"""CW_DUCKDB_MEMORY_LIMIT / CW_DUCKDB_THREADS reach every DuckDB connection, dbt's included.

The connections are opened the way the pipeline opens them (the warehouse for ingestion-side
writers and the checks, the published file for reports) and asked for their settings; dbt's is a
real `dbt show` through dbt_project/profiles.yml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest

from orchestration.settings import Settings, connect_duckdb, duckdb_config
from orchestration.warehouse_lock import connect_warehouse
from reporting.data import connect as connect_reports
from tests.conftest import REPO

LIMITED = {"CW_DUCKDB_MEMORY_LIMIT": "1GB", "CW_DUCKDB_THREADS": "1"}
SETTINGS_SQL = (
    "select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads"
)
ONE_GB = "953.6 MiB"  # how DuckDB shows memory_limit = '1GB


def settings_of(con: duckdb.DuckDBPyConnection) -> tuple[str, int]:
    return con.execute(SETTINGS_SQL).fetchone()


def test_unset_means_duckdbs_defaults():
    assert duckdb_config({}) == {}
    assert duckdb_config({"CW_DUCKDB_MEMORY_LIMIT": "", "CW_DUCKDB_THREADS": " "}) == {}


def test_threads_must_be_positive():
    with pytest.raises(ValueError, match="CW_DUCKDB_THREADS must be at least 1"):
        duckdb_config({"CW_DUCKDB_THREADS": "0"})
    with pytest.raises(ValueError, match="CW_DUCKDB_THREADS"):
        Settings.from_env({"CW_DUCKDB_THREADS": "0"})


@pytest.mark.parametrize("opener", ["warehouse", "reports", "plain"])
def test_a_connection_gets_the_configured_limits(tmp_path, monkeypatch, opener):
    for name, value in LIMITED.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "some.duckdb"
    duckdb.connect(str(path)).close()  # the file exists (reports are opened read-only)
    open_it = {
        "warehouse": lambda: connect_warehouse(path),
        "reports": lambda: connect_reports(path),
        "plain": lambda: connect_duckdb(path, read_only=True),
    }[opener]
    with open_it() as con:
        memory_limit, threads = settings_of(con)
    assert (memory_limit, threads) == (ONE_GB, 1)


def test_ingestion_gets_them_from_the_settings():
    from ingestion.pipeline import IngestSettings

    settings = Settings.from_env({**LIMITED, "CW_PII_HASH_KEY": "k"})
    ingest = IngestSettings(
        pii_hash_key="k",
        duckdb_memory_limit=settings.duckdb_memory_limit,
        duckdb_threads=settings.duckdb_threads,
    )
    assert (
        ingest.duckdb_config()
        == settings.duckdb_config()
        == {"memory_limit": "1GB", "threads": "1"}
    )


@pytest.mark.slow
@pytest.mark.parametrize("limited", [True, False], ids=["limited", "defaults"])
def test_dbt_connections_get_them_through_the_profile(tmp_path, limited):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "DAGSTER_"))}
    env["CW_WAREHOUSE_PATH"] = str(tmp_path / "warehouse.duckdb")
    if limited:
        env.update(LIMITED)
    dbt = [sys.executable, "-c", "from dbt.cli.main import cli; cli()"]
    shown = subprocess.run(
        dbt
        + ["show", "--inline", SETTINGS_SQL, "--output", "json", "--log-format", "text"]
        + ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path)],
        cwd=REPO / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-3000:]
    with duckdb.connect() as con:
        defaults = settings_of(con)
    memory_limit, threads = (ONE_GB, 1) if limited else defaults
    (row,) = json.loads(shown.stdout[shown.stdout.index("{") :])["show"]
    assert row == {"memory_limit": memory_limit, "threads": threads}


def test_ingestion_reads_compressed_csv_under_a_small_memory_limit(tmp_path):
    """DuckDB's CSV reader asks for a 16 x max_line_size buffer unless told (1 GiB with ours):
    under a 1 GB memory_limit every .csv.gz file was rejected as unreadable."""
    import gzip

    from ingestion import IngestSettings, ingest_landing_zone

    header = "receipt_id,customer_id,store_id,purchased_at,type,total_amount,currency\n"
    rows = "".join(
        f"R{i:09d},C{i:07d},S001,2026-10-01T10:00:00+03:00,sale,10.00,RUB\n" for i in range(50)
    )
    folder = tmp_path / "landing" / "receipts" / "2026-10-01"
    folder.mkdir(parents=True)
    (folder / "receipts_20261001_001.csv.gz").write_bytes(gzip.compress((header + rows).encode()))
    settings = IngestSettings(pii_hash_key="k", duckdb_memory_limit="1GB", duckdb_threads=1)

    report = ingest_landing_zone(tmp_path / "warehouse.duckdb", tmp_path / "landing", settings)

    assert [(f.status, f.error) for f in report.files] == [("loaded", None)]
    assert report.totals()["rows_loaded"] == 50
