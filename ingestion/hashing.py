"""Keyed hashing of personal data: HMAC-SHA256 of the normalized value, hex encoded.

The warehouse path is pure SQL and vectorized: HMAC(K, m) = H((K0 ^ opad) || H((K0 ^ ipad) || m))
with the two 64-byte key blocks precomputed here and inlined into TEMP macros (they live only in
the connection, never in the warehouse file). The pure-Python functions below are the reference
the tests compare against (``hmac.new``), and document the normalization:

- e-mail: trimmed, lower-cased;
- phone: E.164: the digits, prefixed by ``+``; a leading ``00`` international prefix becomes ``+``
  (``+7 (912) 345-67-89``, ``0079123456789`` and ``79123456789`` -> ``+79123456789``).
  National formats without a country code are not rewritten (``8 912 ...`` stays
  ``+8912...``). A value with no digits at all (an alphanumeric sender id) is hashed trimmed
  and lower-cased.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import duckdb

from .feeds import CONTACT, EMAIL, PHONE

BLOCK_SIZE = 64  # SHA-256 block size in bytes


def key_blocks(key: str) -> tuple[bytes, bytes]:
    """(K0 ^ ipad, K0 ^ opad) for HMAC-SHA256 under ``key`` (RFC 2104)."""
    k = key.encode("utf-8")
    if len(k) > BLOCK_SIZE:
        k = hashlib.sha256(k).digest()
    k = k.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


# ----------------------------------------------------------------------------- Python reference
def normalize_email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower()


def normalize_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    digits = re.sub(r"[^0-9]", "", text.removeprefix("00"))
    if not digits:
        return text.lower()
    return "+" + digits


def email_domain(value: str | None) -> str | None:
    """The domain kept beside an e-mail's hash (reference of the SQL macro cw_email_domain)."""
    normalized = normalize_email(value) if value is not None and "@" in value else None
    if normalized is None:
        return None
    domain = normalized.rsplit("@", 1)[1]
    return domain if domain and not re.search(r"\s", domain) else None


def normalize_contact(value: str | None) -> str | None:
    if value is not None and "@" in value:
        return normalize_email(value)
    return normalize_phone(value)


def keyed_hash(normalized: str | None, key: str) -> str | None:
    if normalized is None:
        return None
    return hmac.new(key.encode("utf-8"), normalized.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_email(value: str | None, key: str) -> str | None:
    return keyed_hash(normalize_email(value), key)


def hash_phone(value: str | None, key: str) -> str | None:
    return keyed_hash(normalize_phone(value), key)


def hash_contact(value: str | None, key: str) -> str | None:
    return keyed_hash(normalize_contact(value), key)


# ----------------------------------------------------------------------------- SQL
def macros(key: str) -> list[str]:
    ipad, opad = key_blocks(key)
    return [
        f"""CREATE OR REPLACE TEMP MACRO cw_hmac(msg) AS
            CASE WHEN msg IS NOT NULL THEN
                sha256(unhex('{opad.hex()}') || unhex(sha256(unhex('{ipad.hex()}') || encode(msg))))
            END""",
        """CREATE OR REPLACE TEMP MACRO cw_norm_email(v) AS
            CASE WHEN trim(v) <> '' THEN lower(trim(v)) END""",
        # '+' and the digits, after dropping a leading '00'; no digits at all -> the text itself
        """CREATE OR REPLACE TEMP MACRO cw_norm_phone(v) AS
            CASE WHEN trim(v) <> '' THEN coalesce(
                nullif('+' || regexp_replace(regexp_replace(trim(v), '^00', ''), '[^0-9]', '', 'g'),
                       '+'),
                lower(trim(v))) END""",
        """CREATE OR REPLACE TEMP MACRO cw_norm_contact(v) AS
            CASE WHEN contains(v, '@') THEN cw_norm_email(v) ELSE cw_norm_phone(v) END""",
        # the domain kept beside an e-mail's hash: after the last '@' of the normalized address;
        # NULL for a phone number, an empty domain or one with blanks in it (no domain at all)
        """CREATE OR REPLACE TEMP MACRO cw_email_domain(v) AS
            CASE WHEN contains(v, '@') THEN nullif(
                regexp_extract(cw_norm_email(v), '@([^@\\s]*)$', 1), '') END""",
        "CREATE OR REPLACE TEMP MACRO cw_hash_email(v) AS cw_hmac(cw_norm_email(v))",
        "CREATE OR REPLACE TEMP MACRO cw_hash_phone(v) AS cw_hmac(cw_norm_phone(v))",
        "CREATE OR REPLACE TEMP MACRO cw_hash_contact(v) AS cw_hmac(cw_norm_contact(v))",
    ]


def install(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Create the keyed-hash TEMP macros on ``con``."""
    for sql in macros(key):
        con.execute(sql)


# ----------------------------------------------------------------------------- distinct values
MACRO_OF_KIND = {EMAIL: "cw_hash_email", PHONE: "cw_hash_phone", CONTACT: "cw_hash_contact"}


def create_lookup(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    source: str,
    column: str,
    table: str,
    with_domain: bool = False,
) -> None:
    """``table(v, h)``: the keyed hash of every distinct non-null value of ``source.column``
    (and ``d``, its e-mail domain, ``with_domain``).

    The same contacts come back row after row (an address per mailing, an e-mail per event): a
    batch has ~10x fewer distinct values than rows, and the HMAC (four SHA-256 blocks) is the
    costliest expression of the typed projection, so each value is hashed once and joined back.
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT v, {MACRO_OF_KIND[kind]}(v) AS h{", cw_email_domain(v) AS d" if with_domain else ""}
        FROM (SELECT DISTINCT {column} AS v FROM {source} WHERE {column} IS NOT NULL)"""
    )
