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

# The general parser: every accepted form, in any spacing.
GENERAL_MACROS = [
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
    f"""CREATE OR REPLACE TEMP MACRO cw_ts_general(v) AS
        CASE WHEN v IS NULL OR trim(v) = '' THEN NULL
             WHEN regexp_matches(v, '{_UNIX}') THEN cw_ts_unix(v)
             WHEN regexp_matches(v, '{_RFC2822}') THEN cw_ts_rfc2822(v)
             ELSE cw_ts_iso(v) END""",
]

# Fast paths (speed only, same result): the shapes the providers actually write are recognised
# by one anchored regex each and parsed with the one format or cast that the general parser
# would pick for them (its first format that parses, the same cast), without its trims, zone
# rewrite and format list. ``coalesce`` hands anything the fast path cannot parse (an impossible
# date in a good shape) to the general parser. ``make_timestamp(epoch_us(x))`` is the UTC wall
# time of the TIMESTAMPTZ ``x``, as ``x AT TIME ZONE 'UTC'``, without a time-zone lookup.
_ISO_SHAPE = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,6})?"
FAST_SHAPES = {
    "iso_offset": _ISO_SHAPE + r"(Z|[+-]\d\d:?\d\d)",
    "iso_local": _ISO_SHAPE,
    "rfc2822": r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}",
    "unix": r"\d{9,10}",
}
_UTC_WALL = "make_timestamp(epoch_us({}))"
_FAST_PARSE = {
    "iso_offset": _UTC_WALL.format("try_cast(v AS TIMESTAMPTZ)"),
    "iso_local": "try_cast(v AS TIMESTAMP)",
    "rfc2822": _UTC_WALL.format(f"try_strptime(v, '{RFC2822_FORMATS[0]}')"),
    "unix": "make_timestamp(v::BIGINT * 1000000)",
}

MACROS = GENERAL_MACROS + [
    "CREATE OR REPLACE TEMP MACRO cw_ts(v) AS CASE\n"
    + "\n".join(
        f"WHEN regexp_full_match(v, '{FAST_SHAPES[k]}') "
        f"THEN coalesce({_FAST_PARSE[k]}, cw_ts_general(v))"
        for k in FAST_SHAPES
    )
    + "\nELSE cw_ts_general(v) END"
]


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Create the temporary timestamp macros on ``con`` (never persisted in the warehouse)."""
    for sql in MACROS:
        con.execute(sql)
