"""Whole-file behaviour: unreadable files, missing columns, known bytes, row numbers, atomicity."""

from __future__ import annotations

import gzip

import duckdb
import pytest

from ingestion import FEEDS
from tests.test_ingestion_support import (
    assert_balanced,
    csv_text,
    file_row,
    ingest,
    json_array,
    land,
    ndjson,
    quarantine,
    rows,
)


def _sg(i: int, event: str = "delivered") -> dict:
    return {
        "email": f"user{i}@example.com",
        "timestamp": 1793000000 + i,
        "event": event,
        "sg_event_id": f"ev{i}",
        "sg_message_id": f"m{i}.f",
    }


def test_unreadable_files_are_rejected_and_the_others_load(tmp_path):
    landing = tmp_path / "landing"
    whole = gzip.compress(json_array([_sg(i) for i in range(200)]).encode(), mtime=0)
    land(landing, "sendgrid", "a_truncated.json.gz", whole[: len(whole) // 2])
    land(landing, "sendgrid", "b_good.json", json_array([_sg(1), _sg(2)]))
    land(landing, "twilio", "error_page.json", "<html><body>502 Bad Gateway</body></html>\n")
    land(landing, "push", "garbage.ndjson", b"\x00\x01\x02 call +7 912 345-67-89 \xff\xfe")
    land(landing, "push", "empty.ndjson", b"")
    land(landing, "orders", "not_gzip.ndjson.gz", b"\x1f\x8bnot really gzip at all")
    report = ingest(tmp_path)

    statuses = {f.path.split("/")[-1]: f.status for f in report.files}
    assert statuses == {
        "a_truncated.json.gz": "rejected",
        "b_good.json": "loaded",
        "error_page.json": "rejected",
        "garbage.ndjson": "rejected",
        "empty.ndjson": "rejected",
        "not_gzip.ndjson.gz": "rejected",
    }
    assert rows(tmp_path, "SELECT count(*) FROM raw.sendgrid_events") == [(2,)]
    for name in ["a_truncated.json.gz", "error_page.json", "garbage.ndjson", "empty.ndjson"]:
        f = file_row(tmp_path, name)
        assert f["status"] == "rejected"
        assert name in f["error"]  # names the file
        assert (f["rows_read"], f["rows_loaded"], f["rows_quarantined"]) == (0, 0, 0)
        (q,) = quarantine(tmp_path, name)
        assert q[0] is None  # the whole file: no row number
        assert name in q[1]
    assert "Compressed file ended" in file_row(tmp_path, "a_truncated.json.gz")["error"]
    assert "not JSON" in file_row(tmp_path, "error_page.json")["error"]
    assert "empty" in file_row(tmp_path, "empty.ndjson")["error"]
    # the file's first bytes are kept, masked
    (garbage,) = quarantine(tmp_path, "garbage.ndjson")
    assert "<phone>" in garbage[2] and "345-67-89" not in garbage[2]
    (page,) = quarantine(tmp_path, "error_page.json")
    assert page[2].startswith("<html>")
    assert_balanced(tmp_path)


def test_missing_required_column_rejects_the_file_naming_field_and_file(tmp_path):
    columns = [c for c in FEEDS["dispatches"].field_names if c != "dispatched_at"]
    row = ["M1", "K1", "sms", "twilio", "SM1", "sent", None, "1"]
    land(tmp_path / "landing", "dispatches", "reexport.csv", csv_text(columns, [row, row]))
    land(
        tmp_path / "landing",
        "sendgrid",
        "no_event_ids.ndjson",
        ndjson([{k: v for k, v in _sg(i).items() if k != "sg_event_id"} for i in range(3)]),
    )
    ingest(tmp_path)
    f = file_row(tmp_path, "reexport.csv")
    assert f["status"] == "rejected"
    assert "dispatched_at" in f["error"] and "dispatches/2026-11-02/reexport.csv" in f["error"]
    (q,) = quarantine(tmp_path, "reexport.csv")
    assert q[0] is None and "dispatched_at" in q[1]
    g = file_row(tmp_path, "no_event_ids.ndjson")
    assert g["status"] == "rejected" and "sg_event_id" in g["error"]
    assert rows(tmp_path, "SELECT count(*) FROM raw.dispatches") == [(0,)]


def test_extra_unknown_fields_never_fail(tmp_path):
    land(
        tmp_path / "landing",
        "push",
        "push.ndjson",
        ndjson(
            [
                {
                    "message_id": "P1",
                    "event": "sent",
                    "occurred_at": "2026-11-02T06:00:00Z",
                    "platform": "web",
                    "Device": {"os": "linux"},
                    "ttl": 60,
                },  # fmt: skip
                {"message_id": "P2", "event": "sent", "occurred_at": "2026-11-02T06:00:00Z"},
            ]
        ),
    )
    ingest(tmp_path)
    assert rows(tmp_path, "SELECT message_id, extra FROM raw.push_events ORDER BY 1") == [
        ("P1", '{"Device":{"os":"linux"},"ttl":60}'),
        ("P2", None),
    ]


def test_relanding_the_same_bytes_is_a_no_op(tmp_path):
    landing = tmp_path / "landing"
    content = json_array([_sg(1), _sg(2), _sg(3, "opn")])
    land(landing, "sendgrid", "webhook.json", content)
    first = ingest(tmp_path)
    assert [f.status for f in first.files] == ["loaded"]
    # the same bytes again: a second run, and under another path and day
    land(landing, "sendgrid", "webhook_copy.json", content, day="2026-11-03")
    second = ingest(tmp_path)
    assert sorted(f.status for f in second.files) == ["skipped_known", "skipped_known"]
    assert second.feed_summary("sendgrid")["files_skipped_known"] == 2
    assert second.totals()["rows_read"] == 0
    assert rows(tmp_path, "SELECT count(*) FROM audit.ingested_files") == [(1,)]
    assert rows(tmp_path, "SELECT count(*) FROM audit.quarantine") == [(1,)]
    assert rows(tmp_path, "SELECT count(*) FROM raw.sendgrid_events") == [(2,)]


def test_same_bytes_twice_in_one_run(tmp_path):
    landing = tmp_path / "landing"
    content = ndjson([_sg(1)])
    land(landing, "sendgrid", "a.ndjson", content)
    land(landing, "sendgrid", "b.ndjson", content)
    report = ingest(tmp_path)
    assert [f.status for f in report.files] == ["loaded", "skipped_known"]


def test_row_numbers_are_file_positions(tmp_path):
    landing = tmp_path / "landing"
    lines = ndjson([_sg(1), _sg(2)]).splitlines()
    # NDJSON: the line number (blank lines are no records but keep their place)
    text = lines[0] + "\n\n" + '{"email": "x@y.z", "times' + "\n" + lines[1] + "\n"
    land(landing, "sendgrid", "lines.ndjson", text)
    ingest(tmp_path)
    assert file_row(tmp_path, "lines.ndjson")["rows_read"] == 3
    assert quarantine(tmp_path, "lines.ndjson")[0][:2] == (3, "malformed JSON record")
    assert rows(tmp_path, "SELECT _row_number FROM raw.sendgrid_events ORDER BY 1") == [(1,), (4,)]


def test_csv_row_numbers_after_a_broken_line(tmp_path):
    # push accepts only NDJSON
    land(tmp_path / "landing", "push", "push.csv", "message_id,event\nP1,sent\n")
    ev_header = list(FEEDS["events"].field_names)
    ev = ["e1", "smsc", "sms", "s1", "delivered", "2026-11-02T06:00:00Z", None, None, None]
    land(
        tmp_path / "landing",
        "events",
        "events.csv",
        csv_text(
            ev_header,
            [ev, ev[:3], ["e3", *ev[1:5], "bad", None, None, None], ["e4", *ev[1:]]],
        ),
    )
    ingest(tmp_path)
    # a CSV in a JSON-only feed is rejected as an unsupported type
    assert "unsupported file type" in file_row(tmp_path, "push.csv")["error"]
    assert [q[:2] for q in quarantine(tmp_path, "events.csv")] == [
        (2, "malformed CSV row: Expected Number of Columns: 9 Found: 3"),
        (3, "unparseable timestamp 'bad' (field occurred_at)"),
    ]
    assert rows(tmp_path, "SELECT event_id, _row_number FROM raw.events ORDER BY 2") == [
        ("e1", 1),
        ("e4", 4),
    ]
    assert quarantine(tmp_path, "events.csv")[0][2] == "e1,smsc,sms"
    assert_balanced(tmp_path)


def test_feed_selection_and_layout(tmp_path):
    landing = tmp_path / "landing"
    land(landing, "sendgrid", "a.ndjson", ndjson([_sg(1)]))
    land(landing, "push", "p.ndjson", ndjson([]) + "\n")
    land(landing, "sendgrid", ".partial.ndjson", "garbage")
    land(landing, "sendgrid", "_SUCCESS", "")
    land(landing, "mystery_feed", "x.csv", "a,b\n1,2\n")
    (landing / "_generator_manifest.json").write_text("{}")
    report = ingest(tmp_path, feeds=["sendgrid"])
    assert [f.path for f in report.files] == ["sendgrid/2026-11-02/a.ndjson"]
    assert report.unknown_folders == ["mystery_feed"]
    assert set(report.feed_summaries()) == {"sendgrid"}
    # every raw table exists, even for feeds without files
    tables = {t for (t,) in rows(tmp_path, "SELECT table_name FROM duckdb_tables() "
                                           "WHERE schema_name = 'raw'")}  # fmt: skip
    assert tables == {t for spec in FEEDS.values() for t in spec.tables}
    with pytest.raises(ValueError, match="unknown feed"):
        ingest(tmp_path, feeds=["nope"])


def test_a_failure_while_writing_leaves_nothing_half_loaded(tmp_path):
    landing = tmp_path / "landing"
    land(landing, "sendgrid", "w.ndjson", ndjson([_sg(1), _sg(2), _sg(3, "opn")]))
    ingest(tmp_path, landing=tmp_path / "empty")  # create the warehouse
    # break the quarantine table (a view cannot be inserted into): the raw insert of the file
    # succeeds, the quarantine insert fails, the transaction must take the raw rows back
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("ALTER TABLE audit.quarantine RENAME TO quarantine_saved")
        con.execute("CREATE VIEW audit.quarantine AS SELECT * FROM audit.quarantine_saved")
    with pytest.raises(duckdb.Error):
        ingest(tmp_path)
    assert rows(tmp_path, "SELECT count(*) FROM raw.sendgrid_events") == [(0,)]
    assert rows(tmp_path, "SELECT count(*) FROM audit.ingested_files") == [(0,)]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("DROP VIEW audit.quarantine")
        con.execute("ALTER TABLE audit.quarantine_saved RENAME TO quarantine")
    report = ingest(tmp_path)
    assert [(f.status, f.rows_loaded, f.rows_quarantined) for f in report.files] == [
        ("loaded", 2, 1)
    ]
    assert_balanced(tmp_path)


def test_parallel_and_sequential_runs_agree(tmp_path):
    landing = tmp_path / "landing"
    land(landing, "sendgrid", "a.ndjson", ndjson([_sg(1), _sg(2), _sg(1), _sg(3, "opn")]))
    land(landing, "sendgrid", "b.json", json_array([_sg(2), _sg(4)]))
    push = {"message_id": "P1", "event": "sent", "occurred_at": "2026-11-02T06:00:00Z"}
    land(landing, "push", "p.ndjson", ndjson([push]))
    land(landing, "events", "wrong_feed.ndjson", ndjson([_sg(1)]))  # rejected: no event_id
    land(
        landing,
        "twilio",
        "copy_of_a.ndjson",
        (landing / "sendgrid/2026-11-02/a.ndjson").read_bytes(),
    )
    outcomes = []
    for workers in (1, 3):
        run = tmp_path / f"w{workers}"
        run.mkdir()
        report = ingest(run, landing=landing, workers=workers)
        outcomes.append(
            [
                (f.path, f.status, f.rows_read, f.rows_loaded, f.rows_replayed, f.rows_quarantined)
                for f in report.files
            ]  # fmt: skip
        )
        assert_balanced(run)
    assert outcomes[0] == outcomes[1]
    statuses = {path: status for path, status, *_ in outcomes[0]}
    # the same bytes in two feeds: the first (feed order) is loaded, the other known
    assert statuses["sendgrid/2026-11-02/a.ndjson"] == "loaded"
    assert statuses["twilio/2026-11-02/copy_of_a.ndjson"] == "skipped_known"
