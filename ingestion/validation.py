"""The typed projection of the staged file and one reject reason per row, in one SQL pass.

From ``_cw_stage`` (text values, readers.py) this builds ``_cw_typed``: ``t_<i>`` typed value of
field ``i`` (PII already replaced by its keyed hash, free text masked), ``extra`` (masked),
``_reason`` (NULL for a good row, else every problem of the row joined by ``'; '``) and, for
whole-record feeds, ``_record_hash``: sha256 of the canonical JSON of the typed record.

Reasons name the field and the value, e.g. ``unparseable timestamp '2026-13-01' (field
created_at)``, ``unknown event type 'opn' (field event)``, ``non-numeric amount 'abc'``,
``missing required value (field sg_event_id)``, ``currency USD but installation is RUB``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
)
from .readers import STAGE, stage_field
from .sqlutil import json_path, lit, lit_list

TYPED = "_cw_typed"
CHILD = "_cw_child"
CHILD_AGG = "_cw_child_agg"
TEMP_TABLES = (TYPED, CHILD, CHILD_AGG)

MACROS = [
    """CREATE OR REPLACE TEMP MACRO cw_q(v) AS
        '''' || CASE WHEN length(v) > 80 THEN left(v, 80) || '...' ELSE v END || ''''""",
    "CREATE OR REPLACE TEMP MACRO cw_present(v) AS (v IS NOT NULL AND trim(v) <> '')",
]

_DECIMALS = {MONEY: "DECIMAL(18,2)", QTY: "DECIMAL(18,3)", PRICE: "DECIMAL(18,6)"}
_HASH_MACRO = {EMAIL: "cw_hash_email", PHONE: "cw_hash_phone", CONTACT: "cw_hash_contact"}


def install(con: duckdb.DuckDBPyConnection) -> None:
    for sql in MACROS:
        con.execute(sql)


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
        return f"nullif(trim({v}), '')"
    if f.kind == TEXT:
        return f"cw_mask(CASE WHEN trim({v}) <> '' THEN {v} END)"
    if f.kind == TS:
        return f"cw_ts({v})"
    if f.kind in _DECIMALS:
        return f"try_cast(nullif(trim({v}), '') AS {_DECIMALS[f.kind]})"
    if f.kind == INT:
        return (
            f"CASE WHEN regexp_full_match(trim({v}), '[+-]?[0-9]+(\\.0*)?') "
            f"THEN try_cast(trim({v}) AS BIGINT) END"
        )
    if f.kind == BOOL:
        return f"try_cast(nullif(lower(trim({v})), '') AS BOOLEAN)"
    if f.kind == JSON:
        return f"nullif(trim({v}), '')"
    if f.kind in PII_KINDS:
        return f"{_HASH_MACRO[f.kind]}({v})"
    raise ValueError(f"unknown field kind {f.kind!r}")


def reason_exprs(f: Field, v: str, t: str, currency: str | None = None) -> list[str]:
    """SQL expressions, each NULL or one problem of field ``f`` (text ``v``, typed ``t``)."""
    out = []
    name = f.name
    if f.required:
        out.append(
            f"CASE WHEN NOT cw_present({v}) THEN 'missing required value (field {name})' END"
        )
    bad = f"cw_present({v}) AND {t} IS NULL"
    if f.kind == TS:
        out.append(
            f"CASE WHEN {bad} THEN 'unparseable timestamp ' || cw_q({v}) || ' (field {name})' END"
        )
    elif f.kind in _DECIMALS:
        out.append(f"CASE WHEN {bad} THEN 'non-numeric {name} ' || cw_q({v}) END")
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
            f"THEN 'currency ' || {t} || {lit(' but installation is ' + currency.upper())} END"
        )
    return out


def _combine(reasons: list[str]) -> str:
    if not reasons:
        return "NULL::VARCHAR"
    return f"nullif(concat_ws('; ', {', '.join(reasons)}), '')"


def _canonical_json(pairs: list[tuple[str, str]]) -> str:
    body = ", ".join(f"{lit(k)}: {v}" for k, v in pairs)
    return f"to_json({{{body}}})::VARCHAR"


def build_typed(con: duckdb.DuckDBPyConnection, spec: FeedSpec, currency: str) -> TypedLayout:
    """Create ``_cw_typed`` from ``_cw_stage``; return the column layout for the loader."""
    child_field = spec.child.source_field if spec.child else None
    typed, reasons, columns, pii_sources = [], [], [], []
    for i, f in enumerate(spec.fields):
        v, t = stage_field(i), f"t_{i}"
        typed.append(f"{typed_expr(f, 'st.' + v)} AS {t}")
        cur = currency if f.name == spec.currency_field else None
        reasons += reason_exprs(f, v, t, cur)
        if f.name != child_field:
            columns.append((f.column, t))
        if f.kind in PII_KINDS:
            pii_sources.append(stage_field(i))
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
        pairs = [(c, t) for c, t in columns] + [("extra", "extra")] + canon_extra
        record_hash = (
            f", CASE WHEN _reason IS NULL THEN sha256({_canonical_json(pairs)}) END AS _record_hash"
        )
    keep = ", ".join(
        ["_row_number", "_src_rowid", "_raw", "extra"]
        + [f"t_{i}" for i in range(len(spec.fields))]
        + (["_child_canon"] if spec.child else [])
        + pii_sources  # clear values, only to blank them out of quarantined raw text
    )
    con.execute(
        f"""CREATE TEMP TABLE {TYPED} AS
        SELECT *{record_hash} FROM (
            SELECT {keep},
                   CASE WHEN _bad IS NOT NULL THEN _bad ELSE {_combine(reasons)} END AS _reason
            FROM (
                SELECT st.* EXCLUDE (_extra), cw_mask(st._extra) AS extra,
                       {", ".join(typed)}
                FROM {STAGE} st {join}
            )
        )"""
    )
    return layout


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
        SELECT *, CASE WHEN _bad IS NOT NULL THEN {prefix} || _bad
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
    con.execute(
        f"""CREATE TEMP TABLE {CHILD_AGG} AS
        SELECT _row_number,
               string_agg(_reason, '; ' ORDER BY pos) AS _child_reason,
               list({{{canon}}} ORDER BY pos) AS _child_canon
        FROM {CHILD} GROUP BY _row_number"""
    )
    layout.child_columns = [(child.position_column, "pos")] + [
        (f.column, f"ct_{i}") for i, f in enumerate(child.fields)
    ]
