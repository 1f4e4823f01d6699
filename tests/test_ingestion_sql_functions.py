"""The SQL building blocks of ingestion against their Python references: keyed hash (hmac.new),
normalization, masking, timestamp parsing."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import duckdb
import pytest

from ingestion import IngestSettings, hashing, masking, timestamps
from ingestion.pipeline import prepare_connection

KEYS = ["k", "unit-test-pii-key", "ключ-🔑", "x" * 64, "y" * 100]


@pytest.fixture
def con_for():
    cons = []

    def make(key: str) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        prepare_connection(con, IngestSettings(pii_hash_key=key))
        cons.append(con)
        return con

    yield make
    for con in cons:
        con.close()


def _sql(con, expr: str, value):
    return con.execute(f"SELECT {expr}", [value]).fetchone()[0]


@pytest.mark.parametrize("key", KEYS)
def test_sql_hmac_equals_python_hmac(con_for, key):
    con = con_for(key)
    for msg in ["a@b.co", "+79123456789", "", "ünïcødé@example.com", "x" * 200]:
        expected = hmac.new(key.encode(), msg.encode(), hashlib.sha256).hexdigest()
        assert _sql(con, "cw_hmac(?)", msg) == expected
    assert _sql(con, "cw_hmac(?)", None) is None


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        (" Ivan.Petrov1@Mail.RU ", "ivan.petrov1@mail.ru"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_email_normalization_and_hash(con_for, raw, normalized):
    con = con_for("unit-test-pii-key")
    assert hashing.normalize_email(raw) == normalized
    assert _sql(con, "cw_norm_email(?)", raw) == normalized
    assert _sql(con, "cw_hash_email(?)", raw) == hashing.hash_email(raw, "unit-test-pii-key")
    if normalized:
        reference = hmac.new(b"unit-test-pii-key", normalized.encode(), hashlib.sha256)
        assert _sql(con, "cw_hash_email(?)", raw) == reference.hexdigest()


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+7 (912) 345-67-89", "+79123456789"),
        ("+79123456789", "+79123456789"),
        ("0079123456789", "+79123456789"),
        ("00 7 912 345 67 89", "+79123456789"),
        ("79123456789", "+79123456789"),
        (" +1 (202) 555-0143 ", "+12025550143"),
        ("MyShop", "myshop"),
        ("", None),
        (None, None),
    ],
)
def test_phone_normalization_to_e164_and_hash(con_for, raw, normalized):
    con = con_for("unit-test-pii-key")
    assert hashing.normalize_phone(raw) == normalized
    assert _sql(con, "cw_norm_phone(?)", raw) == normalized
    assert _sql(con, "cw_hash_phone(?)", raw) == hashing.hash_phone(raw, "unit-test-pii-key")


def test_contact_is_email_when_it_has_an_at_sign(con_for):
    con = con_for("k")
    assert _sql(con, "cw_hash_contact(?)", " A@B.co ") == hashing.hash_email("a@b.co", "k")
    assert _sql(con, "cw_hash_contact(?)", "+7 912 345-67-89") == hashing.hash_phone(
        "+79123456789", "k"
    )


def test_different_keys_give_different_hashes(con_for):
    assert _sql(con_for("a"), "cw_hash_email(?)", "x@y.z") != _sql(
        con_for("b"), "cw_hash_email(?)", "x@y.z"
    )


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to John.Doe@Example.com now", "write to <email> now"),
        ("call +7 (912) 345-67-89!", "call <phone>!"),
        ("+79123456789", "<phone>"),
        ("8 (912) 345-67-89", "<phone>"),
        ("8 912 345 67 89", "<phone>"),
        ("(202) 555-0143 or 202-555-0143", "<phone> or <phone>"),
        ("https://shop.example/?e=ivan%40mail.ru&x=1", "https://shop.example/?e=<email>&x=1"),
        # not personal data: left alone
        ("2026-11-02T09:15:00+03:00", "2026-11-02T09:15:00+03:00"),
        ("Mon, 02 Nov 2026 06:15:00 +0000", "Mon, 02 Nov 2026 06:15:00 +0000"),
        ('{"timestamp":1793000000,"ip":"10.0.0.1","amount":1234567.89}', None),
        ("SM0123456789abcdef0123456789abcdef", None),
    ],
)
def test_masking_sql_matches_python(con_for, text, masked):
    con = con_for("k")
    expected = text if masked is None else masked
    assert masking.mask_text(text) == expected
    assert _sql(con, "cw_mask(?)", text) == expected


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("Ivan.Petrov@Mail.RU", "an e-mail address"),
        ("utm=ivan%40mail.ru", "an e-mail address"),
        ("+79123456789", "a phone number"),
        ("+7 (912) 345-67-89", "a phone number"),
        ("8 (912) 345-67-89", "a phone number"),
        ("202-555-0143", "a phone number"),
        # ids and codes: a bare digit run is an id (a 13-digit loyalty card), not a phone
        ("4607001234567", None),
        ("79123456789", None),
        ("C0001234", None),
        ("M-2026-11-02", None),
        ("store 17", None),
        ("promo", None),
    ],
)
def test_personal_data_in_ids_sql_matches_python(con_for, value, kind):
    con = con_for("k")
    assert masking.personal_data_kind(value) == kind
    assert _sql(con, "cw_personal_kind(?)", value) == kind


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-02T09:15:00+03:00", datetime(2026, 11, 2, 6, 15)),
        ("2026-11-02T09:15:00-05:30", datetime(2026, 11, 2, 14, 45)),
        ("2026-11-02T06:15:00Z", datetime(2026, 11, 2, 6, 15)),
        ("2026-11-02T06:15:00.123Z", datetime(2026, 11, 2, 6, 15, 0, 123000)),
        ("2026-11-02T06:15:00", datetime(2026, 11, 2, 6, 15)),  # no offset: UTC
        ("2026-11-02 06:15:00", datetime(2026, 11, 2, 6, 15)),
        ("1793000000", datetime(2026, 10, 26, 7, 33, 20)),  # Unix seconds
        ("1793000000.5", datetime(2026, 10, 26, 7, 33, 20, 500000)),
        ("Mon, 02 Nov 2026 09:15:00 +0300", datetime(2026, 11, 2, 6, 15)),  # RFC 2822
        ("Fri, 02 Oct 2026 06:42:59 +0000", datetime(2026, 10, 2, 6, 42, 59)),
        ("2 Nov 2026 09:15:00 GMT", datetime(2026, 11, 2, 9, 15)),
        ("2026-13-01", None),
        ("2026-02-30T10:00:00Z", None),
        ("31/10/2026 25:61", None),
        ("Mon, 32 Nov 2026 06:15:00 +0000", None),
        ("17900000OO", None),
        ("yesterday", None),
        ("2026", None),
        ("", None),
    ],
)
def test_timestamp_forms_to_utc(con_for, text, utc):
    assert _sql(con_for("k"), "cw_ts(?)", text) == utc


def test_timestamps_do_not_depend_on_the_session_zone(con_for):
    con = con_for("k")
    con.execute("SET TimeZone = 'Asia/Vladivostok'")
    assert _sql(con, "cw_ts(?)", "2026-11-02T06:15:00") == datetime(2026, 11, 2, 6, 15)
    assert _sql(con, "cw_ts(?)", "2026-11-02T09:15:00+03:00") == datetime(2026, 11, 2, 6, 15)


def test_cw_trim_and_cw_present_equal_trim_for_every_code_point(con_for):
    """cw_trim/cw_present skip DuckDB's trim when the ends hold no space separator: every Unicode
    code point, alone, at either end, at both ends, must give what trim gives."""
    con = con_for("k")
    con.execute(
        """CREATE TEMP TABLE v AS
        SELECT unnest([c, c || 'x', 'x' || c, c || 'x' || c, c || c, ' ' || c, c || ' ']) AS v
        FROM (SELECT chr(range::INTEGER) AS c FROM range(1, 1114112)
              WHERE range < 55296 OR range > 57343)
        UNION ALL SELECT unnest([NULL, '', ' ', 'x', ' x ', '   '])"""
    )
    mismatches = con.execute(
        """SELECT count(*) FILTER (WHERE cw_trim(v) IS DISTINCT FROM trim(v)),
                  count(*) FILTER (WHERE cw_present(v) <> (v IS NOT NULL AND trim(v) <> '')),
                  count(*) FILTER (WHERE trim(v) <> v)
           FROM v"""
    ).fetchone()
    assert mismatches[:2] == (0, 0)
    assert mismatches[2] > 50  # the space separators were among the values


def test_timestamp_fast_paths_equal_the_general_parser(con_for):
    """cw_ts parses the providers' usual shapes without the general parser (timestamps.py): on
    valid and invalid values of those shapes and near them, the result is the general one."""
    con = con_for("k")
    con.execute(
        """CREATE TEMP TABLE t AS
        SELECT TIMESTAMP '1999-12-31 23:59:59'
               + to_microseconds((i * 7919 * 1000003) % 1e15::BIGINT) AS ts, i
        FROM range(20000) r(i)"""
    )
    shapes = [
        "strftime(ts, '%Y-%m-%dT%H:%M:%S') || '+03:00'",
        "strftime(ts, '%Y-%m-%d %H:%M:%S.%f') || '-0530'",
        "strftime(ts, '%Y-%m-%dT%H:%M:%S.%g') || 'Z'",
        "strftime(ts, '%Y-%m-%dT%H:%M:%S')",
        "strftime(ts, '%Y-%m-%d %H:%M:%S.%f')",
        "strftime(ts, '%a, %d %b %Y %H:%M:%S') || ' +0000'",
        "strftime(ts, '%a, %d %b %Y %H:%M:%S') || ' -0700'",
        "strftime(ts, '%a, %d %b %Y %H:%M:%S') || ' GMT'",
        "strftime(ts, '%d %b %Y %H:%M:%S') || ' +0100'",
        "epoch(ts)::BIGINT::VARCHAR",
        "epoch(ts)::VARCHAR",
        # impossible dates and times in good shapes, other weekdays, spaces around
        "replace(strftime(ts, '%Y-%m-%dT%H:%M:%S'), '-0', '-3') || 'Z'",
        "replace(strftime(ts, '%Y-%m-%d %H:%M:%S'), ':', ':7')",
        "replace(strftime(ts, '%a, %d %b %Y %H:%M:%S +0000'), ', ', ', 3')",
        "replace(strftime(ts, '%a, %d %b %Y %H:%M:%S +0000'), 'Mon', 'Xyz')",
        "' ' || strftime(ts, '%Y-%m-%dT%H:%M:%SZ') || ' '",
        "lpad(i::VARCHAR, 9, '0')",
        "lpad(i::VARCHAR, 10, '9')",
    ]
    values = " UNION ALL ".join(f"SELECT {s} AS v FROM t" for s in shapes)
    con.execute(f"CREATE TEMP TABLE v AS {values}")
    differ, parsed, total = con.execute(
        """SELECT count(*) FILTER (WHERE cw_ts(v) IS DISTINCT FROM cw_ts_general(v)),
                  count(cw_ts(v)), count(*) FROM v"""
    ).fetchone()
    assert differ == 0
    assert total > parsed > total / 2  # both parseable and unparseable values were tried
    fast = con.execute(
        "SELECT count(*) FROM v WHERE "
        + " OR ".join(f"regexp_full_match(v, '{p}')" for p in timestamps.FAST_SHAPES.values())
    ).fetchone()[0]
    assert fast > total / 2  # the fast paths were taken


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        (" Olga@GMail.com ", "gmail.com"),
        ('"a@b"@Small-Company.example', "small-company.example"),
        ("+7 (912) 345-67-89", None),  # a phone number has no domain
        ("ivan@", None),
        ("ivan@ ", None),
        ("bad address@x y", None),
        ("почта@Почта.РФ", "почта.рф"),
        (None, None),
    ],
)
def test_email_domain_sql_equals_python(con_for, raw, domain):
    con = con_for("unit-test-pii-key")
    assert hashing.email_domain(raw) == domain
    assert _sql(con, "cw_email_domain(?)", raw) == domain


def _map_extra_sql(items: list[tuple[str, str]]) -> str:
    """The ``_extra`` expression readers.py used before (to_json of a map of the non-null pairs):
    the reference of ``readers._extra_sql``."""
    from ingestion.sqlutil import lit

    entries = ", ".join(f"{{'key': {lit(k)}, 'value': ({v})::JSON}}" for k, v in items)
    return (
        f"nullif(to_json(map_from_entries(list_filter([{entries}], "
        "lambda e: e.value IS NOT NULL)))::VARCHAR, '{}')"
    )


def test_extra_text_equals_to_json_of_the_map():
    """readers._extra_sql writes ``extra`` by concatenation: the same text as to_json of the map,
    for every kind of JSON value (escapes, Unicode, numbers in every spelling, nested values,
    null) under every kind of key (quotes, backslashes, control characters, case collisions read
    with json_extract), for JSON records (malformed ones too) and for tabular columns."""
    import json
    import random

    from ingestion.readers import _extra_sql
    from ingestion.sqlutil import ident, json_path, lit

    keys = ["a", 'quo"te', "back\\slash", "ünï", "😀", "ctl\x01", "sp ace", "slash/", "A"]
    values = [
        *('"x"', '"é"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\\/"', '"a\\"b"', '"\\\\"'),
        *('"\\n\\t\\u0001\\u001f"', '"\\u007f"', '"\u2028"', '""', '"  "'),
        *("1", "1.0", "1.50", "1e5", "1E-7", "-0", "-0.0", "0.1", "3.141592653589793238"),
        *("12345678901234567890123", "18446744073709551615", "9223372036854775808"),
        *(
            "true",
            "false",
            "null",
            '{ "n" : [1, 2, {"z": null}] }',
            "[]",
            "{}",
            '[ "a" , 1.5e300 ]',
        ),
    ]
    rnd = random.Random(7)
    records = [
        "{"
        + ", ".join(
            f"{json.dumps(k)}: {rnd.choice(values)}" for k in rnd.sample(keys, rnd.randint(0, 5))
        )
        + ', "known": 1}'
        for _ in range(3000)
    ]
    records += ['{"a": 1, "a": 2}', '{"a": 1, "A": 2}', "not json", "[1]", '{"a": }', "{}"]
    con = duckdb.connect()
    con.execute("CREATE TABLE src AS SELECT unnest(?) AS _raw", [records])
    struct, items, plain = {"known": "VARCHAR"}, [], []
    for k in keys:  # as readers._json_stage builds them
        if k.lower() in {s.lower() for s in struct}:
            items.append(
                (k, f"CASE WHEN _s IS NOT NULL THEN json_extract(_raw, {json_path(k)}) END")
            )
            plain.append((k, f"json_extract(_raw, {json_path(k)})"))
        else:
            struct[k] = "JSON"
            items.append((k, f"_s.{ident(k)}"))
            plain.append((k, f"_s.{ident(k)}"))
    rows = con.execute(
        f"""SELECT _raw, CASE WHEN _s IS NOT NULL THEN {_map_extra_sql(plain)} END,
                   {_extra_sql(items)}
            FROM (SELECT _raw, try(from_json(_raw, {lit(json.dumps(struct))})) AS _s FROM src)"""
    ).fetchall()
    assert [r for r in rows if r[1] != r[2]] == []
    assert sum(r[2] is not None for r in rows) > 2000

    con.execute(
        """CREATE TABLE tab AS SELECT * FROM (VALUES
            ('x', 1, 1.5::DOUBLE, [1, 2], {'a': 'é"'}, NULL::VARCHAR),
            ('é\\n"', NULL, 1e300, [], NULL, 'z'),
            (NULL, NULL, NULL, NULL, NULL, NULL)) v(c1, c2, c3, c4, c5, c6)"""
    )
    tabular = [(c, f"to_json(s.{c})") for c in ("c1", "c2", "c3", "c4", "c5", "c6")]
    got = con.execute(
        f"SELECT {_map_extra_sql(tabular)}, {_extra_sql(tabular)} FROM tab s"
    ).fetchall()
    assert all(old == new for old, new in got) and got[-1] == (None, None)
