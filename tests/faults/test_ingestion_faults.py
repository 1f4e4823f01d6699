"""Issue 10, ingestion faults: each case on real landed files, through the real
``ingest_landing_zone``, into a real DuckDB file.

Implausible amounts and timestamps, money with more than 2 decimals, personal data in id
columns, a file the process cannot read (permissions, a dangling link, a FIFO), a rejected file
landed again under another name, a folder that names no feed, Unix milliseconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.test_ingestion_support import (
    RECEIPT_HEADER,
    assert_balanced,
    csv_text,
    file_row,
    ingest,
    land,
    ndjson,
    quarantine,
    rows,
)

WHEN = "2026-11-02T10:00:00+03:00"


def _receipt(rid: str, **values: str) -> list[str]:
    row = {
        "receipt_id": rid,
        "customer_id": "K1",
        "store_id": "S1",
        "purchased_at": WHEN,
        "type": "sale",
        "total_amount": "100.00",
        "currency": "RUB",
        **values,
    }
    return [row[c] for c in RECEIPT_HEADER]


def _reasons(tmp_path: Path, name: str) -> dict[int, str]:
    return {row_number: reason for row_number, reason, _ in quarantine(tmp_path, name)}


def _loaded_ids(tmp_path: Path, sql: str) -> list[str]:
    return [r[0] for r in rows(tmp_path, sql)]


def _registry(tmp_path: Path) -> list[tuple]:
    return rows(
        tmp_path,
        "SELECT path, status, file_hash IS NULL, rows_loaded, error "
        "FROM audit.ingested_files ORDER BY path, ingested_at",
    )


def _assert_registry_keys(tmp_path: Path) -> None:
    """A loaded file's bytes are registered once; a rejection once per (bytes, path)."""
    assert (
        rows(
            tmp_path,
            """SELECT file_hash FROM audit.ingested_files WHERE status = 'loaded'
           GROUP BY 1 HAVING count(*) > 1""",
        )
        == []
    )
    assert (
        rows(
            tmp_path,
            "SELECT path FROM audit.ingested_files GROUP BY file_hash, path HAVING count(*) > 1",
        )
        == []
    )


# ----------------------------------------------------------------------------- item 2: amounts
def test_implausible_and_over_precise_amounts_are_quarantined(tmp_path):
    landing = tmp_path / "landing"
    land(
        landing,
        "receipts",
        "receipts.csv",
        csv_text(
            RECEIPT_HEADER,
            [
                _receipt("R1", total_amount="999999999999.99"),  # the largest plausible
                _receipt("R2", total_amount="9999999999999999.99"),  # fits DECIMAL(18,2)
                _receipt("R3", total_amount="-2000000000000"),
                _receipt("R4", total_amount="99999999999999999999"),  # overflows DECIMAL(18,2)
                _receipt("R5", total_amount="1234.567"),
                _receipt("R6", total_amount="12.50"),
                _receipt("R7", total_amount="12,5O"),
            ],
        ),
    )
    land(
        landing,
        "receipt_lines",
        "lines.csv",
        csv_text(
            ["receipt_id", "line_number", "product_id", "quantity", "amount"],
            [
                ["R1", "1", "P1", "1.5", "10.00"],
                ["R1", "2", "P1", "1.2345", "10.00"],  # quantity keeps 3 decimals
                ["R1", "3", "P1", "1", "5e12"],
                ["R1", "4", "P1", "1", "0.005"],
            ],
        ),
    )
    order = {
        "order_id": "O1",
        "customer_id": "K1",
        "updated_at": WHEN,
        "status": "paid",
        "total_amount": 150.5,
        "currency": "RUB",
        "lines": [{"product_id": "P1", "quantity": 1, "amount": 150.5}],
    }
    land(
        landing,
        "orders",
        "orders.ndjson",
        ndjson(
            [
                order,
                {**order, "order_id": "O2", "total_amount": 1e13},
                {**order, "order_id": "O3", "lines": [{"product_id": "P1", "amount": "1e19"}]},
                {**order, "order_id": "O4", "lines": [{"product_id": "P1", "amount": 1.005}]},
            ]
        ),
    )
    ingest(tmp_path)

    assert _loaded_ids(tmp_path, "SELECT receipt_id FROM raw.receipts ORDER BY 1") == ["R1", "R6"]
    assert rows(tmp_path, "SELECT total_amount FROM raw.receipts ORDER BY 1") == [
        (Decimal("12.50"),),
        (Decimal("999999999999.99"),),
    ]
    assert _reasons(tmp_path, "receipts.csv") == {
        2: "implausible total_amount '9999999999999999.99': outside ±10^12",
        3: "implausible total_amount '-2000000000000': outside ±10^12",
        4: "implausible total_amount '99999999999999999999': outside ±10^12",  # not non-numeric
        5: "total_amount '1234.567' has more than 2 decimals",  # not rounded to 1234.57
        7: "non-numeric total_amount '12,5O'",
    }
    assert _reasons(tmp_path, "lines.csv") == {
        2: "quantity '1.2345' has more than 3 decimals",
        3: "implausible amount '5e12': outside ±10^12",
        4: "amount '0.005' has more than 2 decimals",
    }
    reasons = _reasons(tmp_path, "orders.ndjson")
    assert reasons[2] == "implausible total_amount '10000000000000.0': outside ±10^12"
    assert reasons[3] == "lines[1]: implausible amount '1e19': outside ±10^12"
    assert reasons[4] == "lines[1]: amount '1.005' has more than 2 decimals"
    assert _loaded_ids(tmp_path, "SELECT order_id FROM raw.order_lines") == ["O1"]
    assert_balanced(tmp_path)


