"""Timestamp parsing in SQL: every accepted text form becomes a UTC ``TIMESTAMP``.

Accepted (feeds.md): ISO 8601 with an offset or ``Z``; ISO 8601 without an offset, read as UTC;
Unix seconds (9-10 digits, optional fraction) where a provider uses them (SendGrid); RFC 2822
(``Mon, 02 Nov 2026 09:15:00 +0000``, Twilio). Anything else is NULL, which validation turns
into ``unparseable timestamp '<value>' (field <name>)``.

The macro parses offset-less text in UTC explicitly (``TimeZone`` is also set to UTC on the
connection), so the result never depends on the machine's zone.
"""

from __future__ import annotations

import duckdb

RFC2822_FORMATS = (
    "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S %z",
    "%a, %d %b %Y %H:%M %z",
    "%d %b %Y %H:%M %z",
)

_UNIX = r"^\s*\d{9,10}(\.\d+)?\s*$"
_RFC2822 = r"^\s*([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s"
_ZONE_NAMES = r"\s(GMT|UTC|UT|Z)\s*$"

MACROS = [
    # Unix seconds -> TIMESTAMP, exact to the microsecond (no double rounding).
    """CREATE OR REPLACE TEMP MACRO cw_ts_unix(v) AS
        make_timestamp(CAST(CAST(trim(v) AS DECIMAL(38, 6)) * 1000000 AS BIGINT))""",
    f"""CREATE OR REPLACE TEMP MACRO cw_ts_rfc2822(v) AS
        try_strptime(regexp_replace(trim(v), '{_ZONE_NAMES}', ' +0000'),
                     [{", ".join("'" + f + "'" for f in RFC2822_FORMATS)}])
        AT TIME ZONE 'UTC'""",
    """CREATE OR REPLACE TEMP MACRO cw_ts_iso(v) AS
        CASE WHEN regexp_matches(trim(v), '(Z|[+-]\\d\\d(:?\\d\\d)?)$')
             THEN try_cast(trim(v) AS TIMESTAMPTZ) AT TIME ZONE 'UTC'
             ELSE try_cast(trim(v) AS TIMESTAMP) END""",
    f"""CREATE OR REPLACE TEMP MACRO cw_ts(v) AS
        CASE WHEN v IS NULL OR trim(v) = '' THEN NULL
             WHEN regexp_matches(v, '{_UNIX}') THEN cw_ts_unix(v)
             WHEN regexp_matches(v, '{_RFC2822}') THEN cw_ts_rfc2822(v)
             ELSE cw_ts_iso(v) END""",
]


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temporary timestamp macros on ``con`` (never persisted in the warehouse)."""
    for sql in MACROS:
        con.execute(sql)
