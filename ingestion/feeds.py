"""The feed registry: what each landing-zone folder holds and how it maps to a raw table.

Binding sources: ``docs/contract/feeds.md`` (field names, enums, formats) and
``docs/architecture.md`` (raw table names, column types, replay keys).
"""

from __future__ import annotations

from dataclasses import dataclass

# Field kinds: how a source value (always read as text first) becomes a raw column.
STR = "str"  # VARCHAR, trimmed, '' -> NULL (ids, codes, enums)
TEXT = "text"  # VARCHAR free text: e-mails and phone numbers in it are masked
TS = "ts"  # TIMESTAMP (UTC): ISO 8601 with/without offset, Unix seconds, RFC 2822
MONEY = "money"  # DECIMAL(18,2)
QTY = "qty"  # DECIMAL(18,3)
PRICE = "price"  # DECIMAL(18,6)
INT = "int"  # BIGINT (integral text only: '2' or '2.0', never '2.5')
BOOL = "bool"  # BOOLEAN
JSON = "json"  # VARCHAR holding JSON text (a string becomes '"promo"', an array stays '[...]')
EMAIL = "email"  # personal data: stored as <name>_hash of the trimmed, lower-cased e-mail
PHONE = "phone"  # personal data: stored as <name>_hash of the E.164 phone number
CONTACT = "contact"  # personal data, e-mail if it contains '@', phone otherwise

PII_KINDS = frozenset({EMAIL, PHONE, CONTACT})

SQL_TYPES = {
    STR: "VARCHAR",
    TEXT: "VARCHAR",
    TS: "TIMESTAMP",
    MONEY: "DECIMAL(18,2)",
    QTY: "DECIMAL(18,3)",
    PRICE: "DECIMAL(18,6)",
    INT: "BIGINT",
    BOOL: "BOOLEAN",
    JSON: "VARCHAR",
    EMAIL: "VARCHAR",
    PHONE: "VARCHAR",
    CONTACT: "VARCHAR",
}

CSV_EXT = (".csv", ".csv.gz")
JSON_EXT = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
PARQUET_EXT = (".parquet",)
ALL_EXTENSIONS = CSV_EXT + JSON_EXT + PARQUET_EXT