# ----------------------------------------------------------------------------- item 6: dates
def test_timestamps_outside_the_plausible_range_are_quarantined(tmp_path):
    landing = tmp_path / "landing"
    next_year = datetime.now(UTC).year + 1
    land(
        landing,
        "receipts",
        "receipts.csv",
        csv_text(
            RECEIPT_HEADER,
            [
                _receipt("R1", purchased_at="1900-01-01T10:00:00+03:00"),
                _receipt("R2", purchased_at="2200-06-01T10:00:00Z"),
                _receipt("R3", purchased_at="9999-12-31"),
                _receipt("R4", purchased_at="0001-01-01"),
                _receipt("R5", purchased_at="2000-01-01T00:00:00Z"),  # the earliest plausible
                _receipt("R6", purchased_at=f"{next_year}-01-01T00:00:00Z"),  # within a year
                _receipt("R7", purchased_at=f"{next_year + 1}-12-31T00:00:00Z"),
            ],
        ),
    )
    sendgrid = {"sg_event_id": "E1", "event": "delivered", "timestamp": 1793000000}
    land(
        landing,
        "sendgrid",
        "webhook.ndjson",
        ndjson([sendgrid, {**sendgrid, "sg_event_id": "E2", "timestamp": 946684799}]),
    )
    message = {
        "sid": "SM1",
        "status": "delivered",
        "date_updated": "Mon, 02 Nov 2026 06:15:00 +0000",
    }
    land(
        landing,
        "twilio",
        "messages.ndjson",
        ndjson(
            [message, {**message, "sid": "SM2", "date_created": "Tue, 01 Jun 2200 06:15:00 +0000"}]
        ),
    )
    ingest(tmp_path)

    assert _loaded_ids(tmp_path, "SELECT receipt_id FROM raw.receipts ORDER BY 1") == ["R5", "R6"]
    reasons = _reasons(tmp_path, "receipts.csv")
    assert set(reasons) == {1, 2, 3, 4, 7}
    assert reasons[1] == (
        "implausible timestamp '1900-01-01T10:00:00+03:00' (field purchased_at): before 2000-01-01"
    )
    assert (
        reasons[4] == "implausible timestamp '0001-01-01' (field purchased_at): before 2000-01-01"
    )
    for n in (2, 3, 7):
        assert reasons[n].startswith("implausible timestamp '")
        assert "(field purchased_at): more than a year after this run (after " in reasons[n]
    assert _reasons(tmp_path, "webhook.ndjson") == {
        2: "implausible timestamp '946684799' (field timestamp): before 2000-01-01"
    }
    (twilio,) = _reasons(tmp_path, "messages.ndjson").items()
    assert twilio[0] == 2 and "(field date_created): more than a year after" in twilio[1]
    assert_balanced(tmp_path)


