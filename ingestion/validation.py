"""The typed projection of the staged file and one reject reason per row, in one SQL pass.

From ``_cw_stage`` (text values, readers.py) this builds ``_cw_typed``: ``t_<i>`` typed value of
field ``i`` (PII already replaced by its keyed hash, free text masked), ``extra`` (masked),
``_reason`` (NULL for a good row, else every problem of the row joined by ``'; '``) and, for
whole-record feeds, ``_record_hash``: sha256 of the canonical JSON of the typed record.

Reasons name the field and the value, e.g. ``unparseable timestamp '2026-13-01' (field
created_at)``, ``unknown event type 'opn' (field event)``, ``non-numeric amount 'abc'``,
``missing required value (field sg_event_id)``, ``currency USD but installation is RUB``,
``implausible timestamp '1900-01-01' (field purchased_at): before 2000-01-01``,
``implausible total_amount '1e20': outside ±10^12``, ``amount '1234.567' has more than 2
decimals``, ``personal data in customer_id: an e-mail address where the contract expects none``.

Values quoted in a reason are masked here, where the field is known (masking.py), not afterwards:
only here can a 13-digit number in a timestamp field be shown as the Unix milliseconds it is
rather than masked as a phone number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from .feeds import (
    BOOL,
    CONTACT,
    EMAIL,
    INT,
    JSON,
    MONEY,
    PHONE,
    PII_KINDS,
    PRICE,
    QTY,
    STR,
    TEXT,
    TS,
    FeedSpec,
    Field,
    derived_columns,
)
from .hashing import create_lookup
from .readers import STAGE, stage_field
from .sqlutil import json_path, lit, lit_list

TYPED = "_cw_typed"
CHILD = "_cw_child"
CHILD_AGG = "_cw_child_agg"
TEMP_TABLES = (TYPED, CHILD, CHILD_AGG)

# Plausible values (feeds.md, "Bad input"): timestamps from 2000-01-01 to one year after the run,
# amounts (every decimal field) within ±10^12.
EARLIEST_TIMESTAMP = "2000-01-01"
AMOUNT_LIMIT = "1e12"
AMOUNT_LIMIT_TEXT = "±10^12"
# Unix milliseconds of 2001-2033 (a 13-digit number starting with 1): not an accepted timestamp
# form, and not a phone number in a timestamp field, so the reason shows the value.
UNIX_MILLIS = r"^\s*1\d{12}(\.\d+)?\s*$"
# A plain number (no leading '+', which is how phone numbers are written): in a decimal field it
# is an amount, shown in reasons even when it is as long as a phone number.
PLAIN_NUMBER = r"^\s*-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"

MACROS = [
    # the value quoted in a reason, cut at 80 characters; cw_q also masks it
    """CREATE OR REPLACE TEMP MACRO cw_q_clear(v) AS
        '''' || CASE WHEN length(v) > 80 THEN left(v, 80) || '...' ELSE v END || ''''""",
    "CREATE OR REPLACE TEMP MACRO cw_q(v) AS cw_q_clear(cw_mask(v))",
]


def _latest_timestamp_macro(now: datetime) -> str:
    """``cw_ts_latest()``: one year after the run, the newest plausible timestamp."""
    return (
        "CREATE OR REPLACE TEMP MACRO cw_ts_latest() AS "
        f"TIMESTAMP '{now:%Y-%m-%d %H:%M:%S}' + INTERVAL 1 YEAR"
    )


_DECIMALS = {MONEY: "DECIMAL(18,2)", QTY: "DECIMAL(18,3)", PRICE: "DECIMAL(18,6)"}

# Fields whose typed value and reasons (pure functions of the text) are computed once per distinct
# value and joined back, when a batch repeats their values: Twilio's three timestamps have ~1
# distinct value in 13 rows (messages go out in bursts), its SMS bodies 21 in 400 k (templates),
# SendGrid's urls and bounce reasons a few dozen. Only the costly kinds (timestamp parsing, text
# masking, decimal checks); the threshold is on DuckDB's HyperLogLog estimate, which decides only
# how the same values are computed, never what they are.
LOOKUP_KINDS = (TS, TEXT, MONEY, QTY, PRICE)
LOOKUP_MAX_SHARE = 0.25  # distinct values per row at or below which the lookup pays
LOOKUP_MIN_ROWS = 10_000
_SCALE = {MONEY: 2, QTY: 3, PRICE: 6}
_HASH_MACRO = {EMAIL: "cw_hash_email", PHONE: "cw_hash_phone", CONTACT: "cw_hash_contact"}


