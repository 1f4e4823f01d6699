"""What each landed feed looks like: columns, file formats, JSON value types, replay style.

Rows travel through the generator as Arrow tables of string columns (null = absent), so a bad
value such as ``'2026-13-01'`` or ``'N/A'`` can sit in any column; ``json_types`` says which
columns are written as bare JSON numbers/booleans/raw JSON when their value allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FeedSpec:
    name: str
    columns: tuple[str, ...]
    formats: tuple[str, ...]  # rotated over the files of the feed
    prefix: str  # file name prefix
    json_types: dict[str, str] = field(default_factory=dict)  # num | bool | raw
    omit_nulls: bool = False  # JSON: leave absent fields out instead of writing null
    parquet_int: tuple[str, ...] = ()  # columns stored as INT64 in Parquet
    replay: str = "none"  # none | record (exact record repeated) | batch (SendGrid re-delivery)
    replay_rate: float = 0.0  # share of records replayed in a file that gets replays
    required: tuple[str, ...] = ()  # keys the ingestion needs (missing -> quarantine)
    text: tuple[str, ...] = ()  # columns that may hold characters JSON must escape


FEEDS: dict[str, FeedSpec] = {}


def _add(spec: FeedSpec) -> None:
    FEEDS[spec.name] = spec


_add(
    FeedSpec(
        "campaigns",
        ("campaign_id", "name", "type", "status", "created_at", "exported_at"),
        ("csv", "jsonl"),
        "campaigns_export",
        required=("campaign_id",),
        text=("name", "status", "type", "created_at", "exported_at"),
    )
)
_add(
    FeedSpec(
        "mailings",
        (
            "mailing_id",
            "campaign_id",
            "name",
            "channel",
            "category",
            "status",
            "sent_at",
            "attribution_window_days",
            "body",
            "exported_at",
        ),
        ("jsonl", "csv"),
        "mailings_export",
        json_types={"attribution_window_days": "num"},
        required=("mailing_id",),
        text=("name", "body", "channel", "status", "sent_at", "exported_at"),
    )
)
_add(
    FeedSpec(
        "audience",
        ("mailing_id", "customer_id", "group", "variant", "status", "address"),
        ("csv", "parquet", "csv.gz"),
        "audience",
        replay="record",
        replay_rate=0.001,
        required=("mailing_id", "customer_id"),
        text=("address", "status", "group"),
    )
)
_add(
    FeedSpec(
        "dispatches",
        (
            "mailing_id",
            "customer_id",
            "channel",
            "provider",
            "provider_message_id",
            "dispatched_at",
            "status",
            "skip_reason",
            "segments",
        ),
        ("csv.gz", "parquet", "csv"),
        "dispatches",
        parquet_int=("segments",),
        replay="record",
        replay_rate=0.001,
        required=("mailing_id", "customer_id"),
        text=("skip_reason", "channel", "status", "dispatched_at"),
    )
)
_add(
    FeedSpec(
        "sendgrid",
        (
            "email",
            "timestamp",
            "smtp-id",
            "event",
            "category",
            "sg_event_id",
            "sg_message_id",
            "asm_group_id",
            "url",
            "url_offset",
            "type",
            "bounce_classification",
            "reason",
            "status",
            "response",
            "attempt",
            "tls",
            "useragent",
            "ip",
            "sg_machine_open",
            "mailing_id",
            "customer_id",
        ),
        ("json", "json", "ndjson", "json", "json.gz"),
        "webhook",
        json_types={
            "timestamp": "num",
            "asm_group_id": "num",
            "tls": "num",
            "sg_machine_open": "bool",
            "category": "raw",
            "url_offset": "raw",
        },
        omit_nulls=True,
        replay="batch",
        required=("sg_event_id",),
        text=("email", "reason", "response", "useragent", "url", "event"),
    )
)
_add(
    FeedSpec(
        "twilio",
        (
            "account_sid",
            "api_version",
            "body",
            "date_created",
            "date_sent",
            "date_updated",
            "direction",
            "error_code",
            "error_message",
            "from",
            "messaging_service_sid",
            "num_media",
            "num_segments",
            "price",
            "price_unit",
            "sid",
            "status",
            "to",
            "uri",
        ),
        ("json", "ndjson", "csv"),
        "messages",
        json_types={"error_code": "num"},
        replay="record",
        replay_rate=0.002,
        required=("sid",),
        text=(
            "body",
            "error_message",
            "from",
            "to",
            "status",
            "direction",
            "date_created",
            "date_sent",
            "date_updated",
            "num_segments",
            "price",
        ),
    )
)
_add(
    FeedSpec(
        "twilio_clicks",
        (
            "event_type",
            "sms_sid",
            "to",
            "link",
            "click_time",
            "messaging_service_sid",
            "account_sid",
            "user_agent",
        ),
        ("ndjson",),
        "link_clicks",
        replay="record",
        replay_rate=0.003,
        required=("sms_sid",),
        text=("link", "user_agent", "to", "event_type", "click_time"),
    )
)
_add(
    FeedSpec(
        "push",
        ("message_id", "event", "occurred_at", "error", "platform"),
        ("ndjson",),
        "push_events",
        replay="record",
        replay_rate=0.002,
        required=("message_id",),
        text=("error", "event", "platform", "occurred_at"),
    )
)
_add(
    FeedSpec(
        "events",
        (
            "event_id",
            "provider",
            "channel",
            "provider_message_id",
            "event_type",
            "occurred_at",
            "url",
            "error_code",
            "reason",
        ),
        ("csv", "ndjson", "parquet"),
        "events",
        replay="record",
        replay_rate=0.002,
        required=("event_id", "provider_message_id"),
        text=("url", "reason", "event_type", "channel", "occurred_at"),
    )
)
_add(
    FeedSpec(
        "products",
        ("product_id", "name", "category_id", "category_name", "exported_at"),
        ("csv",),
        "products_export",
        required=("product_id",),
        text=("name", "category_name", "exported_at"),
    )
)
_add(
    FeedSpec(
        "receipts",
        (
            "receipt_id",
            "customer_id",
            "store_id",
            "purchased_at",
            "type",
            "total_amount",
            "currency",
        ),
        ("csv", "csv.gz", "parquet"),
        "receipts",
        replay="record",
        replay_rate=0.002,
        required=("receipt_id",),
        text=("purchased_at", "type", "currency", "total_amount"),
    )
)
_add(
    FeedSpec(
        "receipt_lines",
        ("receipt_id", "line_number", "product_id", "quantity", "amount"),
        ("csv", "csv.gz", "parquet"),
        "receipt_lines",
        parquet_int=("line_number",),
        replay="record",
        replay_rate=0.001,
        required=("receipt_id",),
        text=("quantity", "amount"),
    )
)
_add(
    FeedSpec(
        "orders",
        (
            "order_id",
            "customer_id",
            "created_at",
            "updated_at",
            "status",
            "total_amount",
            "currency",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "lines",
        ),
        ("ndjson", "ndjson", "jsonl"),
        "orders",
        json_types={"total_amount": "num", "lines": "raw"},
        replay="record",
        replay_rate=0.003,
        required=("order_id",),
        text=(
            "created_at",
            "updated_at",
            "status",
            "currency",
            "utm_source",
            "utm_medium",
            "utm_campaign",
        ),
    )
)

_add(
    FeedSpec(
        "holdouts",
        ("customer_id", "holdout", "valid_from", "valid_to"),
        ("csv",),
        "holdouts",
        replay="record",
        replay_rate=0.002,
        required=("customer_id", "holdout", "valid_from"),
        text=("customer_id", "holdout", "valid_from", "valid_to"),
    )
)
_add(
    FeedSpec(
        "message_prices",
        ("channel", "provider", "unit", "price", "currency", "valid_from"),
        ("csv",),
        "message_prices",
        required=("channel", "provider", "unit", "price", "currency", "valid_from"),
        text=("channel", "unit", "price", "currency", "valid_from"),
    )
)

FEED_ORDER: tuple[str, ...] = tuple(FEEDS)

EXTENSIONS = {
    "csv": "csv",
    "csv.gz": "csv.gz",
    "json": "json",
    "json.gz": "json.gz",
    "ndjson": "ndjson",
    "jsonl": "jsonl",
    "parquet": "parquet",
}