# ----------------------------------------------------------------------------- item 9: reasons
def test_unix_milliseconds_are_named_and_only_personal_data_is_masked(tmp_path):
    push = {"message_id": "P1", "event": "sent", "occurred_at": "2026-11-02T06:00:00Z"}
    land(
        tmp_path / "landing",
        "push",
        "push.ndjson",
        ndjson(
            [
                push,
                {**push, "message_id": "P2", "occurred_at": "1793000000000"},
                {**push, "message_id": "P3", "occurred_at": "+7 912 345-67-89"},
            ]
        ),
    )
    ingest(tmp_path)
    reasons = _reasons(tmp_path, "push.ndjson")
    assert reasons[2] == (
        "unparseable timestamp '1793000000000' (field occurred_at): "
        "Unix milliseconds are not accepted, only Unix seconds"
    )
    assert reasons[3] == "unparseable timestamp '<phone>' (field occurred_at)"
    raw_texts = " ".join(raw for _, _, raw in quarantine(tmp_path, "push.ndjson"))
    assert "345-67-89" not in raw_texts


# ----------------------------------------------------------------------------- item 5: PII
def test_personal_data_in_id_columns_quarantines_the_row_masked(tmp_path):
    landing = tmp_path / "landing"
    land(
        landing,
        "receipts",
        "receipts.csv",
        csv_text(
            RECEIPT_HEADER,
            [
                _receipt("R1", customer_id="4607001234567"),  # a numeric loyalty card: an id
                _receipt("R2", customer_id="Ivan.Petrov@Mail.RU"),
                _receipt("R3", store_id="+7 (912) 345-67-89"),
            ],
        ),
    )
    land(
        landing,
        "audience",
        "audience.csv",
        csv_text(
            ["mailing_id", "customer_id", "group", "status", "address"],
            [
                ["M1", "K1", "treatment", "good", "k1@example.com"],
                ["M1", "maria@example.com", "treatment", "good", "maria@example.com"],
            ],
        ),
    )
    land(
        landing,
        "dispatches",
        "dispatches.csv",
        csv_text(
            ["mailing_id", "customer_id", "channel", "dispatched_at", "status"],
            [["M1", "K1", "sms", WHEN, "sent"], ["M1", "+79123456789", "sms", WHEN, "sent"]],
        ),
    )
    mailing = {"mailing_id": "M1", "channel": "email", "category": "promo", "exported_at": WHEN}
    land(
        landing,
        "mailings",
        "mailings.ndjson",
        ndjson([mailing, {**mailing, "mailing_id": "M2", "category": "oleg@example.org"}]),
    )
    order = {"order_id": "O1", "updated_at": WHEN, "status": "paid", "currency": "RUB"}
    land(
        landing,
        "orders",
        "orders.ndjson",
        ndjson(
            [
                {**order, "utm_source": "email", "utm_campaign": "M1"},
                {**order, "order_id": "O2", "utm_source": "anna@example.com"},
                {**order, "order_id": "O3", "utm_medium": "sms 8 (903) 111-22-33"},
                {**order, "order_id": "O4", "utm_campaign": "+79031112233"},
                {**order, "order_id": "O5", "customer_id": "pavel@example.com"},
            ]
        ),
    )
    event = {"sg_event_id": "E1", "event": "delivered", "timestamp": 1793000000}
    land(
        landing,
        "sendgrid",
        "webhook.ndjson",
        ndjson([event, {**event, "sg_event_id": "E2", "customer_id": "lena@example.com"}]),
    )
    ingest(tmp_path)

    assert _reasons(tmp_path, "receipts.csv") == {
        2: "personal data in customer_id: an e-mail address where the contract expects none",
        3: "personal data in store_id: a phone number where the contract expects none",
    }
    assert _loaded_ids(tmp_path, "SELECT customer_id FROM raw.receipts") == ["4607001234567"]
    expected = {
        "audience.csv": {2: "customer_id: an e-mail address"},
        "dispatches.csv": {2: "customer_id: a phone number"},
        "mailings.ndjson": {2: "category: an e-mail address"},
        "orders.ndjson": {
            2: "utm_source: an e-mail address",
            3: "utm_medium: a phone number",
            4: "utm_campaign: a phone number",
            5: "customer_id: an e-mail address",
        },
        "webhook.ndjson": {2: "customer_id: an e-mail address"},
    }
    for name, by_row in expected.items():
        assert {n: r.split("personal data in ")[1].split(" where")[0]
                for n, r in _reasons(tmp_path, name).items()} == by_row, name  # fmt: skip
    # nothing in clear anywhere in the warehouse: raw tables, reasons, kept raw text
    clear = [
        "Ivan.Petrov", "ivan.petrov", "345-67-89", "maria@", "79123456789", "oleg@",
        "anna@", "111-22-33", "79031112233", "pavel@", "lena@",
    ]  # fmt: skip
    dump = json.dumps(
        rows(tmp_path, "SELECT * FROM audit.quarantine")
        + [r for t in ("receipts", "audience", "dispatches", "mailings", "orders",
                       "sendgrid_events") for r in rows(tmp_path, f"SELECT * FROM raw.{t}")],
        default=str,
    )  # fmt: skip
    assert [c for c in clear if c in dump] == []
    assert_balanced(tmp_path)


