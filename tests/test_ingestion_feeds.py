"""Each feed: a good file and bad input in the feed's real formats, ingested into a real DuckDB
file. Checks typed values, accounting per file, row numbers and readable quarantine reasons."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ingestion import FEEDS, hashing
from tests.test_ingestion_support import (
    KEY,
    RECEIPT_HEADER,
    assert_balanced,
    csv_text,
    dicts,
    file_row,
    ingest,
    json_array,
    land,
    ndjson,
    parquet_bytes,
    quarantine,
    rows,
)


def _accounting(tmp_path, suffix):
    f = file_row(tmp_path, suffix)
    return f["status"], f["rows_read"], f["rows_loaded"], f["rows_replayed"], f["rows_quarantined"]


def test_campaigns_csv(tmp_path):
    header = ["campaign_id", "name", "type", "status", "created_at", "exported_at", "owner"]
    good = ["C1", "Black Friday", "messaging", "live", "2026-10-01T10:00:00+03:00",
            "2026-11-01T00:00:00Z", "marketing"]  # fmt: skip
    land(
        tmp_path / "landing",
        "campaigns",
        "campaigns_export_20261101_001.csv",
        csv_text(
            header,
            [
                good,
                [
                    "C2",
                    "Quiz",
                    "interactive",
                    "archived",
                    "2026-10-01T10:00:00+03:00",
                    "2026-11-01T00:00:00Z",
                    None,
                ],  # fmt: skip
                [
                    "C3",
                    "Bad date",
                    "messaging",
                    "draft",
                    "2026-13-01",
                    "2026-11-01T00:00:00Z",
                    None,
                ],  # fmt: skip
                [None, "No id", "messaging", "draft", None, "2026-11-01T00:00:00Z", None],
                good,  # the same snapshot again: a replay
            ],
        ),
    )
    report = ingest(tmp_path)
    assert report.feed_summary("campaigns")["files_loaded"] == 1
    assert _accounting(tmp_path, "001.csv") == ("loaded", 5, 1, 1, 3)
    assert quarantine(tmp_path, "001.csv")[0][:2] == (
        2,
        "unknown campaign status 'archived' (field status)",
    )
    assert [q[:2] for q in quarantine(tmp_path, "001.csv")[1:]] == [
        (3, "unparseable timestamp '2026-13-01' (field created_at)"),
        (4, "missing required value (field campaign_id)"),
    ]
    (c,) = dicts(tmp_path, "SELECT * FROM raw.campaigns")
    assert c["created_at"] == datetime(2026, 10, 1, 7, 0)
    assert c["exported_at"] == datetime(2026, 11, 1, 0, 0)
    assert c["extra"] == '{"owner":"marketing"}'
    assert c["_row_number"] == 1
    assert len(c["_record_hash"]) == 64
    assert_balanced(tmp_path)


def test_mailings_jsonl(tmp_path):
    base = {
        "mailing_id": "M1",
        "campaign_id": None,
        "name": "Weekly news",
        "channel": "sms",
        "category": "news",
        "status": "sent",
        "sent_at": "2026-11-02T09:00:00+03:00",
        "attribution_window_days": 7,
        "body": "Sale! Call +7 (912) 345-67-89",
        "exported_at": "2026-11-02T00:00:00+03:00",
    }
    land(
        tmp_path / "landing",
        "mailings",
        "mailings_export.jsonl",
        ndjson(
            [
                base,
                {**base, "mailing_id": "M2", "attribution_window_days": None, "sent_at": None},
                {**base, "mailing_id": "M3", "attribution_window_days": "seven"},
                {**base, "mailing_id": "M4", "channel": "fax"},
                {**base, "mailing_id": "M5", "attribution_window_days": "2.5"},
            ]
        ),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "mailings_export.jsonl") == ("loaded", 5, 2, 0, 3)
    assert [q[:2] for q in quarantine(tmp_path, "mailings_export.jsonl")] == [
        (3, "non-integer attribution_window_days 'seven'"),
        (4, "unknown channel 'fax'"),
        (5, "non-integer attribution_window_days '2.5'"),
    ]
    got = rows(
        tmp_path,
        "SELECT mailing_id, campaign_id, attribution_window_days, sent_at, body "
        "FROM raw.mailings ORDER BY 1",
    )
    assert got == [
        ("M1", None, 7, datetime(2026, 11, 2, 6, 0), "Sale! Call <phone>"),
        ("M2", None, None, None, "Sale! Call <phone>"),
    ]


def test_audience_csv_gz_and_parquet(tmp_path):
    header = ["mailing_id", "customer_id", "group", "variant", "status", "address"]
    land(
        tmp_path / "landing",
        "audience",
        "audience_m1.csv.gz",
        csv_text(
            header,
            [
                ["M1", "K1", "treatment", "A", "good", " Ivan.Petrov1@Mail.RU "],
                ["M1", "K2", "control", None, "good", "+7 (912) 345-67-89"],
                ["M1", "K3", "holdout", None, "good", "k3@example.com"],
                ["M1", None, "treatment", "B", "good", "k4@example.com"],
            ],
        ),
    )
    land(
        tmp_path / "landing",
        "audience",
        "audience_m2.parquet",
        parquet_bytes(
            {
                "mailing_id": ["M2", "M2"],
                "customer_id": ["K1", "K5"],
                "group": ["treatment", "treatment"],
                "variant": [None, None],
                "status": ["good", "vip"],
                "address": ["ivan.petrov1@mail.ru", None],
            }
        ),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "audience_m1.csv.gz") == ("loaded", 4, 2, 0, 2)
    assert _accounting(tmp_path, "audience_m2.parquet") == ("loaded", 2, 1, 0, 1)
    assert [q[:2] for q in quarantine(tmp_path, "audience_m1.csv.gz")] == [
        (3, "unknown group 'holdout'"),
        (4, "missing required value (field customer_id)"),
    ]
    assert quarantine(tmp_path, "audience_m2.parquet")[0][:2] == (
        2,
        "unknown audience status 'vip' (field status)",
    )
    hashes = dict(
        rows(tmp_path, "SELECT mailing_id || customer_id, address_hash FROM raw.audience")
    )
    assert hashes["M1K1"] == hashes["M2K1"] == hashing.hash_email("ivan.petrov1@mail.ru", KEY)
    assert hashes["M1K2"] == hashing.hash_phone("+79123456789", KEY)


def test_dispatches_parquet_with_int_segments(tmp_path):
    land(
        tmp_path / "landing",
        "dispatches",
        "dispatches_m1.parquet",
        parquet_bytes(
            {
                "mailing_id": ["M1", "M1", "M1"],
                "customer_id": ["K1", "K2", "K3"],
                "channel": ["sms", "sms", "sms"],
                "provider": ["twilio", None, "twilio"],
                "provider_message_id": ["SM1", None, "SM3"],
                "dispatched_at": [
                    "2026-11-02T09:00:00+03:00",
                    "2026-11-02T09:00:00+03:00",
                    "not a date",
                ],  # fmt: skip
                "status": ["sent", "skipped", "sent"],
                "skip_reason": [None, "ContentTooLong", None],
                "segments": [2, None, 1],
            }
        ),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "dispatches_m1.parquet") == ("loaded", 3, 2, 0, 1)
    assert quarantine(tmp_path, "dispatches_m1.parquet")[0][:2] == (
        3,
        "unparseable timestamp 'not a date' (field dispatched_at)",
    )
    assert rows(
        tmp_path, "SELECT customer_id, segments, skip_reason FROM raw.dispatches ORDER BY 1"
    ) == [("K1", 2, None), ("K2", None, "ContentTooLong")]


def _sg(i: int, event: str = "delivered", **kw) -> dict:
    return {
        "email": f"user{i}@example.com",
        "timestamp": 1793000000 + i,
        "smtp-id": f"<{i}@ismtpd.example.net>",
        "event": event,
        "category": "promo",
        "sg_event_id": f"ev{i}",
        "sg_message_id": f"msg{i}.filter0001",
        "mailing_id": "M1",
        "customer_id": f"K{i}",
        **kw,
    }


def test_sendgrid_json_array_and_ndjson(tmp_path):
    events = [
        _sg(1),
        _sg(2, "open", sg_machine_open=True, useragent="Mozilla/5.0"),
        _sg(3, "click", url="https://shop.example/p/1?utm_source=email", category=["promo", "bf"]),
        _sg(4, "bounce", type="blocked", reason="550 mailbox user4@example.com unavailable"),
        _sg(5, "opn"),
        _sg(1),  # SendGrid re-delivered the same event in the same batch
    ]
    land(tmp_path / "landing", "sendgrid", "webhook_001.json", json_array(events))
    retry = [_sg(3, "click"), _sg(4, "bounce", type="blocked"), _sg(6, "spamreport")]
    land(tmp_path / "landing", "sendgrid", "webhook_retry_001.ndjson", ndjson(retry))
    report = ingest(tmp_path)
    assert _accounting(tmp_path, "webhook_001.json") == ("loaded", 6, 4, 1, 1)
    assert _accounting(tmp_path, "webhook_retry_001.ndjson") == ("loaded", 3, 1, 2, 0)
    assert report.feed_summary("sendgrid")["rows_replayed"] == 3
    assert quarantine(tmp_path, "webhook_001.json")[0][:2] == (
        5,
        "unknown event type 'opn' (field event)",
    )
    got = {
        r["sg_event_id"]: r
        for r in dicts(tmp_path, "SELECT * FROM raw.sendgrid_events ORDER BY sg_event_id")
    }
    assert sorted(got) == ["ev1", "ev2", "ev3", "ev4", "ev6"]
    assert got["ev1"]["timestamp"] == datetime(2026, 10, 26, 7, 33, 21)
    assert got["ev1"]["email_hash"] == hashing.hash_email("user1@example.com", KEY)
    assert got["ev1"]["category"] == '"promo"'
    assert got["ev3"]["category"] == '["promo","bf"]'
    assert got["ev2"]["sg_machine_open"] is True
    assert got["ev1"]["sg_machine_open"] is None
    assert got["ev4"]["type"] == "blocked"
    assert got["ev4"]["reason"] == "550 mailbox <email> unavailable"
    assert got["ev1"]["extra"] == '{"smtp-id":"<<email>>"}'
    assert "email" not in got["ev1"]


def test_twilio_json_and_csv(tmp_path):
    msg = {
        "sid": "SM1",
        "account_sid": "AC1",
        "messaging_service_sid": "MG1",
        "from": "+15005550006",
        "to": "+79123456789",
        "body": "Sale today",
        "direction": "outbound-api",
        "status": "delivered",
        "error_code": None,
        "error_message": None,
        "num_segments": "1",
        "date_created": "Mon, 02 Nov 2026 09:15:00 +0300",
        "date_sent": "Mon, 02 Nov 2026 06:15:01 +0000",
        "date_updated": "Mon, 02 Nov 2026 06:15:05 +0000",
        "price": "-0.00750",
        "price_unit": "USD",
        "api_version": "2010-04-01",
    }
    land(
        tmp_path / "landing",
        "twilio",
        "messages_001.json",
        json_array(
            [
                msg,
                {**msg, "status": "sent", "date_updated": "Mon, 02 Nov 2026 06:15:02 +0000"},
                {**msg, "sid": "SM2", "status": "delivred"},
                {**msg, "sid": "SM3", "date_updated": "Mon, 32 Nov 2026 06:15:00 +0000"},
                {**msg, "sid": "SM4", "num_segments": "two"},
                msg,  # the same snapshot listed twice
            ]
        ),
    )
    inbound = {**msg, "sid": "SM9", "direction": "inbound", "from": "+7 (912) 345-67-89",
               "to": "+15005550006", "body": " Stop ", "price": None}  # fmt: skip
    land(
        tmp_path / "landing",
        "twilio",
        "messages_002.csv",
        csv_text(list(inbound), [list(inbound.values())]),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "messages_001.json") == ("loaded", 6, 2, 1, 3)
    assert [q[:2] for q in quarantine(tmp_path, "messages_001.json")] == [
        (3, "unknown message status 'delivred' (field status)"),
        (4, "unparseable timestamp 'Mon, 32 Nov 2026 06:15:00 +0000' (field date_updated)"),
        (5, "non-integer num_segments 'two'"),
    ]
    got = dicts(tmp_path, "SELECT * FROM raw.twilio_messages ORDER BY sid, date_updated DESC")
    first = got[0]
    assert first["date_created"] == datetime(2026, 11, 2, 6, 15)  # RFC 2822 +0300 -> UTC
    assert first["date_updated"] == datetime(2026, 11, 2, 6, 15, 5)
    assert first["price"] == Decimal("-0.007500")
    assert first["num_segments"] == 1
    assert first["to_hash"] == hashing.hash_phone("+79123456789", KEY)
    assert first["extra"] == '{"api_version":"2010-04-01"}'
    sms9 = got[-1]
    assert sms9["sid"] == "SM9" and sms9["body"] == " Stop "
    # the same phone number hashes the same whatever its formatting and field
    assert sms9["from_hash"] == first["to_hash"]


def test_twilio_clicks_and_push_ndjson(tmp_path):
    click = {
        "event_type": "click",
        "sms_sid": "SM1",
        "to": "+79123456789",
        "link": "https://shop.example/p/1",
        "click_time": "2026-11-02T06:15:00.123Z",
        "messaging_service_sid": "MG1",
        "account_sid": "AC1",
        "user_agent": "Mozilla/5.0",
    }
    land(
        tmp_path / "landing",
        "twilio_clicks",
        "link_clicks.ndjson",
        ndjson([click, {**click, "event_type": "tap"}, '{"event_type": "click", "sms_sid']),
    )
    push = {"message_id": "P1", "event": "delivered", "occurred_at": "2026-11-02T09:15:00+03:00",
            "error": None, "platform": "ios"}  # fmt: skip
    land(
        tmp_path / "landing",
        "push",
        "push_events.ndjson",
        ndjson([push, {**push, "event": "opened"}, {**push, "platform": "blackberry"}]),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "link_clicks.ndjson") == ("loaded", 3, 1, 0, 2)
    assert [q[:2] for q in quarantine(tmp_path, "link_clicks.ndjson")] == [
        (2, "unknown event type 'tap' (field event_type)"),
        (3, "malformed JSON record"),
    ]
    (c,) = dicts(tmp_path, "SELECT * FROM raw.twilio_clicks")
    assert c["click_time"] == datetime(2026, 11, 2, 6, 15, 0, 123000)
    assert c["to_hash"] == hashing.hash_phone("+79123456789", KEY)
    assert c["extra"] == '{"account_sid":"AC1"}'
    assert _accounting(tmp_path, "push_events.ndjson") == ("loaded", 3, 2, 0, 1)
    assert quarantine(tmp_path, "push_events.ndjson")[0][:2] == (3, "unknown platform 'blackberry'")


def test_events_csv_replay_key_is_provider_and_event_id(tmp_path):
    header = list(FEEDS["events"].field_names)
    ev = ["e1", "mailgun", "email", "mg1", "delivered", "2026-11-02T06:15:00", None, None, None]
    land(
        tmp_path / "landing",
        "events",
        "events_mailgun_001.csv",
        csv_text(
            header,
            [
                ev,
                ["e1", "smsc", "sms", "s1", "failed", "2026-11-02T06:15:00Z", None, "6", "absent"],
                [
                    "e1",
                    "mailgun",
                    "email",
                    "mg1",
                    "opened",
                    "2026-11-02T07:00:00Z",
                    None,
                    None,
                    None,
                ],  # fmt: skip  (same provider + event id: a replay even if it differs)
                [
                    "e2",
                    "mailgun",
                    "email",
                    None,
                    "opened",
                    "2026-11-02T07:00:00Z",
                    None,
                    None,
                    None,
                ],
            ],
        ),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "events_mailgun_001.csv") == ("loaded", 4, 2, 1, 1)
    assert quarantine(tmp_path, "events_mailgun_001.csv")[0][:2] == (
        4,
        "missing required value (field provider_message_id)",
    )
    got = rows(tmp_path, "SELECT provider, event_id, occurred_at FROM raw.events ORDER BY 1")
    # an offset-less timestamp is UTC
    assert got == [
        ("mailgun", "e1", datetime(2026, 11, 2, 6, 15)),
        ("smsc", "e1", datetime(2026, 11, 2, 6, 15)),
    ]


def test_products_receipts_and_lines(tmp_path):
    landing = tmp_path / "landing"
    land(
        landing,
        "products",
        "products_export.csv",
        csv_text(
            ["product_id", "name", "category_id", "category_name", "exported_at"],
            [
                ["P1", "Apples, kg", "C1", "Fruit", "2026-10-01T00:00:00+03:00"],
                [None, "Ghost", "C1", "Fruit", "2026-10-01T00:00:00+03:00"],
            ],  # fmt: skip
        ),
    )
    receipt = ["R1", "K1", "S1", "2026-11-02T12:00:00+07:00", "sale", "150.50", "RUB"]
    land(
        landing,
        "receipts",
        "receipts_001.csv",
        csv_text(
            RECEIPT_HEADER,
            [
                receipt,
                ["R2", None, "S1", "2026-11-02T12:00:00+07:00", "return", "10", "rub"],
                ["R3", "K1", "S1", "2026-11-02T12:00:00+07:00", "sale", "10", "USD"],
                ["R4", "K1", "S1", "2026-11-02T12:00:00+07:00", "sale", "12,5O", "RUB"],
            ],
        ),
    )
    land(
        landing,
        "receipt_lines",
        "receipt_lines_001.csv.gz",
        csv_text(
            ["receipt_id", "line_number", "product_id", "quantity", "amount"],
            [
                ["R1", 1, "P1", "1.5", "100.00"],
                ["R1", 2, "P2", "0.735", "50.50"],
                ["R4", 1, "P2", "1,5", "12.5"],
                ["R4", 2, "P2", "1", "abc"],
            ],
        ),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "products_export.csv") == ("loaded", 2, 1, 0, 1)
    assert _accounting(tmp_path, "receipts_001.csv") == ("loaded", 4, 2, 0, 2)
    assert [q[:2] for q in quarantine(tmp_path, "receipts_001.csv")] == [
        (3, "currency USD but installation is RUB"),
        (4, "non-numeric total_amount '12,5O'"),
    ]
    assert rows(tmp_path, "SELECT receipt_id, purchased_at, total_amount FROM raw.receipts") == [
        ("R1", datetime(2026, 11, 2, 5, 0), Decimal("150.50")),
        ("R2", datetime(2026, 11, 2, 5, 0), Decimal("10.00")),
    ]
    assert [q[:2] for q in quarantine(tmp_path, "receipt_lines_001.csv.gz")] == [
        (3, "non-numeric quantity '1,5'"),
        (4, "non-numeric amount 'abc'"),
    ]
    assert rows(tmp_path, "SELECT line_number, quantity FROM raw.receipt_lines ORDER BY 1") == [
        (1, Decimal("1.500")),
        (2, Decimal("0.735")),
    ]


def test_orders_lines_exploded_into_order_lines(tmp_path):
    order = {
        "order_id": "O1",
        "customer_id": "K1",
        "created_at": "2026-11-02T10:00:00+03:00",
        "updated_at": "2026-11-02T10:00:00+03:00",
        "status": "placed",
        "total_amount": 150.5,
        "currency": "RUB",
        "utm_source": "email",
        "utm_medium": "email",
        "utm_campaign": "M1",
        "lines": [
            {"product_id": "P1", "quantity": 1.5, "amount": 100},
            {"product_id": "P2", "quantity": 1, "amount": 50.5, "gift_wrap": True},
        ],
    }
    paid = {**order, "status": "paid", "updated_at": "2026-11-02T11:00:00+03:00"}
    land(
        tmp_path / "landing",
        "orders",
        "orders_001.ndjson",
        ndjson(
            [
                order,
                paid,
                order,  # the same snapshot again
                {**order, "order_id": "O2", "currency": "USD"},
                {
                    **order,
                    "order_id": "O3",
                    "lines": [{"product_id": "P1", "quantity": "x", "amount": 1}],
                },  # fmt: skip
                '{"order_id": "O4", "updated_at',
            ]
        ),
    )
    report = ingest(tmp_path)
    assert _accounting(tmp_path, "orders_001.ndjson") == ("loaded", 6, 2, 1, 3)
    assert [q[:2] for q in quarantine(tmp_path, "orders_001.ndjson")] == [
        (4, "currency USD but installation is RUB"),
        (5, "lines[1]: non-numeric quantity 'x'"),
        (6, "malformed JSON record"),
    ]
    assert rows(tmp_path, "SELECT order_id, status, updated_at FROM raw.orders ORDER BY 3") == [
        ("O1", "placed", datetime(2026, 11, 2, 7, 0)),
        ("O1", "paid", datetime(2026, 11, 2, 8, 0)),
    ]
    lines = dicts(tmp_path, "SELECT * FROM raw.order_lines ORDER BY updated_at, line_number")
    assert [
        (r["order_id"], r["updated_at"].hour, r["line_number"], r["quantity"]) for r in lines
    ] == [
        ("O1", 7, 1, Decimal("1.500")),
        ("O1", 7, 2, Decimal("1.000")),
        ("O1", 8, 1, Decimal("1.500")),
        ("O1", 8, 2, Decimal("1.000")),
    ]
    assert lines[1]["extra"] == '{"gift_wrap":true}'
    assert lines[0]["_row_number"] == 1 and lines[2]["_row_number"] == 2
    assert report.feed_summary("orders")["child_rows_loaded"] == 4
    assert_balanced(tmp_path)


def test_holdouts_csv_periods_and_bad_rows(tmp_path):
    header = ["customer_id", "holdout", "valid_from", "valid_to"]
    opened = ["K1", "global", "2026-11-01T00:00:00+03:00", None]
    land(
        tmp_path / "landing",
        "holdouts",
        "holdouts_20261101.csv",
        csv_text(
            header,
            [
                opened,
                ["K2", "global", "2026-11-01T00:00:00+03:00", "2026-11-15T00:00:00+03:00"],
                ["K3", "regional", "2026-11-01T00:00:00+03:00", None],
                ["K4", "global", "2026-11-10T00:00:00Z", "2026-11-09T23:59:59Z"],
                ["k5@example.com", "global", "2026-11-01T00:00:00Z", None],
                ["K6", "global", None, None],
                ["K7", "global", "1999-12-31T00:00:00Z", None],
                ["K8", "global", "2026-11-10T00:00:00Z", "2026-11-10T00:00:00Z"],  # empty period
                opened,  # the same export row again: a replay
            ],
        ),
    )
    # a later export of K1's period closes it: a new record, loaded beside the open one
    land(
        tmp_path / "landing",
        "holdouts",
        "holdouts_20261120.csv",
        csv_text(header, [["K1", "global", "2026-11-01T00:00:00+03:00", "2026-11-20T12:00:00Z"]]),
        day="2026-11-20",
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "holdouts_20261101.csv") == ("loaded", 9, 3, 1, 5)
    assert _accounting(tmp_path, "holdouts_20261120.csv") == ("loaded", 1, 1, 0, 0)
    assert [q[:2] for q in quarantine(tmp_path, "holdouts_20261101.csv")] == [
        (3, "unknown holdout 'regional'"),
        (4, "valid_to '2026-11-09T23:59:59Z' is before valid_from '2026-11-10T00:00:00Z'"),
        (5, "personal data in customer_id: an e-mail address where the contract expects none"),
        (6, "missing required value (field valid_from)"),
        (7, "implausible timestamp '1999-12-31T00:00:00Z' (field valid_from): before 2000-01-01"),
    ]
    assert rows(
        tmp_path,
        "SELECT customer_id, holdout, valid_from, valid_to FROM raw.holdouts ORDER BY 1, 4",
    ) == [
        ("K1", "global", datetime(2026, 10, 31, 21, 0), datetime(2026, 11, 20, 12, 0)),
        ("K1", "global", datetime(2026, 10, 31, 21, 0), None),
        ("K2", "global", datetime(2026, 10, 31, 21, 0), datetime(2026, 11, 14, 21, 0)),
        ("K8", "global", datetime(2026, 11, 10, 0, 0), datetime(2026, 11, 10, 0, 0)),
    ]
    assert_balanced(tmp_path)


def test_holdouts_file_without_valid_from_is_rejected(tmp_path):
    land(
        tmp_path / "landing",
        "holdouts",
        "holdouts_broken.csv",
        csv_text(["customer_id", "holdout", "valid_to"], [["K1", "global", None]]),
    )
    ingest(tmp_path)
    f = file_row(tmp_path, "holdouts_broken.csv")
    assert f["status"] == "rejected"
    assert "required field valid_from missing from the file (feed holdouts" in f["error"]


def test_message_prices_csv_decimals_currency_and_bad_rows(tmp_path):
    header = ["channel", "provider", "unit", "price", "currency", "valid_from"]
    land(
        tmp_path / "landing",
        "message_prices",
        "message_prices_20261101.csv",
        csv_text(
            header,
            [
                ["sms", "twilio", "segment", "2.4125", "RUB", "2026-11-01T00:00:00+03:00"],
                ["email", "sendgrid", "message", "0.12", "rub", "2026-11-01T00:00:00+03:00"],
                ["push", "push", "message", "0.015", "RUB", "2026-11-01"],
                ["sms", "twilio", "segment", "2.41255551", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", "twilio", "segment", "2.50", "USD", "2026-11-15T00:00:00+03:00"],
                ["fax", "twilio", "message", "1", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", "twilio", "character", "1", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", "twilio", "segment", "-2.5", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", "twilio", "segment", "N/A", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", "twilio", "segment", "5000000000000", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", None, "segment", "2.5", "RUB", "2026-11-15T00:00:00+03:00"],
                ["sms", "twilio", "segment", "2.5", "RUB", "2200-01-01T00:00:00Z"],
            ],
        ),
    )
    ingest(tmp_path)
    assert _accounting(tmp_path, "message_prices_20261101.csv") == ("loaded", 12, 3, 0, 9)
    assert [q[:2] for q in quarantine(tmp_path, "message_prices_20261101.csv")] == [
        (4, "price '2.41255551' has more than 6 decimals"),
        (5, "currency USD but installation is RUB"),
        (6, "unknown channel 'fax'"),
        (7, "unknown price unit 'character' (field unit)"),
        (8, "negative price '-2.5': cannot be below 0"),
        (9, "non-numeric price 'N/A'"),
        (10, "implausible price '5000000000000': outside ±10^12"),
        (11, "missing required value (field provider)"),
        (
            12,
            "implausible timestamp '2200-01-01T00:00:00Z' (field valid_from): more than a year "
            "after this run (after "
            + rows(tmp_path, "SELECT strftime(current_date + INTERVAL 1 YEAR, '%Y-%m-%d')")[0][0]
            + ")",
        ),
    ]
    assert rows(
        tmp_path,
        "SELECT channel, provider, unit, price, currency, valid_from FROM raw.message_prices "
        "ORDER BY 1",
    ) == [
        ("email", "sendgrid", "message", Decimal("0.120000"), "rub", datetime(2026, 10, 31, 21)),
        ("push", "push", "message", Decimal("0.015000"), "RUB", datetime(2026, 11, 1)),
        ("sms", "twilio", "segment", Decimal("2.412500"), "RUB", datetime(2026, 10, 31, 21)),
    ]
    assert_balanced(tmp_path)


def _land_audience(tmp_path, records: list[list]) -> None:
    header = ["mailing_id", "customer_id", "group", "variant", "status", "address"]
    land(tmp_path / "landing", "audience", "audience_m1.csv", csv_text(header, records))


def test_email_domain_kept_beside_the_hash(tmp_path):
    """The domain (lower-cased, after the last '@') of SendGrid `email` and audience `address`;
    null for a phone number, an address without a domain and no address."""
    _land_audience(
        tmp_path,
        [
            ["M1", "K1", "treatment", None, "good", " Ivan.Petrov1@Mail.RU "],
            ["M1", "K2", "treatment", None, "good", "+7 (912) 345-67-89"],
            ["M1", "K3", "treatment", None, "address_issue", "ivan@"],
            ["M1", "K4", "treatment", None, "address_issue", None],
            ["M1", "K5", "treatment", None, "good", '"a@b"@Small-Company.example'],
        ],
    )
    land(
        tmp_path / "landing",
        "sendgrid",
        "webhook_001.json",
        json_array([_sg(1, email="Olga@GMail.com"), _sg(2, email="bad address@x y")]),
    )
    ingest(tmp_path)
    assert rows(tmp_path, "SELECT customer_id, email_domain FROM raw.audience ORDER BY 1") == [
        ("K1", "mail.ru"),
        ("K2", None),
        ("K3", None),
        ("K4", None),
        ("K5", "small-company.example"),
    ]
    assert rows(
        tmp_path, "SELECT sg_event_id, email_domain FROM raw.sendgrid_events ORDER BY 1"
    ) == [("ev1", "gmail.com"), ("ev2", None)]


def test_a_raw_table_made_before_email_domain_gets_the_column(tmp_path):
    """A warehouse whose raw.audience predates email_domain: the next ingestion adds the column
    (NULL for the rows loaded before) and loads new rows with their domain."""
    import duckdb

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            """CREATE TABLE raw.audience (mailing_id VARCHAR, customer_id VARCHAR,
            "group" VARCHAR, variant VARCHAR, status VARCHAR, address_hash VARCHAR,
            extra VARCHAR, _record_hash VARCHAR NOT NULL, _file_hash VARCHAR NOT NULL,
            _row_number BIGINT NOT NULL, _ingested_at TIMESTAMP NOT NULL)"""
        )
        con.execute(
            "INSERT INTO raw.audience VALUES ('M0', 'K0', 'treatment', NULL, 'good', 'h', NULL, "
            "'r', 'f', 1, TIMESTAMP '2026-11-01 00:00:00')"
        )
    _land_audience(tmp_path, [["M1", "K1", "treatment", None, "good", "k1@Example.org"]])
    ingest(tmp_path)
    assert rows(tmp_path, "SELECT customer_id, email_domain FROM raw.audience ORDER BY 1") == [
        ("K0", None),
        ("K1", "example.org"),
    ]
