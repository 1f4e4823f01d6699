"""The PostgreSQL publication against a real server: the same rows as reports.duckdb with exact
types, comments and keys; a reader in a long transaction keeps the old version during the swap;
a load killed half-way or failing leaves `reports` untouched; a refusal changes only the log.

A small hand-made warehouse keeps these fast; the whole pipeline publishing to PostgreSQL through
the CLI is in test_publication_gate.py."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from decimal import Decimal

import duckdb
import psycopg
import pytest

from orchestration.mart_docs import ColumnDoc, TableDoc
from orchestration.publish_postgres import PostgresPublicationError, postgres_mirror
from orchestration.publishing import (
    PublicationRecord,
    new_version,
    publish_marts,
    publish_refusal,
    record_publication,
)
from tests.conftest import REPO
from tests.publication.helpers import duckdb_checksums, postgres_checksums

DOCS = {
    "mart_orders": TableDoc(
        "mart_orders",
        "One row per order.",
        {
            "order_id": ColumnDoc("order_id", "Order key.", True),
            "amount": ColumnDoc("amount", "Amount, two decimals.", True),
            "rate": ColumnDoc("rate", "A fraction."),
            "placed_at": ColumnDoc("placed_at", "When it was placed (UTC)."),
            "note": ColumnDoc("note", "Free text: empty is not null."),
        },
        ("order_id",),
    ),
    "mart_days": TableDoc(
        "mart_days",
        "One row per day and channel.",
        {
            "date": ColumnDoc("date", "Reporting date.", True),
            "channel": ColumnDoc("channel", "email | sms.", True),
            "sent": ColumnDoc("sent", "Messages sent."),
        },
        ("date", "channel"),
    ),
}


def make_warehouse(path, orders: int = 3) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(
            """create or replace table marts.mart_orders as
            select 'o' || i as order_id, cast(i * 10.05 as decimal(18, 2)) as amount,
                   case when i % 3 = 0 then null else 1 / (i + 2) end as rate,
                   timestamp '2026-11-01 21:30:00.123456' + to_hours(i) as placed_at,
                   case i % 3 when 0 then '' when 1 then null
                       else 'a, "quoted"' || chr(10) || 'line' end as note
            from range(?) as r(i)""",
            [orders],
        )
        conn.execute(
            """create or replace table marts.mart_days as
            select date '2026-11-01' + cast(i as integer) as date, c as channel, i * 7 as sent
            from range(3) as r(i), (values ('email'), ('sms')) as v(c)"""
        )


def publish(data_dir, url=None, orders: int = 3, status="published") -> PublicationRecord:
    """Build the warehouse (`orders` rows) and publish it, to PostgreSQL too when `url` is set."""
    warehouse = data_dir / "warehouse.duckdb"
    make_warehouse(warehouse, orders)
    record = PublicationRecord(new_version("test"), "test-run", status)
    publish_marts(
        warehouse, data_dir / "reports.duckdb", data_dir / "exports", record, DOCS,
        postgres_mirror(url),
    )  # fmt: skip
    with duckdb.connect(str(warehouse)) as conn:
        record_publication(conn, record)
    return record


def served(url) -> dict:
    with psycopg.connect(url) as conn:
        return postgres_checksums(conn)


def test_publication_loads_same_rows_exact_types_comments_and_keys(tmp_path, postgres_url):
    publish(tmp_path, postgres_url)

    assert served(postgres_url) == duckdb_checksums(tmp_path / "reports.duckdb")
    with psycopg.connect(postgres_url) as conn:
        types = dict(
            conn.execute(
                "select attname, format_type(atttypid, atttypmod) from pg_attribute "
                "where attrelid = 'reports.mart_orders'::regclass and attnum > 0"
            ).fetchall()
        )
        assert types == {
            "order_id": "text",
            "amount": "numeric(18,2)",
            "rate": "double precision",
            "placed_at": "timestamp with time zone",
            "note": "text",
        }
        row = conn.execute(
            "select amount, placed_at, note from reports.mart_orders where order_id = 'o1'"
        ).fetchone()
        assert row[0] == Decimal("10.05") and str(row[0]) == "10.05"
        assert row[1].utcoffset().total_seconds() == 0
        assert row[1].replace(tzinfo=None) == datetime(2026, 11, 1, 22, 30, 0, 123456)
        assert row[2] is None
        notes = {n for (n,) in conn.execute("select note from reports.mart_orders").fetchall()}
        assert notes == {"", None, 'a, "quoted"\nline'}
        assert conn.execute(
            "select obj_description('reports.mart_days'::regclass), "
            "col_description('reports.mart_days'::regclass, 3)"
        ).fetchone() == ("One row per day and channel.", "Messages sent.")
        keys = conn.execute(
            "select conrelid::regclass::text, pg_get_constraintdef(oid) from pg_constraint "
            "where contype = 'p' and connamespace = 'reports'::regnamespace order by 1"
        ).fetchall()
        assert keys == [
            ("reports.mart_days", "PRIMARY KEY (date, channel)"),
            ("reports.mart_orders", "PRIMARY KEY (order_id)"),
        ]
        not_null = conn.execute(
            "select attname from pg_attribute where attrelid = 'reports.mart_orders'::regclass "
            "and attnum > 0 and attnotnull order by attnum"
        ).fetchall()
        assert not_null == [("order_id",), ("amount",)]
        uncommented = conn.execute(
            "select c.relname, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid "
            "where c.relnamespace = 'reports'::regnamespace and c.relkind = 'r' and a.attnum > 0 "
            "and coalesce(col_description(c.oid, a.attnum), '') = ''"
        ).fetchall()
        assert uncommented == []
        schemas = conn.execute(
            "select nspname from pg_namespace where nspname like 'reports%'"
        ).fetchall()
        assert schemas == [("reports",)]


def test_reader_in_a_long_transaction_keeps_the_old_version_during_the_swap(tmp_path, postgres_url):
    publish(tmp_path, postgres_url, orders=3)
    old = served(postgres_url)
    reader = psycopg.connect(postgres_url)
    reader.execute("set transaction isolation level repeatable read")
    before = postgres_checksums(reader)  # the reader's transaction now holds every table

    publisher = threading.Thread(target=publish, args=(tmp_path, postgres_url, 5), daemon=True)
    publisher.start()
    time.sleep(3)  # the new version is loaded; its swap waits for the reader

    assert publisher.is_alive(), "the swap did not wait for the reader"
    assert postgres_checksums(reader) == before == old
    reader.rollback()
    publisher.join(timeout=60)
    reader.close()

    assert not publisher.is_alive()
    new = served(postgres_url)
    assert new == duckdb_checksums(tmp_path / "reports.duckdb")
    assert new["mart_orders"][0] == 5 and new["publications"][0] == 2


# Publishes to PostgreSQL with a load that stalls after its first table: killed there.
STALLED_LOAD = """
import sys, time
from pathlib import Path
from orchestration import publish_postgres