# ----------------------------------------------------------------------------- item 4
def test_a_rejected_file_landed_again_under_another_name_is_read(tmp_path):
    landing = tmp_path / "landing"
    content = csv_text(RECEIPT_HEADER, [_receipt("R1"), _receipt("R2")])
    wrong = land(landing, "receipts", "export.xlsx", content)
    first = ingest(tmp_path)
    assert [(f.path, f.status) for f in first.files] == [
        ("receipts/2026-11-02/export.xlsx", "rejected")
    ]
    # the same bytes under the rejected path again: known, not rejected twice
    assert [f.status for f in ingest(tmp_path).files] == ["skipped_known"]
    # the same bytes, corrected name: read and loaded
    wrong.rename(wrong.with_suffix(".csv"))
    second = ingest(tmp_path)
    assert [(f.path, f.status, f.rows_loaded) for f in second.files] == [
        ("receipts/2026-11-02/export.csv", "loaded", 2),
    ]
    assert _loaded_ids(tmp_path, "SELECT receipt_id FROM raw.receipts ORDER BY 1") == ["R1", "R2"]
    # now the bytes are loaded: any path holding them is a no-op, the wrong name included
    land(landing, "receipts", "export.xlsx", content)
    third = ingest(tmp_path)
    assert {f.status for f in third.files} == {"skipped_known"}
    assert [(p, s) for p, s, *_ in _registry(tmp_path)] == [
        ("receipts/2026-11-02/export.csv", "loaded"),
        ("receipts/2026-11-02/export.xlsx", "rejected"),  # the rejection stays in the history
    ]
    _assert_registry_keys(tmp_path)
    assert_balanced(tmp_path)


