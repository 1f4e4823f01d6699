"""What a BI user finds in reports.duckdb after a real run: every table and column described, each
mart's grain enforced as its primary key with the contract's NOT NULLs, names next to ids, the
campaign roll-up adding up to the per-mailing marts, and a refusal recorded without touching
the marts."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from orchestration.mart_docs import load_mart_docs
from orchestration.publishing import (
    PublicationRecord,
    new_version,
    publish_refusal,
    record_publication,
)
from tests.publication.helpers import duckdb_checksums

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports(pipeline_run):
    data_dir, result = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    with duckdb.connect(str(data_dir / "reports.duckdb"), read_only=True) as conn:
        yield conn


def test_every_published_table_and_column_has_its_description(reports):
    tables = reports.execute(
        "select table_name, comment from duckdb_tables() where not internal"
    ).fetchall()
    assert {name for name, _ in tables} >= {"publications", "mart_campaign_summary"}
    assert [name for name, comment in tables if not comment] == []
    bare = reports.execute(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where not internal and coalesce(comment, '') = ''"
    ).fetchall()
    assert bare == []
    docs = load_mart_docs()
    (comment,) = reports.execute(
        "select comment from duckdb_columns() "
        "where table_name = 'mart_campaign_summary' and column_name = 'segments'"
    ).fetchone()
    assert comment == docs["mart_campaign_summary"].columns["segments"].description


def test_each_mart_enforces_its_grain_and_not_nulls(reports):
    docs = load_mart_docs()
    marts = [t for (t,) in reports.execute("show tables").fetchall() if t.startswith("mart_")]
    for mart in marts:
        assert docs[mart].primary_key, f"{mart} declares no grain in its contract"
        (key,) = reports.execute(
            "select constraint_column_names from duckdb_constraints() "
            "where table_name = ? and constraint_type = 'PRIMARY KEY'",
            [mart],
        ).fetchone()
        assert tuple(key) == docs[mart].primary_key, mart
        not_null = {
            name
            for (name,) in reports.execute(
                "select column_name from duckdb_columns() where table_name = ? and not is_nullable",
                [mart],
            ).fetchall()
        }
        declared = {c.name for c in docs[mart].columns.values() if c.not_null}
        assert declared | set(key) == not_null, mart


def test_marts_showing_an_id_show_its_name(reports):
    columns = {}
    for table, column in reports.execute(
        "select table_name, column_name from duckdb_columns() where not internal"
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    for mart, names in columns.items():
        if "mailing_id" in names:
            assert "mailing_name" in names, mart
        if "campaign_id" in names and mart != "mart_campaigns":  # which has `name`
            assert "campaign_name" in names, mart
    unnamed = reports.execute(
        "select count(*) from mart_mailing_funnel where mailing_name is null"
    ).fetchone()[0]
    assert unnamed == 0


def test_campaign_summary_adds_up_to_the_per_mailing_marts(reports):
    """reports.md: messages summed over the row's mailings; segments as mart_sms_delivery."""
    mismatches = reports.execute("""
        with per_mailing as (
            select
                volume.campaign_id, volume.channel, funnel.sent, funnel.delivered,
                funnel.unsubscribed, sms.segments
            from mart_mailing_volume as volume
            inner join mart_mailing_funnel as funnel
                on volume.mailing_id = funnel.mailing_id and funnel.variant = 'all'
            left join mart_sms_delivery as sms on volume.mailing_id = sms.mailing_id
            where volume.campaign_id is not null
        ),
        expected as (
            select campaign_id, coalesce(channel, 'all') as channel, sum(sent) as sent,
                sum(delivered) as delivered, sum(unsubscribed) as unsubscribes,
                sum(segments) as segments
            from per_mailing
            group by grouping sets ((campaign_id, channel), (campaign_id))
        )
        select summary.campaign_id, summary.channel
        from mart_campaign_summary as summary
        full join expected using (campaign_id, channel)
        where summary.sent is distinct from expected.sent
            or summary.delivered is distinct from expected.delivered
            or summary.unsubscribes is distinct from expected.unsubscribes
            or summary.segments is distinct from expected.segments
    """).fetchall()
    assert mismatches == []
    (people_below_messages,) = reports.execute(
        "select count(*) from mart_campaign_summary where channel = 'all' and mailings > 1 "
        "and sent > (select count(distinct customer_id) from mart_mailing_recipients r "
        "where r.campaign_id = mart_campaign_summary.campaign_id and r.dispatch_status = 'sent')"
    ).fetchone()
    assert people_below_messages > 0, "customers mailed twice should count twice"


def test_refusal_rewrites_only_the_log_and_a_reader_keeps_the_old_file(pipeline_run, tmp_path):
    source, _ = pipeline_run
    data_dir = tmp_path / "data"
    shutil.copytree(source, data_dir)
    reports = data_dir / "reports.duckdb"
    before = duckdb_checksums(reports)
    reader = duckdb.connect(str(reports), read_only=True)
    record = PublicationRecord(
        new_version("refusal"), "refusal-run", "refused", reason="publication refused: test"
    )
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as conn:
        record_publication(conn, record)

    publish_refusal(data_dir / "warehouse.duckdb", reports, record)

    old_log = reader.execute("select count(*) from publications").fetchone()[0]
    assert old_log == before["publications"][0]  # the reader keeps the old file
    reader.close()  # DuckDB shares an open file within a process: read the new one after this
    after = duckdb_checksums(reports)
    assert {t: c for t, c in after.items() if t != "publications"} == {
        t: c for t, c in before.items() if t != "publications"
    }
    assert after["publications"][0] == before["publications"][0] + 1
    with duckdb.connect(str(reports), read_only=True) as conn:
        latest = conn.execute(
            "select version, status, reason from publications order by recorded_at desc limit 1"
        ).fetchone()
        (comments,) = conn.execute(
            "select count(*) from duckdb_columns() where table_name = 'publications' "
            "and coalesce(comment, '') <> ''"
        ).fetchone()
    assert latest == (record.version, "refused", "publication refused: test")
    assert comments == 7
    assert list(data_dir.glob(".reports-*")) == []
