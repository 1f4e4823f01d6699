"""Personal data never reaches the warehouse in clear text; the same contact hashes the same."""

from __future__ import annotations

import re

from ingestion import hashing
from tests.test_ingestion_support import (
    KEY,
    connect,
    csv_text,
    ingest,
    json_array,
    land,
    ndjson,
    quarantine,
    rows,
)

EMAILS = ["Ivan.Petrov1@Mail.RU", "maria@example.com", "oleg.s@example.org"]
PHONES = ["+79123456789", "+7 (912) 345-67-89", "+79031112233", "+15005550006"]
CLEAR = [
    "ivan.petrov1@mail.ru",
    "Ivan.Petrov1",
    "maria@example.com",
    "oleg.s@example.org",
    "79123456789",
    "912) 345-67-89",
    "79031112233",
    "5005550006",
]
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")
PHONE_RE = re.compile(r"\+\d{10,14}\b|\+\d[\d ()-]{9,}\d")


def _land_everything(landing):
    land(
        landing,
        "audience",
        "audience.csv",
        csv_text(
            ["mailing_id", "customer_id", "group", "variant", "status", "address"],
            [
                ["M1", "K1", "treatment", "A", "good", " Ivan.Petrov1@Mail.RU "],
                ["M2", "K1", "treatment", None, "good", "+7 (912) 345-67-89"],
                ["M1", "K2", "holdout", None, "good", "maria@example.com"],  # quarantined
                ["M2", "K3", "treatment", None, "vip", "+79031112233"],  # quarantined
            ],
        ),
    )
    sg = {
        "email": "ivan.petrov1@mail.ru",
        "timestamp": 1793000000,
        "event": "bounce",
        "type": "bounce",
        "reason": "550 5.1.1 <ivan.petrov1@mail.ru>: Recipient address rejected",
        "response": "call us at +7 (912) 345-67-89",
        "url": "https://shop.example/?email=maria%40example.com",
        "sg_event_id": "ev1",
        "sg_message_id": "m1.f",
        "smtp-id": "<oleg.s@example.org>",
        "contact_phone": "+79031112233",
    }
    land(
        landing,
        "sendgrid",
        "webhook.json",
        json_array(
            [
                sg,
                {**sg, "sg_event_id": "ev2", "event": "opn", "email": "maria@example.com"},
                {**sg, "sg_event_id": "ev3", "timestamp": "yesterday", "email": "odd-address"},
            ]
        ),
    )
    msg = {
        "sid": "SM1",
        "from": "+15005550006",
        "to": "+79123456789",
        "body": "Reply to oleg.s@example.org or call +79031112233",
        "direction": "outbound-api",
        "status": "delivered",
        "date_updated": "Mon, 02 Nov 2026 06:15:05 +0000",
        "error_message": "Unreachable: +79031112233",
    }
    land(
        landing,
        "twilio",
        "messages.ndjson",
        ndjson([msg, {**msg, "sid": "SM2", "status": "delivred", "to": "+79031112233"}]),
    )
    land(
        landing,
        "twilio_clicks",
        "clicks.ndjson",
        ndjson(
            [
                {
                    "event_type": "click",
                    "sms_sid": "SM1",
                    "to": "+79123456789",
                    "link": "https://s.example/x",
                    "click_time": "2026-11-02T06:15:00Z",
                },  # fmt: skip
                {
                    "event_type": "click",
                    "sms_sid": "SM1",
                    "to": "+79031112233",
                    "click_time": "not a date",
                },  # fmt: skip
            ]
        ),
    )
    # a file that cannot be read at all, full of personal data
    land(landing, "orders", "broken.ndjson.gz", b"\x1f\x8b garbage maria@example.com +79123456789")


def test_no_clear_text_contact_anywhere_in_the_warehouse(tmp_path):
    _land_everything(tmp_path / "landing")
    report = ingest(tmp_path)
    assert report.totals()["rows_quarantined"] >= 5
    with connect(tmp_path) as con:
        columns = con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE data_type = 'VARCHAR' AND NOT internal"
        ).fetchall()
        assert len(columns) > 50
        for schema, table, column in columns:
            values = [
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
                    f'WHERE "{column}" IS NOT NULL'
                ).fetchall()
            ]
            for v in values:
                where = f"{schema}.{table}.{column}: {v!r}"
                assert not EMAIL_RE.search(v), where
                assert not PHONE_RE.search(v), where
                assert not any(c.lower() in v.lower() for c in CLEAR), where
    data = (tmp_path / "warehouse.duckdb").read_bytes()
    for clear in CLEAR:
        assert clear.encode() not in data
    assert KEY.encode() not in data  # the hash key is never stored either


def test_quarantined_raw_text_is_masked(tmp_path):
    _land_everything(tmp_path / "landing")
    ingest(tmp_path)
    sg = quarantine(tmp_path, "webhook.json")
    assert [q[:2] for q in sg] == [
        (2, "unknown event type 'opn' (field event)"),
        (3, "unparseable timestamp 'yesterday' (field timestamp)"),
    ]
    raw = sg[0][2]
    assert '"email":"<pii>"' in raw.replace(" ", "")
    assert "<email>" in raw and "<phone>" in raw
    assert '"sg_event_id": "ev2"' in raw  # the rest stays readable
    assert '"email": "<pii>"' in sg[1][2]  # even a value that does not look like an e-mail
    audience = quarantine(tmp_path, "audience.csv")
    assert [q[0] for q in audience] == [3, 4]
    assert all("<pii>" in q[2] and "@" not in q[2] for q in audience)
    (broken,) = quarantine(tmp_path, "broken.ndjson.gz")
    assert "<email>" in broken[2] and "<phone>" in broken[2]


def test_same_contact_hashes_the_same_across_feeds(tmp_path):
    _land_everything(tmp_path / "landing")
    ingest(tmp_path)
    audience = dict(rows(tmp_path, "SELECT mailing_id, address_hash FROM raw.audience"))
    (sendgrid,) = rows(tmp_path, "SELECT email_hash FROM raw.sendgrid_events")
    (twilio,) = rows(tmp_path, "SELECT to_hash, from_hash FROM raw.twilio_messages")
    (click,) = rows(tmp_path, "SELECT to_hash FROM raw.twilio_clicks")
    # e-mail: audience ' Ivan.Petrov1@Mail.RU ' == SendGrid 'ivan.petrov1@mail.ru'
    assert audience["M1"] == sendgrid[0] == hashing.hash_email("ivan.petrov1@mail.ru", KEY)
    # phone: audience '+7 (912) 345-67-89' == Twilio to '+79123456789' == click to
    assert audience["M2"] == twilio[0] == click[0] == hashing.hash_phone("+79123456789", KEY)
    assert twilio[1] == hashing.hash_phone("+15005550006", KEY)
    # and they are keyed: another key, other hashes
    assert hashing.hash_email("ivan.petrov1@mail.ru", "other") != audience["M1"]


def test_free_text_columns_are_masked_but_kept(tmp_path):
    _land_everything(tmp_path / "landing")
    ingest(tmp_path)
    (sg,) = rows(tmp_path, "SELECT reason, response, url, extra FROM raw.sendgrid_events")
    assert sg == (
        "550 5.1.1 <<email>>: Recipient address rejected",
        "call us at <phone>",
        "https://shop.example/?email=<email>",
        '{"contact_phone":"<phone>","smtp-id":"<<email>>"}',
    )
    (tw,) = rows(tmp_path, "SELECT body, error_message FROM raw.twilio_messages")
    assert tw == ("Reply to <email> or call <phone>", "Unreachable: <phone>")