def test_a_warehouse_keyed_by_file_hash_alone_is_upgraded(tmp_path):
    import duckdb

    old_ddl = """CREATE TABLE audit.ingested_files (
        file_hash VARCHAR PRIMARY KEY, feed VARCHAR NOT NULL, path VARCHAR NOT NULL,
        size_bytes BIGINT NOT NULL, status VARCHAR NOT NULL, error VARCHAR,
        rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, rows_replayed BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL, ingested_at TIMESTAMP NOT NULL)"""
    content = csv_text(RECEIPT_HEADER, [_receipt("R1")])
    land(tmp_path / "landing", "receipts", "export.xlsx", content)
    tmp_path.joinpath("warehouse.duckdb").unlink(missing_ok=True)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA audit")
        con.execute(old_ddl)
        con.execute(
            """CREATE TABLE audit.quarantine (feed VARCHAR NOT NULL, file_hash VARCHAR NOT NULL,
               path VARCHAR NOT NULL, row_number BIGINT, reason VARCHAR NOT NULL,
               raw_text VARCHAR, quarantined_at TIMESTAMP NOT NULL)"""
        )
    ingest(tmp_path)  # rejected under the old keying
    (tmp_path / "landing/receipts/2026-11-02/export.xlsx").rename(
        tmp_path / "landing/receipts/2026-11-02/export.csv"
    )
    report = ingest(tmp_path)
    assert [f.status for f in report.files] == ["loaded"]
    assert [s for _, s, *_ in _registry(tmp_path)] == ["loaded", "rejected"]


# ----------------------------------------------------------------------------- item 9: folders
def test_a_file_in_a_folder_that_names_no_feed_is_accounted_as_unknown_feed(tmp_path):
    landing = tmp_path / "landing"
    content = csv_text(RECEIPT_HEADER, [_receipt("R1")])
    stray = land(landing, "reciepts", "receipts.csv", content)
    land(landing, "sendgrid", "webhook.ndjson", ndjson([
        {"sg_event_id": "E1", "event": "delivered", "timestamp": 1793000000}
    ]))  # fmt: skip
    report = ingest(tmp_path)
    assert report.unknown_folders == ["reciepts"]
    f = file_row(tmp_path, "reciepts/2026-11-02/receipts.csv")
    assert (f["feed"], f["status"]) == ("reciepts", "rejected")
    assert (
        "unknown feed 'reciepts'" in f["error"] and "reciepts/2026-11-02/receipts.csv" in f["error"]
    )
    (q,) = quarantine(tmp_path, "reciepts/2026-11-02/receipts.csv")
    assert q[0] is None and "unknown feed" in q[1] and q[2].startswith("receipt_id,")
    assert report.feed_summaries()["reciepts"]["files_rejected"] == 1
    assert report.totals()["files_rejected"] == 1
    # moved to the right folder, the same bytes are read
    target = landing / "receipts" / "2026-11-02"
    target.mkdir(parents=True)
    stray.rename(target / "receipts.csv")
    second = ingest(tmp_path)
    assert [(f.path, f.status) for f in second.files] == [
        ("sendgrid/2026-11-02/webhook.ndjson", "skipped_known"),
        ("receipts/2026-11-02/receipts.csv", "loaded"),
    ]
    assert _loaded_ids(tmp_path, "SELECT receipt_id FROM raw.receipts") == ["R1"]


# ----------------------------------------------------------------------------- items 3 and 9
def test_dangling_links_and_special_files_are_rejected_and_the_others_load(tmp_path):
    landing = tmp_path / "landing"
    event = {"sg_event_id": "E1", "event": "delivered", "timestamp": 1793000000}
    good = land(landing, "sendgrid", "b_good.ndjson", ndjson([event]))
    link = good.parent / "a_link.ndjson"
    link.symlink_to(good.parent / "moved_away.ndjson")
    fifo = good.parent / "c_pipe.ndjson"
    os.mkfifo(fifo)  # opening it would block the run: it must never be opened
    report = ingest(tmp_path)
    assert [(f.path.split("/")[-1], f.status) for f in report.files] == [
        ("a_link.ndjson", "rejected"),
        ("b_good.ndjson", "loaded"),
        ("c_pipe.ndjson", "rejected"),
    ]
    assert rows(tmp_path, "SELECT count(*) FROM raw.sendgrid_events") == [(1,)]
    link_row = file_row(tmp_path, "a_link.ndjson")
    assert link_row["file_hash"] is None
    assert link_row["error"] == (
        "sendgrid/2026-11-02/a_link.ndjson: cannot read the file: "
        f"dangling symbolic link to '{good.parent / 'moved_away.ndjson'}'"
    )
    assert file_row(tmp_path, "c_pipe.ndjson")["error"].endswith("not a regular file (a FIFO)")
    assert [q[0] for q in quarantine(tmp_path, "a_link.ndjson")] == [None]
    # tried again every run, the latest attempt replacing the earlier one
    ingest(tmp_path)
    assert len(quarantine(tmp_path, "a_link.ndjson")) == 1
    assert [p for p, *_ in _registry(tmp_path)].count("sendgrid/2026-11-02/a_link.ndjson") == 1
    # the link's target lands: the file loads and its unreadable rows go
    land(landing, "sendgrid", "moved_away.ndjson", ndjson([{**event, "sg_event_id": "E2"}]))
    third = ingest(tmp_path)
    statuses = {f.path.split("/")[-1]: f.status for f in third.files}
    assert (
        statuses["a_link.ndjson"] == "loaded" and statuses["moved_away.ndjson"] == "skipped_known"
    )
    assert file_row(tmp_path, "a_link.ndjson")["status"] == "loaded"
    assert quarantine(tmp_path, "a_link.ndjson") == []
    _assert_registry_keys(tmp_path)
    assert_balanced(tmp_path)


