"""Masking of anything that looks like an e-mail address or a phone number in free text.

Used on quarantined raw text and reasons, on free-text columns (bodies, URLs, bounce reasons) and
on ``extra``. The same patterns run in SQL (RE2, vectorized) and in Python (tests).
"""

from __future__ import annotations

import re

import duckdb

EMAIL_MASK = "<email>"
PHONE_MASK = "<phone>"

# local@domain.tld, also URL-encoded (user%40example.com)
EMAIL_PATTERN = r"[A-Za-z0-9._%+\-]+(@|%40)[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+"

# Phone-like digit runs; written for RE2 (no look-around). Dates, times, IPs, money amounts and
# Unix seconds up to 2033 (10 digits starting with 1) do not match.
PHONE_PATTERN = "|".join(
    [
        r"\+\s*\(?\d(?:[\s().\-]{0,2}\d){7,14}",  # +7 (912) 345-67-89, +79123456789
        r"\b\d{11,15}\b",  # 79123456789, 0079123456789
        r"\b[02-9]\d{9}\b",  # 9123456789 (10 digits; Unix seconds 1xxxxxxxxx are left alone)
        # 8 (912) 345-67-89
        r"\b\d{1,3}[\s.\-]?\(\d{2,5}\)[\s.\-]?\d{2,4}(?:[\s.\-]?\d{2,4}){1,3}\b",
        r"\(\d{3}\)\s?\d{3}[\s.\-]\d{4}\b",  # (202) 555-0143
        r"\b\d{1,3}[\s.\-]\d{3}[\s.\-]\d{3}[\s.\-]\d{2}[\s.\-]\d{2}\b",  # 8 912 345 67 89
        r"\b\d{3}[\s.\-]\d{3}[\s.\-]\d{4}\b",  # 202-555-0143
    ]
)

# A phone number *written as one* (a leading ``+``, or digits grouped by brackets, spaces, dots or
# dashes): what marks a value of an id or code field as a phone. Bare digit runs are left out on
# purpose: in an id column they are ids (a 13-digit loyalty card number is no phone number).
WRITTEN_PHONE_PATTERN = "|".join(
    p for p in PHONE_PATTERN.split("|") if p not in (r"\b\d{11,15}\b", r"\b[02-9]\d{9}\b")
)

_EMAIL_RE = re.compile(EMAIL_PATTERN, re.ASCII)
_PHONE_RE = re.compile(PHONE_PATTERN, re.ASCII)
_WRITTEN_PHONE_RE = re.compile(WRITTEN_PHONE_PATTERN, re.ASCII)


def mask_text(text: str | None) -> str | None:
    """Python twin of the ``cw_mask`` SQL macro."""
    if text is None:
        return None
    return _PHONE_RE.sub(PHONE_MASK, _EMAIL_RE.sub(EMAIL_MASK, text))


def personal_data_kind(value: str | None) -> str | None:
    """Python twin of ``cw_personal_kind``: what personal data an id or code value holds."""
    if value is None:
        return None
    if _EMAIL_RE.search(value):
        return "an e-mail address"
    if _WRITTEN_PHONE_RE.search(value):
        return "a phone number"
    return None


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Cheap necessary conditions that skip the costly patterns on most values (speed only, same
# result): an e-mail needs '@' or '%40'; every PHONE_PATTERN alternative holds 7 digits
# separated by at most 2 of [\s().-] (keep it so when adding one). Masking e-mails never
# creates a phone match.
PHONE_GUARD = r"\d(?:[\s().\-]{0,2}\d){6}"

MACROS = [
    f"""CREATE OR REPLACE TEMP MACRO cw_mask_email(v) AS
        CASE WHEN contains(v, '@') OR contains(v, '%40')
             THEN regexp_replace(v, {_sql_string(EMAIL_PATTERN)}, '{EMAIL_MASK}', 'g')
             ELSE v END""",
    f"""CREATE OR REPLACE TEMP MACRO cw_mask(v) AS
        CASE WHEN regexp_matches(v, {_sql_string(PHONE_GUARD)})
             THEN regexp_replace(cw_mask_email(v), {_sql_string(PHONE_PATTERN)},
                                 '{PHONE_MASK}', 'g')
             ELSE cw_mask_email(v) END""",
    # What personal data a value of a field that must hold none (ids, codes) carries, or NULL.
    # Cheap guards first (ids are on the event path): an e-mail needs '@' or '%40'; every written
    # phone pattern needs a '+', a '(' or a separator.
    rf"""CREATE OR REPLACE TEMP MACRO cw_personal_kind(v) AS
        CASE WHEN (contains(v, '@') OR contains(v, '%40'))
                  AND regexp_matches(v, {_sql_string(EMAIL_PATTERN)}) THEN 'an e-mail address'
             WHEN regexp_matches(v, '[+(\s.\-]')
                  AND regexp_matches(v, {_sql_string(WRITTEN_PHONE_PATTERN)}) THEN 'a phone number'
        END""",
]


def install(con: duckdb.DuckDBPyConnection) -> None:
    for sql in MACROS:
        con.execute(sql)