@dataclass(frozen=True)
class Field:
    """One field of a feed record."""

    name: str
    kind: str = STR
    required: bool = False  # the column must exist in the file and the value must be non-empty
    enum: tuple[str, ...] | None = None
    label: str | None = None  # how reasons name the value ("event type"); default: the name
    # an id or code where the contract expects no personal data: a row whose value holds an
    # e-mail address or a phone number is quarantined (feeds.md, "Personal data")
    no_personal_data: bool = False
    # an e-mail (or contact) field whose domain is kept beside its hash in this raw column
    # (feeds.md, "Personal data": deliverability by mailbox provider); NULL for a phone number
    domain_column: str | None = None
    non_negative: bool = False  # a decimal that cannot be below zero (a price)

    @property
    def column(self) -> str:
        """The raw table column: personal data is replaced by ``<name>_hash``."""
        return f"{self.name}_hash" if self.kind in PII_KINDS else self.name

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]

    @property
    def what(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class ChildSpec:
    """An array field exploded into its own table (orders.lines -> raw.order_lines)."""

    source_field: str  # the array field of the parent record
    table: str
    parent_columns: tuple[str, ...]  # parent columns copied onto each child row
    fields: tuple[Field, ...]
    position_column: str = "line_number"  # 1-based position in the array


@dataclass(frozen=True)
class FeedSpec:
    name: str  # landing-zone folder
    table: str  # raw table (schema raw)
    fields: tuple[Field, ...]
    extensions: tuple[str, ...]
    replay_key: tuple[str, ...] | None = None  # raw columns; None = hash of the whole record
    currency_field: str | None = None  # checked against IngestSettings.currency
    child: ChildSpec | None = None
    # (later, earlier) timestamp fields: a row whose `later` is before its `earlier` is
    # quarantined (a holdout period that ends before it starts)
    not_before: tuple[tuple[str, str], ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return (self.table,) + ((self.child.table,) if self.child else ())

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def whole_record_key(self) -> bool:
        return self.replay_key is None

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


CHANNELS = ("email", "sms", "push")

_F = Field


def _id(name: str, required: bool = False) -> Field:
    """An id or code that must never carry personal data (customer_id, store_id, utm_*, ...)."""
    return Field(name, required=required, no_personal_data=True)


FEEDS: dict[str, FeedSpec] = {}


def _add(spec: FeedSpec) -> None:
    FEEDS[spec.name] = spec


_add(
    FeedSpec(
        "campaigns",
        "campaigns",
        (
            _F("campaign_id", required=True),
            _F("name", TEXT),
            _F("type", enum=("messaging", "interactive"), label="campaign type"),
            _F(
                "status",
                enum=("draft", "scheduled", "pending", "in_progress", "live", "completed"),
                label="campaign status",
            ),
            _F("created_at", TS),
            _F("exported_at", TS, required=True),
        ),
        CSV_EXT + JSON_EXT,
    )
)
_add(
    FeedSpec(
        "mailings",
        "mailings",
        (
            _F("mailing_id", required=True),
            _F("campaign_id"),
            _F("name", TEXT),
            _F("channel", enum=CHANNELS),
            _id("category"),
            _F(
                "status",
                enum=("draft", "scheduled", "sending", "sent", "cancelled"),
                label="mailing status",
            ),
            _F("sent_at", TS),
            _F("attribution_window_days", INT),
            _F("body", TEXT),
            _F("exported_at", TS, required=True),
        ),
        CSV_EXT + JSON_EXT,
    )
)
_add(
    FeedSpec(
        "audience",
        "audience",
        (
            _F("mailing_id", required=True),
            _id("customer_id", required=True),
            _F("group", enum=("treatment", "control")),
            _F("variant"),
            _F(
                "status",
                enum=(
                    "good",
                    "address_issue",
                    "unsubscribed_channel",
                    "unsubscribed_category",
                    "policy_blocked",
                ),
                label="audience status",
            ),
            _F("address", CONTACT, domain_column="email_domain"),
        ),
        CSV_EXT + PARQUET_EXT,
    )
)
_add(
    FeedSpec(
        "dispatches",
        "dispatches",
        (
            _F("mailing_id", required=True),
            _id("customer_id", required=True),
            _F("channel", enum=CHANNELS),
            _F("provider"),
            _F("provider_message_id"),
            _F("dispatched_at", TS, required=True),
            _F("status", enum=("sent", "skipped"), label="dispatch status"),
            _F("skip_reason"),
            _F("segments", INT),
        ),
        CSV_EXT + PARQUET_EXT,
    )
)
_add(
    FeedSpec(
        "sendgrid",
        "sendgrid_events",
        (
            _F("sg_event_id", required=True),
            _F("sg_message_id"),
            _F("email", EMAIL, domain_column="email_domain"),
            _F("timestamp", TS, required=True),
            _F(
                "event",
                required=True,
                enum=(
                    "processed",
                    "dropped",
                    "delivered",
                    "deferred",
                    "bounce",
                    "open",
                    "click",
                    "spamreport",
                    "unsubscribe",
                    "group_unsubscribe",
                    "group_resubscribe",
                ),
                label="event type",
            ),
            _F("url", TEXT),
            _F("type", enum=("bounce", "blocked"), label="bounce type"),
            _F("bounce_classification"),
            _F("reason", TEXT),
            _F("status"),
            _F("response", TEXT),
            _F("attempt"),
            _F("useragent"),
            _F("ip"),
            _F("category", JSON),
            _F("asm_group_id"),
            _F("sg_machine_open", BOOL),
            _F("mailing_id"),
            _id("customer_id"),
        ),
        JSON_EXT,
        replay_key=("sg_event_id",),
    )
)
_add(
    FeedSpec(
        "twilio",
        "twilio_messages",
        (
            _F("sid", required=True),
            _F("account_sid"),
            _F("messaging_service_sid"),
            _F("from", PHONE),
            _F("to", PHONE),
            _F("body", TEXT),
            _F(
                "direction",
                enum=("outbound-api", "inbound", "outbound-call", "outbound-reply"),
                label="message direction",
            ),
            _F(
                "status",
                required=True,
                enum=(
                    "accepted",
                    "scheduled",
                    "queued",
                    "sending",
                    "sent",
                    "delivered",
                    "undelivered",
                    "failed",
                    "canceled",
                    "receiving",
                    "received",
                    "read",
                ),
                label="message status",
            ),
            _F("error_code"),
            _F("error_message", TEXT),
            _F("num_segments", INT),
            _F("date_created", TS),
            _F("date_sent", TS),
            _F("date_updated", TS, required=True),
            _F("price", PRICE),
            _F("price_unit"),
        ),
        JSON_EXT + CSV_EXT,
    )
)
_add(
    FeedSpec(
        "twilio_clicks",
        "twilio_clicks",
        (
            _F("event_type", enum=("click",), label="event type"),
            _F("sms_sid", required=True),
            _F("to", PHONE),
            _F("link", TEXT),
            _F("click_time", TS, required=True),
            _F("messaging_service_sid"),
            _F("user_agent"),
        ),
        JSON_EXT,
    )
)
_add(
    FeedSpec(
        "push",
        "push_events",
        (
            _F("message_id", required=True),
            _F(
                "event",
                required=True,
                enum=("sent", "delivered", "opened", "failed"),
                label="event type",
            ),
            _F("occurred_at", TS, required=True),
            _F("error", TEXT),
            _F("platform", enum=("ios", "android", "web")),
        ),
        JSON_EXT,
    )
)
_add(
    FeedSpec(
        "events",
        "events",
        (
            _F("event_id", required=True),
            _F("provider", required=True),
            _F("channel", enum=CHANNELS),
            _F("provider_message_id", required=True),
            _F(
                "event_type",
                required=True,
                enum=(
                    "delivered",
                    "pending",
                    "opened",
                    "clicked",
                    "soft_bounced",
                    "hard_bounced",
                    "failed",
                    "unsubscribed",
                    "spam_complaint",
                ),
                label="event type",
            ),
            _F("occurred_at", TS, required=True),
            _F("url", TEXT),
            _F("error_code"),
            _F("reason", TEXT),
        ),
        CSV_EXT + JSON_EXT + PARQUET_EXT,
        replay_key=("provider", "event_id"),
    )
)
_add(
    FeedSpec(
        "products",
        "products",
        (
            _F("product_id", required=True),
            _F("name", TEXT),
            _F("category_id"),
            _F("category_name", TEXT),
            _F("exported_at", TS),
        ),
        CSV_EXT,
    )
)
_add(
    FeedSpec(
        "receipts",
        "receipts",
        (
            _F("receipt_id", required=True),
            _id("customer_id"),
            _id("store_id"),
            _F("purchased_at", TS, required=True),
            _F("type", enum=("sale", "return"), label="receipt type"),
            _F("total_amount", MONEY, required=True),
            _F("currency", required=True),
        ),
        CSV_EXT + PARQUET_EXT,
        currency_field="currency",
    )
)
_add(
    FeedSpec(
        "receipt_lines",
        "receipt_lines",
        (
            _F("receipt_id", required=True),
            _F("line_number", INT),
            _F("product_id"),
            _F("quantity", QTY),
            _F("amount", MONEY, required=True),
        ),
        CSV_EXT + PARQUET_EXT,
    )
)
_add(
    FeedSpec(
        "orders",
        "orders",
        (
            _F("order_id", required=True),
            _id("customer_id"),
            _F("created_at", TS),
            _F("updated_at", TS, required=True),
            _F(
                "status",
                required=True,
                enum=("placed", "paid", "shipped", "delivered", "cancelled", "returned"),
                label="order status",
            ),
            _F("total_amount", MONEY),
            _F("currency", required=True),
            _id("utm_source"),
            _id("utm_medium"),
            _id("utm_campaign"),
            _F("lines", JSON),
        ),
        JSON_EXT,
        currency_field="currency",
        child=ChildSpec(
            source_field="lines",
            table="order_lines",
            parent_columns=("order_id", "updated_at"),
            fields=(
                _F("product_id"),
                _F("quantity", QTY),
                _F("amount", MONEY),
            ),
        ),
    )
)

_add(
    FeedSpec(
        "holdouts",
        "holdouts",
        (
            _id("customer_id", required=True),
            _F("holdout", required=True, enum=("global",), label="holdout"),
            _F("valid_from", TS, required=True),
            _F("valid_to", TS),  # empty: still held out
        ),
        CSV_EXT,
        not_before=(("valid_to", "valid_from"),),
    )
)
_add(
    FeedSpec(
        "message_prices",
        "message_prices",
        (
            _F("channel", required=True, enum=CHANNELS),
            _F("provider", required=True),
            _F("unit", required=True, enum=("message", "segment"), label="price unit"),
            # per unit, 6 decimals like Twilio's price: a price per SMS segment is a fraction
            # of a kopeck often enough (DECISIONLOG "Message prices")
            _F("price", PRICE, required=True, non_negative=True),
            _F("currency", required=True),
            _F("valid_from", TS, required=True),
        ),
        CSV_EXT,
        currency_field="currency",
    )
)


def raw_columns(spec: FeedSpec) -> list[tuple[str, str]]:
    """(column, SQL type) of the feed's raw table, business columns only, in contract order
    (a kept e-mail domain right after its hash)."""
    cols = []
    for f in spec.fields:
        if f.name != _child_field(spec):
            cols.append((f.column, f.sql_type))
        if f.domain_column:
            cols.append((f.domain_column, "VARCHAR"))
    return cols


def derived_columns(spec: FeedSpec) -> frozenset[str]:
    """Raw columns derived from another field (the e-mail domain): not part of the record, so
    not of its replay hash either."""
    return frozenset(f.domain_column for f in spec.fields if f.domain_column)


def child_columns(spec: FeedSpec) -> list[tuple[str, str]]:
    assert spec.child is not None
    parent = {f.column: f.sql_type for f in spec.fields}
    cols = [(c, parent[c]) for c in spec.child.parent_columns]
    cols.append((spec.child.position_column, "BIGINT"))
    cols += [(f.column, f.sql_type) for f in spec.child.fields]
    return cols


def _child_field(spec: FeedSpec) -> str | None:
    return spec.child.source_field if spec.child else None