CHILD_SCRIPT = """
import json, sys
from ingestion import IngestSettings, ingest_landing_zone
report = ingest_landing_zone(sys.argv[1], sys.argv[2], IngestSettings(pii_hash_key="k"))
print(json.dumps([[f.path, f.status, f.rows_loaded, f.error] for f in report.files]))
"""


@pytest.fixture
def shared_tmp():
    """A folder another user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="ingest-faults-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# util-linux's setpriv: drops to 'nobody' without any capability left (CapEff 0), so a file of
# mode 600 owned by root is unreadable to the ingestion, as a permission problem is in production
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run the ingestion as 'nobody'",
)
def test_a_file_the_process_cannot_read_is_rejected_and_the_others_load(shared_tmp):
    # root reads any file whatever its mode: the ingestion runs as 'nobody'
    landing = shared_tmp / "landing"
    event = {"sg_event_id": "E1", "event": "delivered", "timestamp": 1793000000}
    land(landing, "sendgrid", "a_good.ndjson", ndjson([event]))
    secret = land(landing, "sendgrid", "b_secret.ndjson", ndjson([{**event, "sg_event_id": "E2"}]))
    land(landing, "push", "p.ndjson", ndjson(
        [{"message_id": "P1", "event": "sent", "occurred_at": "2026-11-02T06:00:00Z"}]
    ))  # fmt: skip
    for folder in [landing, *landing.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    secret.chmod(0o600)
    data = shared_tmp / "data"
    data.mkdir()
    shutil.chown(data, "nobody")

    def run_as_nobody() -> list[list]:
        done = subprocess.run(
            [*AS_NOBODY, sys.executable, "-c", CHILD_SCRIPT]
            + [str(data / "warehouse.duckdb"), str(landing)],
            cwd=shared_tmp,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(data)},
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    files = run_as_nobody()
    assert [f[:3] for f in files] == [
        ["sendgrid/2026-11-02/a_good.ndjson", "loaded", 1],
        ["sendgrid/2026-11-02/b_secret.ndjson", "rejected", 0],
        ["push/2026-11-02/p.ndjson", "loaded", 1],
    ]
    assert (
        files[1][3]
        == "sendgrid/2026-11-02/b_secret.ndjson: cannot read the file: Permission denied"
    )
    (q,) = quarantine(data, "b_secret.ndjson")
    assert q[0] is None and "Permission denied" in q[1]
    # permissions fixed: the file loads on the next run, nothing else is read again
    secret.chmod(0o644)
    files = run_as_nobody()
    assert [f[:3] for f in files] == [
        ["sendgrid/2026-11-02/a_good.ndjson", "skipped_known", 0],
        ["sendgrid/2026-11-02/b_secret.ndjson", "loaded", 1],
        ["push/2026-11-02/p.ndjson", "skipped_known", 0],
    ]
    assert rows(data, "SELECT count(*) FROM raw.sendgrid_events") == [(2,)]
    assert quarantine(data, "b_secret.ndjson") == []
    assert_balanced(data)
