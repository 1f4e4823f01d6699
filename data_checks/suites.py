"""Code-defined Great Expectations suites for the marts and the staged feeds.

Each `SuiteCheck` is one named check (one Dagster asset check): a few GX expectations on one
table, validated together. The check names are static (`declared_*_check_names`) so that Dagster
specs can be built at import; the expectations depend on the columns the table really has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from data_checks.validation import gxe

# The same patterns ingestion masks free text with (ingestion/masking.py): a value matching one of
# them is personal data that escaped masking.
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
PHONE_PATTERN = "|".join(
    [
        r"\+\s*\(?\d(?:[\s().\-]{0,2}\d){7,14}",
        r"\b\d{11,15}\b",
        r"\b[02-9]\d{9}\b",
        r"\b\d{1,3}[\s.\-]?\(\d{2,5}\)[\s.\-]?\d{2,4}(?:[\s.\-]?\d{2,4}){1,3}\b",
        r"\(\d{3}\)\s?\d{3}[\s.\-]\d{4}\b",
        r"\b\d{1,3}[\s.\-]\d{3}[\s.\-]\d{3}[\s.\-]\d{2}[\s.\-]\d{2}\b",
        r"\b\d{3}[\s.\-]\d{3}[\s.\-]\d{4}\b",
    ]
)
# The keyed PII hash ingestion writes (HMAC-SHA256 hex); surrogate keys are md5 (32 hex digits).
HASH_PATTERN = r"\b[0-9a-f]{64}\b"
# Column names that hold personal data: e-mail, phone, address (not `address_issue`), any hash.
PII_COLUMN_PATTERN = r"e_?mail|phone|msisdn|(?:^|_)address$|^address_hash$|_hash$"
# The one personal column reports.md allows in published tables.
ALLOWED_PII_COLUMNS = frozenset({("mart_suppressions", "contact_hash")})
# Columns whose names look personal but hold none (reports.md names them): a count of messages.
NOT_PERSONAL_COLUMNS = frozenset({("mart_customers", "messages_email")})

_EMAIL_RE = re.compile(EMAIL_PATTERN, re.ASCII)
_PHONE_RE = re.compile(PHONE_PATTERN, re.ASCII)
_HASH_RE = re.compile(HASH_PATTERN, re.ASCII)


@dataclass(frozen=True)
class MartSpec:
    keys: tuple[str, ...]
    rates: tuple[str, ...] = ()
    # reports.md rules of the mart's own columns: the values a column may take, and
    # (larger, smaller) pairs where the first never falls below the second
    value_sets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    not_below: tuple[tuple[str, str], ...] = ()


CHANNELS = ("email", "sms", "push")

# reports.md: the grain of every mart (its key) and its fractions in [0, 1].
MART_SPECS: dict[str, MartSpec] = {
    "mart_campaigns": MartSpec(("campaign_id",)),
    "mart_mailing_volume": MartSpec(("mailing_id",)),
    "mart_mailing_funnel": MartSpec(
        ("mailing_id", "variant"),
        (
            "delivery_rate",
            "open_rate",
            "click_to_open_rate",
            "click_rate",
            "conversion_rate",
            "unsubscribe_rate",
            "spam_rate",
        ),
    ),
    "mart_mailing_daily": MartSpec(("mailing_id", "date")),
    "mart_opens_by_hour": MartSpec(("mailing_id", "hour"), ("share_of_opens",)),
    "mart_link_clicks": MartSpec(("mailing_id", "link"), ("share_of_openers",)),
    "mart_mailing_links_summary": MartSpec(("mailing_id",)),
    "mart_sms_delivery": MartSpec(("mailing_id",)),
    "mart_sms_skip_reasons": MartSpec(("mailing_id", "skip_reason"), ("share_of_skipped",)),
    "mart_group_lift": MartSpec(("mailing_id", "grp"), ("conversion", "p_value")),
    "mart_category_top25": MartSpec(("mailing_id", "grp", "ranked_by", "rank")),
    "mart_campaign_summary": MartSpec(
        ("campaign_id", "channel"), ("click_to_delivered_rate", "conversion_rate")
    ),
    "mart_mailing_recipients": MartSpec(("mailing_id", "customer_id")),
    "mart_suppressions": MartSpec(("contact_hash", "channel")),
    "mart_channel_daily": MartSpec(
        ("channel", "date"),
        ("delivery_rate", "click_rate", "unsubscribe_rate"),
        value_sets=(("channel", CHANNELS),),
        not_below=(("sent", "delivered"), ("delivered", "unique_clickers"), ("sent", "mailings")),
    ),
    "mart_customers": MartSpec(("customer_id",)),
    "mart_mailing_roi": MartSpec(
        ("mailing_id",),
        value_sets=(("channel", CHANNELS),),
        not_below=(("billable_units", "messages"),),
    ),
    "mart_email_domains": MartSpec(
        ("mailing_id", "domain"),
        ("delivery_rate", "open_rate"),
        not_below=(("sent", "delivered"), ("delivered", "opened")),
    ),
    "mart_variant_tests": MartSpec(
        ("mailing_id", "variant_a", "variant_b"),
        ("conversion_a", "conversion_b", "p_value", "prob_b_beats_a"),
        not_below=(("members_a", "buyers_a"), ("members_b", "buyers_b")),
    ),
    "mart_global_holdout": MartSpec(
        ("month", "grp"),
        ("conversion", "p_value"),
        value_sets=(("grp", ("holdout", "messaged")),),
        not_below=(("members", "buyers"),),
    ),
}


@dataclass(frozen=True)
class KeySpec:
    keys: tuple[str, ...]
    # further column sets unique where none of their values is null
    unique_when_present: tuple[tuple[str, ...], ...] = ()


# The deduplicated tables the marts are built from, by (schema, table), and their keys: the staged
# reference feeds (dbt_project/models/staging/_staging.yml) and the incremental facts
# (dbt_project/models/facts/_facts.yml), whose keys an incremental run must never duplicate.
KEYED_TABLES: dict[tuple[str, str], KeySpec] = {
    ("staging", "stg_marketing__campaigns"): KeySpec(("campaign_id",)),
    ("staging", "stg_marketing__mailings"): KeySpec(("mailing_id",)),
    ("staging", "stg_commerce__products"): KeySpec(("product_id",)),
    ("facts", "fct_audience"): KeySpec(("mailing_id", "customer_id")),
    ("facts", "fct_dispatches"): KeySpec(("dispatch_id",), (("provider", "provider_message_id"),)),
    ("facts", "fct_provider_events"): KeySpec(("provider_event_key",)),
    ("facts", "fct_purchases"): KeySpec(("purchase_key",)),
    ("facts", "fct_purchase_lines"): KeySpec(("purchase_line_key",)),
}

UNIQUE_KEY = "gx_unique_key"
KEYS_NOT_NULL = "gx_keys_not_null"
RATES_IN_RANGE = "gx_rates_in_range"
NO_PERSONAL_DATA = "gx_no_personal_data"
COLUMN_RULES = "gx_column_rules"


@dataclass(frozen=True)
class SuiteCheck:
    asset_key: tuple[str, ...]
    name: str
    description: str
    columns: tuple[str, ...] | None  # the columns to load; None = every column
    expectations: tuple = ()  # validated on the table's rows
    column_name_expectations: tuple = ()  # validated on a frame with one row per column name
    severity: str = "ERROR"
    mask_examples: bool = False  # examples may hold personal data: mask them


def is_rate_column(column: str) -> bool:
    return column.endswith("_rate") or column.startswith("share_of_") or column == "conversion"


def mask_personal_data(text: str) -> str:
    text = _HASH_RE.sub("<hash>", _EMAIL_RE.sub("<email>", text))
    return _PHONE_RE.sub("<phone>", text)


def declared_mart_check_names(mart: str) -> tuple[str, ...]:
    """The checks every mart gets; key checks only where MART_SPECS declares the key."""
    spec = MART_SPECS.get(mart)
    keyed = (UNIQUE_KEY, KEYS_NOT_NULL) if spec else ()
    ruled = (COLUMN_RULES,) if spec and (spec.value_sets or spec.not_below) else ()
    return (*keyed, RATES_IN_RANGE, *ruled, NO_PERSONAL_DATA)


def declared_key_check_names(table: tuple[str, str]) -> tuple[str, ...]:
    return (UNIQUE_KEY, KEYS_NOT_NULL) if table in KEYED_TABLES else ()


def _unique(keys: tuple[str, ...], ignore_missing: bool = False):
    if len(keys) == 1:
        return gxe().ExpectColumnValuesToBeUnique(column=keys[0])
    return gxe().ExpectCompoundColumnsToBeUnique(
        column_list=list(keys),
        ignore_row_if="any_value_is_missing" if ignore_missing else "all_values_are_missing",
    )


def _key_checks(asset_key: tuple[str, ...], keys: tuple[str, ...], extra=()) -> list[SuiteCheck]:
    table = asset_key[-1]
    loaded = tuple(dict.fromkeys(keys + tuple(c for cols in extra for c in cols)))
    return [
        SuiteCheck(
            asset_key,
            UNIQUE_KEY,
            f"{table} has one row per ({', '.join(keys)})",
            loaded,
            (_unique(keys), *(_unique(cols, ignore_missing=True) for cols in extra)),
        ),
        SuiteCheck(
            asset_key,
            KEYS_NOT_NULL,
            f"{table}: key columns {', '.join(keys)} are never null",
            keys,
            tuple(gxe().ExpectColumnValuesToNotBeNull(column=key) for key in keys),
        ),
    ]


def mart_checks(mart: str, column_types: Mapping[str, str]) -> list[SuiteCheck]:
    """The suite of one mart, given its columns (name -> DuckDB type) as found in the warehouse."""
    asset_key = ("marts", mart)
    spec = MART_SPECS.get(mart)
    checks = _key_checks(asset_key, spec.keys) if spec else []

    rates = tuple(
        dict.fromkeys((*(spec.rates if spec else ()), *filter(is_rate_column, column_types)))
    )
    checks.append(
        SuiteCheck(
            asset_key,
            RATES_IN_RANGE,
            f"{mart}: rates within [0, 1] ({', '.join(rates) or 'none'})",
            rates,
            tuple(
                gxe().ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1)
                for c in rates
            ),
        )
    )

    if spec and (spec.value_sets or spec.not_below):
        checks.append(_column_rules(mart, spec))

    strings = tuple(c for c, t in column_types.items() if t.upper().startswith("VARCHAR"))
    value_checks = tuple(
        gxe().ExpectColumnValuesToNotMatchRegex(column=column, regex=pattern)
        for column in strings
        if (mart, column) not in ALLOWED_PII_COLUMNS
        for pattern in (EMAIL_PATTERN, PHONE_PATTERN, HASH_PATTERN)
    )
    checks.append(
        SuiteCheck(
            asset_key,
            NO_PERSONAL_DATA,
            f"{mart}: no e-mail, phone or address column (hashed or not) and no e-mail, phone "
            "number or PII hash in any text column",
            strings,
            value_checks,
            (
                gxe().ExpectColumnValuesToNotMatchRegex(
                    column="column_name", regex=PII_COLUMN_PATTERN
                ),
            ),
            mask_examples=True,
        )
    )
    return checks


def _column_rules(mart: str, spec: MartSpec) -> SuiteCheck:
    sets = [f"{column} in ({', '.join(values)})" for column, values in spec.value_sets]
    orders = [f"{larger} >= {smaller}" for larger, smaller in spec.not_below]
    return SuiteCheck(
        ("marts", mart),
        COLUMN_RULES,
        f"{mart}: {'; '.join(sets + orders)}",
        tuple(
            dict.fromkeys(
                [column for column, _ in spec.value_sets]
                + [column for pair in spec.not_below for column in pair]
            )
        ),
        tuple(
            gxe().ExpectColumnValuesToBeInSet(column=column, value_set=list(values))
            for column, values in spec.value_sets
        )
        + tuple(
            gxe().ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=larger,
                column_B=smaller,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
            for larger, smaller in spec.not_below
        ),
    )


def pii_column_names(mart: str, columns) -> list[str]:
    """The column-name frame of the personal-data check (the allowed exceptions left out)."""
    exempt = ALLOWED_PII_COLUMNS | NOT_PERSONAL_COLUMNS
    return [c for c in columns if (mart, c) not in exempt]


def key_checks(table: tuple[str, str]) -> list[SuiteCheck]:
    spec = KEYED_TABLES.get(table)
    if spec is None:
        return []
    return _key_checks(table, spec.keys, spec.unique_when_present)