def install(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> None:
    """The TEMP macros of validation; ``now`` (UTC, default: the clock) dates the run."""
    for sql in MACROS:
        con.execute(sql)
    con.execute(_latest_timestamp_macro(now or datetime.now(UTC).replace(tzinfo=None)))


@dataclass
class TypedLayout:
    """Which typed column of ``_cw_typed`` feeds which raw column."""

    columns: list[tuple[str, str]]  # (raw column, typed column)
    key_columns: list[tuple[str, str]]  # replay key: (raw column, typed column)
    child_columns: list[tuple[str, str]] = field(default_factory=list)  # over _cw_child
    pii_sources: list[str] = field(default_factory=list)  # clear PII columns (temp table only)


def typed_expr(f: Field, v: str) -> str:
    """SQL for the typed value of field ``f`` whose text is the expression ``v``."""
    if f.kind == STR:
        return f"nullif(cw_trim({v}), '')"
    if f.kind == TEXT:
        return f"cw_mask(CASE WHEN cw_present({v}) THEN {v} END)"
    if f.kind == TS:
        return f"cw_ts({v})"
    if f.kind in _DECIMALS:
        return f"try_cast(nullif(cw_trim({v}), '') AS {_DECIMALS[f.kind]})"
    if f.kind == INT:
        return (
            f"CASE WHEN regexp_full_match(cw_trim({v}), '[+-]?[0-9]+(\\.0*)?') "
            f"THEN try_cast(cw_trim({v}) AS BIGINT) END"
        )
    if f.kind == BOOL:
        return f"try_cast(nullif(lower(cw_trim({v})), '') AS BOOLEAN)"
    if f.kind == JSON:
        return f"nullif(cw_trim({v}), '')"
    if f.kind in PII_KINDS:
        return f"{_HASH_MACRO[f.kind]}({v})"
    raise ValueError(f"unknown field kind {f.kind!r}")


def reason_exprs(f: Field, v: str, t: str, currency: str | None = None) -> list[str]:
    """SQL expressions, each NULL or one problem of field ``f`` (text ``v``, typed ``t``)."""
    return missing_reason_exprs(f, v) + value_reason_exprs(f, v, t, currency)


def missing_reason_exprs(f: Field, v: str) -> list[str]:
    """The "missing required value" problem of a required field (none for an optional one)."""
    if not f.required:
        return []
    return [f"CASE WHEN NOT cw_present({v}) THEN 'missing required value (field {f.name})' END"]


def value_reason_exprs(f: Field, v: str, t: str, currency: str | None = None) -> list[str]:
    """The problems of a present value: functions of its text alone (NULL for a NULL text)."""
    out = []
    name = f.name
    bad = f"cw_present({v}) AND {t} IS NULL"
    if f.kind == TS:
        out.append(_timestamp_reason(name, v, t))
    elif f.kind in _DECIMALS:
        out.append(_decimal_reason(f, v, t))
    elif f.kind == INT:
        out.append(f"CASE WHEN {bad} THEN 'non-integer {name} ' || cw_q({v}) END")
    elif f.kind == BOOL:
        out.append(f"CASE WHEN {bad} THEN 'non-boolean {name} ' || cw_q({v}) END")
    if f.enum:
        suffix = "" if f.what == name else f" (field {name})"
        out.append(
            f"CASE WHEN {t} IS NOT NULL AND NOT list_contains({lit_list(f.enum)}, {t}) "
            f"THEN 'unknown {f.what} ' || cw_q({t}) || {lit(suffix)} END"
        )
    if currency is not None:
        out.append(
            f"CASE WHEN {t} IS NOT NULL AND upper({t}) <> {lit(currency.upper())} "
            f"THEN 'currency ' || cw_mask({t}) || "
            f"{lit(' but installation is ' + currency.upper())} END"
        )
    if f.no_personal_data:
        out.append(
            f"CASE WHEN cw_personal_kind({t}) IS NOT NULL "
            f"THEN 'personal data in {name}: ' || cw_personal_kind({t}) "
            "|| ' where the contract expects none' END"
        )
    return out


def _timestamp_reason(name: str, v: str, t: str) -> str:
    """Unparseable (Unix milliseconds named as such), or outside the plausible range. Nested so
    that a parsed value (nearly all) costs two comparisons, never a look at its text."""
    return f"""CASE
        WHEN {t} IS NULL THEN CASE
            WHEN NOT cw_present({v}) THEN NULL
            WHEN regexp_matches({v}, {lit(UNIX_MILLIS)})
                THEN 'unparseable timestamp ' || cw_q_clear(trim({v})) || ' (field {name}): '
                     || 'Unix milliseconds are not accepted, only Unix seconds'
            ELSE 'unparseable timestamp ' || cw_q({v}) || ' (field {name})' END
        WHEN {t} < TIMESTAMP '{EARLIEST_TIMESTAMP}'
            THEN 'implausible timestamp ' || cw_q({v})
                 || ' (field {name}): before {EARLIEST_TIMESTAMP}'
        WHEN {t} > cw_ts_latest()
            THEN 'implausible timestamp ' || cw_q({v}) || ' (field {name}): more than a year '
                 || 'after this run (after ' || strftime(cw_ts_latest(), '%Y-%m-%d') || ')'
        END"""


def _decimal_reason(f: Field, v: str, t: str) -> str:
    """Non-numeric; implausible (outside ±10^12, which includes what overflows the column type);
    or more decimals than the column keeps (never rounded silently: 1234.567 is no amount)."""
    name, scale = f.name, _SCALE[f.kind]
    negative = (
        f"WHEN {t} < 0 THEN 'negative {name} ' || cw_q_clear(cw_trim({v})) "
        "|| ': cannot be below 0'\n        "
        if f.non_negative
        else ""
    )
    number = f"try_cast(cw_trim({v}) AS DOUBLE)"
    shown = f"CASE WHEN regexp_matches({v}, {lit(PLAIN_NUMBER)}) THEN cw_q_clear(cw_trim({v})) END"
    return f"""CASE
        WHEN NOT cw_present({v}) THEN NULL
        WHEN isfinite({number}) AND abs({number}) > {AMOUNT_LIMIT}
            THEN 'implausible {name} ' || coalesce({shown}, cw_q({v}))
                 || ': outside {AMOUNT_LIMIT_TEXT}'
        WHEN {t} IS NULL THEN 'non-numeric {name} ' || cw_q({v})
        WHEN try_cast(cw_trim({v}) AS DECIMAL(38,18)) IS DISTINCT FROM {t}
            THEN '{name} ' || coalesce({shown}, cw_q({v})) || ' has more than {scale} decimals'
        {negative}END"""


def _not_before_reasons(spec: FeedSpec) -> list[str]:
    """A timestamp before the one it cannot precede (a holdout's valid_to before valid_from)."""
    out = []
    for later, earlier in spec.not_before:
        i, j = spec.field_names.index(later), spec.field_names.index(earlier)
        out.append(
            f"CASE WHEN t_{i} < t_{j} THEN '{later} ' || cw_q({stage_field(i)}) "
            f"|| ' is before {earlier} ' || cw_q({stage_field(j)}) END"
        )
    return out


def _combine(reasons: list[str]) -> str:
    if not reasons:
        return "NULL::VARCHAR"
    return f"nullif(concat_ws('; ', {', '.join(reasons)}), '')"


def _canonical_json(pairs: list[tuple[str, str]]) -> str:
    body = ", ".join(f"{lit(k)}: {v}" for k, v in pairs)
    return f"to_json({{{body}}})::VARCHAR"


def build_typed(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, currency: str, rescan: bool = True
) -> TypedLayout:
    """Create ``_cw_typed`` from ``_cw_stage``; return the column layout for the loader.

    ``rescan``: the stage can be read more than once cheaply (a table, or a view over tabular
    sources; not a view that parses JSON), so repeated values may be looked up (LOOKUP_KINDS).
    """
    child_field = spec.child.source_field if spec.child else None
    typed, reasons, columns, pii_sources = [], [], [], []
    lookups = []  # personal data: hashed once per distinct value, joined back (hashing.py)
    repeated = _repeated_fields(con, spec) if rescan else set()
    for i, f in enumerate(spec.fields):
        v, t = stage_field(i), f"t_{i}"
        cur = currency if f.name == spec.currency_field else None
        field_reasons = reason_exprs(f, v, t, cur)
        if f.kind in PII_KINDS:
            with_domain = f.domain_column is not None
            create_lookup(con, f.kind, STAGE, v, f"_cw_hash_{i}", with_domain)
            lookups.append(f"LEFT JOIN _cw_hash_{i} h_{i} ON h_{i}.v = st.{v}")
            typed.append(f"h_{i}.h AS {t}")
            if with_domain:
                typed.append(f"h_{i}.d AS d_{i}")
        elif i in repeated:
            _create_value_lookup(con, f, v, f"_cw_value_{i}", cur)
            lookups.append(f"LEFT JOIN _cw_value_{i} l_{i} ON l_{i}.v = st.{v}")
            typed += [f"l_{i}.t AS {t}", f"l_{i}.r AS r_{i}"]
            # "missing required value" stays here (NULL is not in the lookup; the value's
            # reasons are NULL for it), and concat_ws of r_i is concat_ws of the reasons it joins
            field_reasons = missing_reason_exprs(f, v) + [f"r_{i}"]
        else:
            typed.append(f"{typed_expr(f, 'st.' + v)} AS {t}")
        reasons += field_reasons
        if f.name != child_field:
            columns.append((f.column, t))
        if f.domain_column:
            columns.append((f.domain_column, f"d_{i}"))
        if f.kind in PII_KINDS:
            pii_sources.append(stage_field(i))
    reasons += _not_before_reasons(spec)
    layout = TypedLayout(
        columns=columns,
        key_columns=[(c, t) for c, t in columns if spec.replay_key and c in spec.replay_key],
        pii_sources=pii_sources,
    )

    join, canon_extra = "", []
    if spec.child:
        idx = spec.field_names.index(spec.child.source_field)
        _build_child(con, spec, stage_field(idx), layout)
        join = f"LEFT JOIN {CHILD_AGG} ca ON ca._row_number = st._row_number"
        typed.append("ca._child_reason AS _child_reason")
        typed.append("ca._child_canon AS _child_canon")
        reasons.append("_child_reason")
        lines = stage_field(idx)
        reasons.append(
            f"CASE WHEN cw_present({lines}) AND json_type({lines}) <> 'ARRAY' "
            f"THEN '{spec.child.source_field} is not a JSON array' END"
        )
        canon_extra = [(spec.child.source_field, "_child_canon")]

    record_hash = ""
    if spec.whole_record_key:
        derived = derived_columns(spec)  # the e-mail domain: already in the hashed address
        pairs = [(c, t) for c, t in columns if c not in derived]
        pairs += [("extra", "extra")] + canon_extra
        record_hash = (
            f", CASE WHEN _reason IS NULL THEN sha256({_canonical_json(pairs)}) END AS _record_hash"
        )
    keep = ", ".join(
        ["_row_number", "_src_rowid", "_raw", "extra"]
        + [f"t_{i}" for i in range(len(spec.fields))]
        + [f"d_{i}" for i, f in enumerate(spec.fields) if f.domain_column]
        + (["_child_canon"] if spec.child else [])
        + pii_sources  # clear values, only to blank them out of quarantined raw text
    )
    con.execute(
        f"""CREATE TEMP TABLE {TYPED} AS
        SELECT *{record_hash} FROM (
            SELECT {keep},
                   CASE WHEN _bad IS NOT NULL THEN cw_mask(_bad)
                        ELSE {_combine(reasons)} END AS _reason
            FROM (
                SELECT st.* EXCLUDE (_extra), cw_mask(st._extra) AS extra,
                       {", ".join(typed)}
                FROM {STAGE} st {join} {" ".join(lookups)}
            )
        )"""
    )
    return layout


def _repeated_fields(con: duckdb.DuckDBPyConnection, spec: FeedSpec) -> set[int]:
    """Indexes of the LOOKUP_KINDS fields whose values repeat enough in the stage for a lookup."""
    candidates = [i for i, f in enumerate(spec.fields) if f.kind in LOOKUP_KINDS]
    if not candidates:
        return set()
    distinct = ", ".join(f"approx_count_distinct({stage_field(i)})" for i in candidates)
    rows, *counts = con.execute(f"SELECT count(*), {distinct} FROM {STAGE}").fetchone()
    if rows < LOOKUP_MIN_ROWS:
        return set()
    return {i for i, n in zip(candidates, counts, strict=True) if n <= rows * LOOKUP_MAX_SHARE}


def _create_value_lookup(
    con: duckdb.DuckDBPyConnection, f: Field, source: str, table: str, currency: str | None
) -> None:
    """``table(v, t, r)``: the typed value and the value's reasons (value_reason_exprs, joined
    by '; ', NULL when none) of every distinct non-null value of ``_cw_stage.source``."""
    value_reasons = value_reason_exprs(f, "v", "t", currency)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT v, t, {_combine(value_reasons)} AS r
        FROM (SELECT v, {typed_expr(f, "v")} AS t
              FROM (SELECT DISTINCT {source} AS v FROM {STAGE} WHERE {source} IS NOT NULL))"""
    )


def _build_child(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, source: str, layout: TypedLayout
) -> None:
    """Explode the parent's JSON array (orders.lines) into ``_cw_child`` (typed, with reasons)
    and aggregate per parent row into ``_cw_child_agg`` (reasons, canonical lines for the hash).
    """
    child = spec.child
    assert child is not None
    known = lit_list([f.name for f in child.fields])
    texts = ", ".join(
        f"json_extract_string(lj, {json_path(f.name)}) AS c_{i}" for i, f in enumerate(child.fields)
    )
    extra = (
        "nullif(to_json(map_from_entries(list_transform("
        f"list_filter(json_keys(lj), lambda k: NOT list_contains({known}, k)), "
        "lambda k: {'key': k, "
        "'value': json_extract(lj, '$.\"' || replace(k, '\"', '\\\"') || '\"')}"
        ")))::VARCHAR, '{}')"
    )
    typed, reasons = [], []
    for i, f in enumerate(child.fields):
        typed.append(f"{typed_expr(f, f'c_{i}')} AS ct_{i}")
        reasons += reason_exprs(f, f"c_{i}", f"ct_{i}")
    prefix = f"'{child.source_field}[' || pos || ']: '"
    con.execute(
        f"""CREATE TEMP TABLE {CHILD} AS
        SELECT *, CASE WHEN _bad IS NOT NULL THEN {prefix} || cw_mask(_bad)
                       ELSE {prefix} || {_combine(reasons)} END AS _reason
        FROM (
            SELECT * EXCLUDE (_extra), cw_mask(_extra) AS extra, {", ".join(typed)}
            FROM (
                SELECT _row_number, pos,
                       CASE WHEN json_type(lj) <> 'OBJECT' THEN 'not a JSON object' END AS _bad,
                       CASE WHEN json_type(lj) = 'OBJECT' THEN {extra} END AS _extra,
                       {texts}
                FROM (
                    SELECT _row_number, unnest(json_extract(a, '$[*]')) AS lj,
                           unnest(range(1, json_array_length(a)::BIGINT + 1)) AS pos
                    FROM (SELECT _row_number, {source} AS a FROM {STAGE}
                          WHERE _bad IS NULL AND cw_present({source})
                            AND json_type({source}) = 'ARRAY')
                )
            )
        )"""
    )
    canon = ", ".join(
        [f"'{child.position_column}': pos"]
        + [f"{lit(f.column)}: ct_{i}" for i, f in enumerate(child.fields)]
        + ["'extra': extra"]
    )
    # Ordered aggregates buffer and sort every group: 3x the cost of these equivalents. The
    # reasons: only the (rare) non-null ones are buffered (string_agg skips NULLs anyway). The
    # lines: list_sort of the structs, whose first field is the position, unique in a group.
    con.execute(
        f"""CREATE TEMP TABLE {CHILD_AGG} AS
        SELECT _row_number,
               string_agg(_reason, '; ' ORDER BY pos) FILTER (WHERE _reason IS NOT NULL)
                   AS _child_reason,
               list_sort(list({{{canon}}})) AS _child_canon
        FROM {CHILD} GROUP BY _row_number"""
    )
    layout.child_columns = [(child.position_column, "pos")] + [
        (f.column, f"ct_{i}") for i, f in enumerate(child.fields)
    ]
