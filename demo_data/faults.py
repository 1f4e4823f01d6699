"""Bad input, on purpose: a handful of bad rows of each kind per feed, and a few unreadable files.

Bad rows are corrupted *copies* of real rows (the original stays intact), placed next to the
original in its file, so they never break relationships between feeds. Event feeds' copies get
a fresh event id, so they are never mistaken for replays.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import encode
from .feeds import FEEDS
from .rng import stream
from .sink import Buffer, Sink
from .strings import B64URL, tokens

TS_BAD = (
    "2026-13-01",
    "2026-13-01T09:15:00+03:00",
    "31/10/2026 25:61",
    "not a date",
    "2026-02-30T10:00:00Z",
)
UNIX_BAD = ("2026-13-01", "17900000OO", "yesterday")
RFC_BAD = ("Mon, 32 Nov 2026 06:15:00 +0000", "2026-13-01", "Fri, 02 Nov 2026 25:15:00 +0000")
NULL = (None,)
# feeds.md "Bad input": plausible amounts are within ±10^12, timestamps from 2000-01-01 to a year
# after the run (written as plain decimals / ISO 8601, so they are no other kind of bad value)
AMOUNT_IMPLAUSIBLE = ("9999999999999999.99", "-5000000000000", "1000000000000.01")
TS_IMPLAUSIBLE = (
    "1900-01-01T10:00:00+03:00",
    "2200-06-01T12:00:00+03:00",
    "9999-12-31T00:00:00Z",
    "0001-01-01T00:00:00Z",
)
# feeds.md "Personal data": an e-mail or a phone number where the contract expects none.
# Only in columns an independent recompute of the reports ignores or dedupes away (receipts keep
# their first copy by receipt_id; orders' utm_* are no input of it), as with every bad-row kind.
EMAIL_AS_ID = ("ivan.petrov@example.com", "Maria.Ivanova@Mail.RU")
PHONE_AS_ID = ("+7 (912) 345-67-89", "+79031112233")

# a holdout period that ends before it starts (every valid_from is after 2001)
VALID_TO_BEFORE_FROM = ("2001-01-01T00:00:00+03:00",)
# a price per unit with more decimals than its column keeps (6), and a negative one
PRICE_TOO_PRECISE = ("2.41255551", "0.1234567")
PRICE_NEGATIVE = ("-2.35", "-0.12")

# feed -> kind -> [(column, candidate values)]
RowFaults = dict[str, list[tuple[str, tuple]]]
ROW_FAULTS: dict[str, RowFaults] = {
    "campaigns": {
        "unparseable_timestamp": [("created_at", TS_BAD), ("exported_at", TS_BAD)],
        "unknown_enum": [("status", ("archived",)), ("type", ("newsletter",))],
        "missing_required": [("campaign_id", NULL)],
    },
    "mailings": {
        "unparseable_timestamp": [("sent_at", TS_BAD)],
        "unknown_enum": [("channel", ("fax",)), ("status", ("paused",))],
        "missing_required": [("mailing_id", NULL)],
        "non_numeric": [("attribution_window_days", ("seven", "7d"))],
    },
    "audience": {
        "unknown_enum": [("status", ("vip",)), ("group", ("holdout",))],
        "missing_required": [("customer_id", NULL), ("mailing_id", NULL)],
    },
    "dispatches": {
        "unparseable_timestamp": [("dispatched_at", TS_BAD)],
        "unknown_enum": [("channel", ("fax",)), ("status", ("bounced",))],
        "missing_required": [("customer_id", NULL), ("mailing_id", NULL)],
    },
    "sendgrid": {
        "unparseable_timestamp": [("timestamp", UNIX_BAD)],
        "unknown_event_type": [("event", ("opn", "clik"))],
        "missing_required": [("sg_event_id", NULL)],
        "malformed_json": [("event", (None,))],
    },
    "twilio": {
        "unparseable_timestamp": [("date_updated", RFC_BAD)],
        "unknown_event_type": [("status", ("delivred",))],
        "unknown_enum": [("direction", ("sideways",))],
        "missing_required": [("sid", NULL)],
        "non_numeric": [("num_segments", ("two",)), ("price", ("abc",))],
        "malformed_json": [("sid", (None,))],
    },
    "twilio_clicks": {
        "unparseable_timestamp": [("click_time", TS_BAD)],
        "unknown_event_type": [("event_type", ("tap",))],
        "missing_required": [("sms_sid", NULL)],
        "malformed_json": [("sms_sid", (None,))],
    },
    "push": {
        "unparseable_timestamp": [("occurred_at", TS_BAD)],
        "unknown_event_type": [("event", ("opnd",))],
        "unknown_enum": [("platform", ("blackberry",))],
        "missing_required": [("message_id", NULL)],
        "malformed_json": [("message_id", (None,))],
    },
    "events": {
        "unparseable_timestamp": [("occurred_at", TS_BAD)],
        "unknown_event_type": [("event_type", ("opn",))],
        "unknown_enum": [("channel", ("fax",))],
        "missing_required": [("provider_message_id", NULL)],
        "malformed_json": [("event_id", (None,))],
    },
    "products": {
        "unparseable_timestamp": [("exported_at", TS_BAD)],
        "missing_required": [("product_id", NULL)],
    },
    "receipts": {
        "unparseable_timestamp": [("purchased_at", TS_BAD)],
        "unknown_enum": [("type", ("exchange",))],
        "missing_required": [("receipt_id", NULL)],
        "non_numeric": [("total_amount", ("12,5O", "N/A"))],
        "currency": [("currency", ("USD",))],
        "implausible_amount": [("total_amount", AMOUNT_IMPLAUSIBLE)],
        "implausible_timestamp": [("purchased_at", TS_IMPLAUSIBLE)],
        "personal_data": [("customer_id", EMAIL_AS_ID), ("store_id", PHONE_AS_ID)],
    },
    "receipt_lines": {
        "missing_required": [("receipt_id", NULL)],
        "non_numeric": [("quantity", ("1,5",)), ("amount", ("abc",))],
        "implausible_amount": [("amount", AMOUNT_IMPLAUSIBLE)],
    },
    "orders": {
        "unparseable_timestamp": [("created_at", TS_BAD), ("updated_at", TS_BAD)],
        "unknown_enum": [("status", ("lost",))],
        "missing_required": [("order_id", NULL)],
        "non_numeric": [("total_amount", ("N/A",))],
        "currency": [("currency", ("USD",))],
        "malformed_json": [("order_id", (None,))],
        "personal_data": [("utm_source", EMAIL_AS_ID), ("utm_medium", PHONE_AS_ID)],
    },
    "holdouts": {
        "unparseable_timestamp": [("valid_from", TS_BAD), ("valid_to", TS_BAD)],
        "implausible_timestamp": [("valid_from", TS_IMPLAUSIBLE)],
        "unknown_enum": [("holdout", ("regional", "local"))],
        "missing_required": [("customer_id", NULL), ("valid_from", NULL)],
        "personal_data": [("customer_id", EMAIL_AS_ID + PHONE_AS_ID)],
        "period_order": [("valid_to", VALID_TO_BEFORE_FROM)],
    },
    "message_prices": {
        "unknown_enum": [("unit", ("character",)), ("channel", ("fax",))],
        "currency": [("currency", ("USD",))],
        "non_numeric": [("price", ("N/A", "2,35"))],
        "too_many_decimals": [("price", PRICE_TOO_PRECISE)],
        "negative_amount": [("price", PRICE_NEGATIVE)],
    },
}
FRESH_ID = {"sendgrid": "sg_event_id", "events": "event_id"}
NDJSON = ("ndjson", "jsonl")


def budget(scale: int) -> int:
    """Bad rows per kind and feed: a handful, growing slowly with scale."""
    return 3 + int(math.log2(max(scale, 1)))


def _set(table: pa.Table, column: str, value: str | None) -> pa.Table:
    i = table.schema.get_field_index(column)
    return table.set_column(i, column, pa.array([value] * table.num_rows, pa.string()))


def inject_rows(sink: Sink, seed: int, scale: int) -> None:
    """Append corrupted copies of rows to the pending buffers of each feed."""
    n_per_kind = budget(scale)
    for feed, kinds in ROW_FAULTS.items():
        bufs = [b for b in sink.buffers_of(feed) if b.rows]
        for kind, options in kinds.items():
            rng = stream(seed, "faults", feed, kind)
            pool = [b for b in bufs if b.fmt in NDJSON] if kind == "malformed_json" else bufs
            if not pool:
                continue
            for j in range(n_per_kind):
                buf = pool[int(rng.integers(0, len(pool)))]
                column, values = options[j % len(options)]
                pos, row = _copy_row(buf, rng)
                if kind != "malformed_json":
                    row = _set(row, column, values[int(rng.integers(0, len(values)))])
                fresh = FRESH_ID.get(feed)
                if fresh and not (kind == "missing_required" and column == fresh):
                    row = _set(row, fresh, tokens(rng, 1, 22, B64URL)[0].as_py())
                row = _set(row, "_bad", kind)
                sink.insert_rows(buf, pos, row)


def _copy_row(buf: Buffer, rng: np.random.Generator) -> tuple[int, pa.Table]:
    """A random queued row of the buffer and the position right after it."""
    pos = int(rng.integers(0, buf.rows))
    i = pos
    for t in buf.tables:
        if i < t.num_rows:
            return pos + 1, t.slice(i, 1)
        i -= t.num_rows
    raise AssertionError("row index out of range")


HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _middle(bufs: list[Buffer], min_rows: int) -> Buffer | None:
    big = [b for b in bufs if b.rows >= min_rows] or bufs
    return big[len(big) // 2] if big else None


def inject_files(sink: Sink, seed: int) -> None:
    """Whole-file faults. Their records all exist in good files too, so nothing is lost."""
    rng = stream(seed, "faults", "files")
    # 1. a SendGrid retry batch whose gzip was cut off in transfer
    buf = _middle(sink.buffers_of("sendgrid"), 50)
    if buf is not None:
        table = buf.table()
        good = table.filter(pc.is_null(table.column("_bad")))
        batch = good.slice(int(rng.integers(0, max(1, good.num_rows - 150))), 150)
        data = encode.join(encode.gzip_chunks(encode.json_array_chunks(batch, FEEDS["sendgrid"])))
        name = sink.file_name("sendgrid", buf.day, "", "json.gz", tag="retry")
        rel = sink.write_bytes("sendgrid", buf.day, name, data[: int(len(data) * 0.6)])
        sink.bad_files["sendgrid"].append(
            {"path": rel, "reason": "truncated_gzip", "records": batch.num_rows}
        )
    # 2. an error page saved as a Twilio export
    buf = _middle(sink.buffers_of("twilio"), 1)
    if buf is not None:
        name = sink.file_name("twilio", buf.day, "", "json")
        rel = sink.write_bytes("twilio", buf.day, name, HTML_502)
        sink.bad_files["twilio"].append({"path": rel, "reason": "not_json", "records": 0})
    # 3. a dispatch re-export without its dispatched_at column
    buf = _middle(sink.buffers_of("dispatches"), 20)
    if buf is not None:
        table = buf.table()
        good = table.filter(pc.is_null(table.column("_bad"))).slice(0, 100)
        cols = tuple(c for c in FEEDS["dispatches"].columns if c != "dispatched_at")
        name = sink.file_name("dispatches", buf.day, buf.group, "csv", tag="reexport")
        rel = sink.write_bytes(
            "dispatches", buf.day, name, encode.csv_chunks(good, cols, FEEDS["dispatches"].text)
        )
        sink.bad_files["dispatches"].append(
            {
                "path": rel,
                "reason": "missing_column",
                "missing_column": "dispatched_at",
                "records": good.num_rows,
            }
        )