load_table = publish_postgres._load_table
def stalled(*args):
    rows = load_table(*args)
    print("loaded one table", flush=True)
    time.sleep(600)
    return rows

publish_postgres._load_table = stalled
publish_postgres.publish_to_postgres(sys.argv[1], Path(sys.argv[2]))
"""


def test_load_killed_half_way_leaves_reports_untouched(tmp_path, postgres_url):
    publish(tmp_path, postgres_url, orders=3)
    before = served(postgres_url)
    publish(tmp_path, None, orders=7)  # a new reports.duckdb, not yet in PostgreSQL
    loader = subprocess.Popen(
        [sys.executable, "-c", STALLED_LOAD, postgres_url, str(tmp_path / "reports.duckdb")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert loader.stdout.readline().strip() == "loaded one table"
    finally:
        loader.send_signal(signal.SIGKILL)
        loader.wait(timeout=30)

    assert served(postgres_url) == before
    with psycopg.connect(postgres_url) as conn:
        deadline = time.monotonic() + 30  # the server notices the dead client and rolls back
        next_schema = "select count(*) from pg_namespace where nspname = 'reports_next'"
        while conn.execute(next_schema).fetchone()[0]:
            assert time.monotonic() < deadline, "the killed load left reports_next behind"
            time.sleep(0.2)

    publish(tmp_path, postgres_url, orders=7)  # the next publication starts afresh
    assert served(postgres_url) == duckdb_checksums(tmp_path / "reports.duckdb")


def test_failed_load_fails_loudly_and_publishes_nowhere(tmp_path, postgres_url):
    publish(tmp_path, postgres_url, orders=3)
    reports = tmp_path / "reports.duckdb"
    before_file = hashlib.sha256(reports.read_bytes()).hexdigest()
    before = served(postgres_url)
    missing_database = postgres_url.replace("/cw_", "/missing_cw_")

    with pytest.raises(PostgresPublicationError, match="reports` is untouched"):
        publish(tmp_path, missing_database, orders=9)

    assert hashlib.sha256(reports.read_bytes()).hexdigest() == before_file
    assert served(postgres_url) == before


def test_refused_build_changes_only_the_publications_log(tmp_path, postgres_url):
    published = publish(tmp_path, postgres_url, orders=3)
    reports = tmp_path / "reports.duckdb"
    before = served(postgres_url)
    refusal = PublicationRecord(
        new_version("refused"),
        "refused-run",
        "refused",
        reason="publication refused: 1 blocking check failed\n- a:x failed (3 failing rows)",
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        record_publication(conn, refusal)

    publish_refusal(tmp_path / "warehouse.duckdb", reports, refusal, postgres_mirror(postgres_url))

    after = served(postgres_url)
    assert {t: c for t, c in after.items() if t != "publications"} == {
        t: c for t, c in before.items() if t != "publications"
    }
    assert after == duckdb_checksums(reports)
    with psycopg.connect(postgres_url) as conn:
        log = conn.execute(
            "select version, status, reason from reports.publications order by recorded_at"
        ).fetchall()
    assert [(v, s) for v, s, _ in log] == [
        (published.version, "published"),
        (refusal.version, "refused"),
    ]
    assert log[-1][2].startswith("publication refused: 1 blocking check failed")
