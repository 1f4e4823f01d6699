"""The publication gate through the real CLI: bad data is refused without touching the published
marts (in reports.duckdb and PostgreSQL only the publications log changes), a publication killed
half-way leaves the old one intact and the next run (publishing to PostgreSQL too) recovers, and a
reader holding the old file keeps a consistent view while a new version is swapped in."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import signal
import subprocess
import sys

import duckdb
import psycopg
import pytest

from orchestration.publish_postgres import publish_to_postgres
from orchestration.publishing import PublicationRecord, new_version, publish_marts
from tests.conftest import REPO, cli_env, run_cli
from tests.publication.helpers import duckdb_checksums, postgres_checksums

pytestmark = pytest.mark.slow

RECEIPTS_CHECK = "facts/fct_purchases:gx_receipt_lines_sum_to_total"
UNBALANCED = 1000  # receipts with no lines at all: well over the 1 % the check allows

# Publishes with an `_export` that never returns: the temp file exists, the swap never happens.
STALLED_PUBLISHER = """
import sys, time
from pathlib import Path
from orchestration import publishing

def stalled_export(conn, marts, export_dir):
    print("exporting", flush=True)
    time.sleep(600)

publishing._export = stalled_export
data = Path(sys.argv[1])
record = publishing.PublicationRecord(publishing.new_version("killed"), None, "published")
publishing.publish_marts(
    data / "warehouse.duckdb", data / "reports.duckdb", data / "exports", record
)
"""

# Holds one read-only connection: prints the row counts, waits for a line, prints them again.
READER = """
import json, sys
import duckdb

conn = duckdb.connect(sys.argv[1], read_only=True)

def counts():
    tables = [t for (t,) in conn.execute("show tables").fetchall()]
    return {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}

print(json.dumps(counts()), flush=True)
sys.stdin.readline()
print(json.dumps(counts()), flush=True)
"""


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = [t for (t,) in conn.execute("show tables").fetchall()]
        return {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


def leftovers(data_dir) -> list[str]:
    stale = [*data_dir.glob(".reports-*"), *(data_dir / "exports").glob(".*")]
    return sorted(p.name for p in stale)


@pytest.fixture
def published(pipeline_run, tmp_path):
    """An independent copy of the session's published data directory."""
    source, result = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir)
    return data_dir


def land_unbalanced_receipts(landing_dir) -> None:
    """A well-formed receipts file (ingestion accepts every row) whose receipts have no lines."""
    path = landing_dir / "receipts" / "2026-10-31" / "receipts_20261031_900.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["receipt_id", "customer_id", "store_id", "purchased_at", "type", "total_amount"]
            + ["currency"]
        )
        for i in range(UNBALANCED):
            writer.writerow(
                [f"R9{i:09d}", "C0000068", "S003", "2026-10-31T10:00:00+03:00", "sale"]
                + ["100.00", "RUB"]
            )


def without_log(checksums: dict) -> dict:
    return {table: value for table, value in checksums.items() if table != "publications"}


def test_blocking_check_failure_refuses_and_leaves_reports_untouched(
    published, landing_zone, tmp_path, postgres_url
):
    landing = tmp_path / "landing"
    shutil.copytree(landing_zone, landing)
    land_unbalanced_receipts(landing)
    reports = published / "reports.duckdb"
    before = duckdb_checksums(reports)
    publish_to_postgres(postgres_url, reports)
    env = cli_env(published, landing) | {"CW_PUBLISH_POSTGRES_URL": postgres_url}

    result = run_cli(["run"], env)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    listed = [line for line in result.stdout.splitlines() if line.startswith("  - ")]
    failure = next(line for line in listed if RECEIPTS_CHECK in line)
    assert "e.g. " in failure and "R9000000000 total=100.00 lines=0.00" in failure
    failing = int(failure.split(" failing rows")[0].rsplit("(", 1)[1])
    assert failing >= UNBALANCED
    after = duckdb_checksums(reports)
    assert without_log(after) == without_log(before)  # the marts, row for row
    assert after["publications"][0] == before["publications"][0] + 1
    with duckdb.connect(str(reports), read_only=True) as conn:
        status, reason = conn.execute(
            "select status, reason from publications order by recorded_at desc limit 1"
        ).fetchone()
    assert status == "refused"
    lines = reason.splitlines()
    assert lines[0].startswith("publication refused: ") and len(lines) <= 20
    assert RECEIPTS_CHECK in lines[1] and "R9000000000 total=100.00 lines=0.00" in lines[1]
    assert sum("did not run" in line for line in lines) <= 2  # summarised, not listed
    with psycopg.connect(postgres_url) as conn:
        assert postgres_checksums(conn) == after  # PostgreSQL: the same marts, the same log


def test_killed_publication_keeps_old_reports_and_next_run_recovers(
    published, landing_zone, postgres_url
):
    reports = published / "reports.duckdb"
    before, counts_before = sha256(reports), row_counts(reports)
    publisher = subprocess.Popen(
        [sys.executable, "-c", STALLED_PUBLISHER, str(published)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert publisher.stdout.readline().strip() == "exporting"
        assert list(published.glob(".reports-*.tmp")), "the temp file is being written"
    finally:
        publisher.send_signal(signal.SIGKILL)
        publisher.wait(timeout=30)
    assert leftovers(published), "the killed publication left its temp files behind"
    assert sha256(reports) == before
    assert row_counts(reports) == counts_before

    env = cli_env(published, landing_zone) | {"CW_PUBLISH_POSTGRES_URL": postgres_url}
    result = run_cli(["run", "--json"], env)

    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout[result.stdout.index("{") :])
    assert leftovers(published) == []
    with psycopg.connect(postgres_url) as conn:  # the run published to PostgreSQL too
        assert postgres_checksums(conn) == duckdb_checksums(reports)
    with duckdb.connect(str(reports), read_only=True) as conn:
        (latest,) = conn.execute(
            "select version from publications order by recorded_at desc limit 1"
        ).fetchone()
    assert latest == record["version"]
    assert (published / "exports" / record["version"] / "mart_campaigns.parquet").exists()


def test_reader_holding_old_reports_keeps_its_version_during_publication(published):
    reports = published / "reports.duckdb"
    counts_before = row_counts(reports)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(reports)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(reader.stdout.readline()) == counts_before
        record = PublicationRecord(new_version("reader-test"), None, "published")
        publish_marts(published / "warehouse.duckdb", reports, published / "exports", record)
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert json.loads(reader.stdout.readline()) == counts_before
    finally:
        reader.kill()
        reader.wait(timeout=30)

    counts_after = row_counts(reports)
    assert counts_after["publications"] == counts_before["publications"] + 1
    assert {t: n for t, n in counts_after.items() if t != "publications"} == {
        t: n for t, n in counts_before.items() if t != "publications"
    }
    with duckdb.connect(str(reports), read_only=True) as conn:
        versions = {v for (v,) in conn.execute("select version from publications").fetchall()}
    assert record.version in versions
