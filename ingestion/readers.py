"""Read one landed file with DuckDB into the staging table ``_cw_stage``: text values only.

Stage columns: ``_row_number`` (1-based record number in the file), ``_src_rowid`` (row of
``_cw_src``, the file as read, from which the raw text of quarantined rows is rebuilt lazily),
``_raw`` (only for broken CSV lines: their text), ``_bad`` (record-level problem, e.g. a
malformed JSON line), ``_extra`` (JSON object of fields the contract does not know, or NULL) and
``f_0 .. f_n``: the feed's fields as VARCHAR (NULL when absent), in ``FeedSpec.fields`` order.

Record numbers: NDJSON = line number; JSON array = element index; CSV = data record number
(header excluded); Parquet = row index; all 1-based.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field

import duckdb

from .discovery import LandedFile
from .feeds import CSV_EXT, JSON, JSON_EXT, PARQUET_EXT, FeedSpec
from .sqlutil import drop_temp_relations, ident, json_path, lit

SRC = "_cw_src"
STAGE = "_cw_stage"
REJECTS = "_cw_csv_rejects"
REJECTS_SCAN = "_cw_csv_rejects_scan"
TEMP_TABLES = (STAGE, SRC, REJECTS, REJECTS_SCAN)  # dependents first

LINE_DELIM = "\x1f\x1e\x1d"  # never in text: each NDJSON line is read whole as one column
MAX_LINE = 64 * 1024 * 1024
PEEK = 64 * 1024


class UnreadableFileError(Exception):
    """The file cannot be read at all (or lacks a required column): the file is rejected."""


@dataclass
class ReadResult:
    fmt: str  # csv | json_lines | json_array | json_document | parquet
    present: set[str]  # known fields present in the file's header / keys
    unknown: list[str] = field(default_factory=list)  # other columns/keys (kept in extra)
    raw_join: str = ""  # join clause giving alias ``src`` (the source row) for raw text
    raw_text_sql: str = "t._raw"  # expression over alias ``t`` (a stage row) and ``src``


def stage_field(i: int) -> str:
    return f"f_{i}"


def drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    drop_temp_relations(con, TEMP_TABLES)


def read_file(con: duckdb.DuckDBPyConnection, spec: FeedSpec, landed: LandedFile) -> ReadResult:
    ext = landed.extension
    if landed.size_bytes == 0:
        raise UnreadableFileError(f"{landed.rel_path}: file is empty")
    if ext is None or ext not in spec.extensions:
        accepted = ", ".join(spec.extensions)
        raise UnreadableFileError(
            f"{landed.rel_path}: unsupported file type for feed {spec.name} (accepted: {accepted})"
        )
    if ext in CSV_EXT:
        return _read_csv(con, spec, landed)
    if ext in JSON_EXT:
        return _read_json(con, spec, landed)
    assert ext in PARQUET_EXT
    return _read_parquet(con, spec, landed)


# ----------------------------------------------------------------------------- JSON
def _json_layout(landed: LandedFile) -> str:
    try:
        if landed.path.name.endswith(".gz"):
            with gzip.open(landed.path, "rb") as fh:
                head = fh.read(PEEK)
        else:
            with open(landed.path, "rb") as fh:
                head = fh.read(PEEK)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise UnreadableFileError(f"{landed.rel_path}: cannot decompress: {exc}") from exc
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise UnreadableFileError(f"{landed.rel_path}: file holds no data")
    return "array" if start.startswith(b"[") else "lines"


def _keys_sql(text: str) -> str:
    """The record's top-level keys; NULL when it is not a parseable JSON object."""
    return (
        f"CASE WHEN starts_with({text}, '{{') OR starts_with(ltrim({text}), '{{') "
        f"THEN try(json_keys({text})) END"
    )


def _read_json(con: duckdb.DuckDBPyConnection, spec: FeedSpec, landed: LandedFile) -> ReadResult:
    path = lit(str(landed.path))
    layout = _json_layout(landed)
    if layout == "array":
        con.execute(
            f"""CREATE TEMP TABLE {SRC} AS SELECT json::VARCHAR AS _raw
            FROM read_json_objects({path}, format='array', maximum_object_size={MAX_LINE})"""
        )
        fmt = "json_array"
    else:
        con.execute(
            f"""CREATE TEMP TABLE {SRC} AS SELECT line AS _raw
            FROM read_csv({path}, columns={{'line': 'VARCHAR'}}, delim={lit(LINE_DELIM)},
                quote='', escape='', header=false, auto_detect=false, comment='',
                strict_mode=false, max_line_size={MAX_LINE})"""
        )
        fmt = "json_lines"
    objects, keys = _json_probe(con)
    if objects == 0 and layout == "lines" and _has_text(con):
        # Not NDJSON; maybe one (pretty-printed) JSON document or several concatenated ones.
        con.execute(f"DROP TABLE {SRC}")
        try:
            con.execute(
                f"""CREATE TEMP TABLE {SRC} AS SELECT json::VARCHAR AS _raw
                FROM read_json_objects({path}, format='unstructured',
                                       maximum_object_size={MAX_LINE})"""
            )
        except duckdb.Error as exc:
            raise UnreadableFileError(
                f"{landed.rel_path}: not JSON (neither NDJSON nor a JSON array): {_first_line(exc)}"
            ) from exc
        objects, keys = _json_probe(con)
        fmt = "json_document"
        if objects == 0:
            raise UnreadableFileError(f"{landed.rel_path}: not JSON: no JSON object in the file")

    known = set(spec.field_names)
    present = {k for k in keys if k in known}
    unknown = sorted(k for k in keys if k not in known)

    # from_json: one parse for all known fields and the unknown keys (JSON values for extra).
    # Struct field names are case-insensitive in DuckDB: colliding keys use json_extract instead.
    struct: dict[str, str] = {}
    taken: set[str] = set()
    for f in spec.fields:
        struct[f.name] = "JSON" if f.kind == JSON else "VARCHAR"
        taken.add(f.name.lower())
    extra_items = []
    for k in unknown:
        if k.lower() in taken:
            extra_items.append((k, f"json_extract(_raw, {json_path(k)})"))
        else:
            struct[k] = "JSON"
            taken.add(k.lower())
            extra_items.append((k, f"_s.{ident(k)}"))
    fields_sql = ",\n".join(
        f"_s.{ident(f.name)}::VARCHAR AS {stage_field(i)}" for i, f in enumerate(spec.fields)
    )
    # A view: the file is parsed once, by the statement that builds the typed table.
    # Blank lines are no records (filtered on the raw text: cheap, no JSON involved).
    con.execute(
        f"""CREATE TEMP VIEW {STAGE} AS
        SELECT _rid + 1 AS _row_number, _rid AS _src_rowid, NULL::VARCHAR AS _raw,
               CASE WHEN _s IS NOT NULL THEN NULL
                    WHEN json_valid(_raw) THEN 'record is not a JSON object'
                    ELSE 'malformed JSON record' END AS _bad,
               CASE WHEN _s IS NOT NULL THEN {_extra_sql(extra_items)} END AS _extra,
               {fields_sql}
        FROM (SELECT rowid AS _rid, _raw,
                     CASE WHEN starts_with(_raw, '{{') OR starts_with(ltrim(_raw), '{{')
                          THEN try(from_json(_raw, {lit(json.dumps(struct))})) END AS _s
              FROM {SRC}
              WHERE starts_with(_raw, '{{') OR trim(_raw) <> '')"""
    )
    return ReadResult(
        fmt=fmt,
        present=present,
        unknown=unknown,
        raw_join=f"LEFT JOIN {SRC} src ON src.rowid = t._src_rowid",
        raw_text_sql="src._raw",
    )


def _json_probe(con: duckdb.DuckDBPyConnection) -> tuple[int, list[str]]:
    """(number of records that are JSON objects, every top-level key used) of ``_cw_src``."""
    objects, keys = con.execute(
        f"""SELECT count(k), list_distinct(flatten(list(DISTINCT k)))
            FROM (SELECT {_keys_sql("_raw")} AS k FROM {SRC})"""
    ).fetchone()
    return objects, sorted(keys or [])


def _has_text(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            f"SELECT count(*) FROM {SRC} WHERE _raw IS NOT NULL AND trim(_raw) <> ''"
        ).fetchone()[0]
    )


def _extra_sql(items: list[tuple[str, str]]) -> str:
    """JSON object text of the non-null (key, JSON value expression) pairs, NULL when none."""
    if not items:
        return "NULL::VARCHAR"
    entries = ", ".join(f"{{'key': {lit(k)}, 'value': ({v})::JSON}}" for k, v in items)
    return (
        f"nullif(to_json(map_from_entries(list_filter([{entries}], "
        f"lambda e: e.value IS NOT NULL)))::VARCHAR, '{{}}')"
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ----------------------------------------------------------------------------- CSV / Parquet
def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _match_columns(spec: FeedSpec, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map field name -> source column (exact, then case/space-insensitive) and the unknown rest."""
    mapping: dict[str, str] = {}
    clean = {n: n.lstrip("\ufeff").strip() for n in names}
    for f in spec.fields:
        for n in names:
            if clean[n] == f.name and n not in mapping.values():
                mapping[f.name] = n
                break
        else:
            for n in names:
                if clean[n].lower() == f.name.lower() and n not in mapping.values():
                    mapping[f.name] = n
                    break
    used = set(mapping.values())
    return mapping, [n for n in names if n not in used]


def _json_text(expr: str) -> str:
    """JSON text for a JSON-kind field read as text: JSON arrays/objects kept, else a string."""
    return (
        f"CASE WHEN {expr} IS NULL THEN NULL "
        f"WHEN regexp_matches({expr}, '^\\s*[\\[{{]') AND json_valid({expr}) THEN {expr} "
        f"ELSE to_json({expr})::VARCHAR END"
    )


def _tabular_stage(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    columns: list[tuple[str, str]],
    kind: str,
) -> tuple[set[str], list[str]]:
    """Create ``_cw_stage`` (``kind`` VIEW or TABLE) over the CSV/Parquet rows of ``_cw_src``."""
    names = [c for c, _ in columns]
    types = dict(columns)
    mapping, unknown = _match_columns(spec, names)
    nested = ("[]", "STRUCT", "MAP", "UNION")
    selects = []
    for i, f in enumerate(spec.fields):
        src = mapping.get(f.name)
        if src is None:
            selects.append(f"NULL::VARCHAR AS {stage_field(i)}")
            continue
        is_nested = any(t in types[src] for t in nested)
        text = f"to_json({ident(src)})::VARCHAR" if is_nested else f"{ident(src)}::VARCHAR"
        if f.kind == JSON and not is_nested:
            text = _json_text(text)
        selects.append(f"{text} AS {stage_field(i)}")
    extra = _extra_sql([(n, f"to_json({ident(n)})") for n in unknown])
    con.execute(
        f"""CREATE TEMP {kind} {STAGE} AS
        SELECT rowid + 1 AS _row_number, rowid AS _src_rowid, NULL::VARCHAR AS _raw,
               NULL::VARCHAR AS _bad, {extra} AS _extra, {", ".join(selects)}
        FROM {SRC}"""
    )
    return set(mapping), unknown


def _read_csv(con: duckdb.DuckDBPyConnection, spec: FeedSpec, landed: LandedFile) -> ReadResult:
    path = lit(str(landed.path))
    con.execute(
        f"""CREATE TEMP TABLE {SRC} AS SELECT * FROM read_csv({path},
            all_varchar=true, header=true, delim=',', quote='"', escape='"',
            store_rejects=true, rejects_table='{REJECTS}', rejects_scan='{REJECTS_SCAN}',
            max_line_size={MAX_LINE})"""
    )
    broken = con.execute(f"SELECT count(*) FROM {REJECTS}").fetchone()[0]
    kind = "TABLE" if broken else "VIEW"
    present, unknown = _tabular_stage(con, spec, _columns(con, SRC), kind)
    if broken:
        _merge_csv_rejects(con, spec)
    return ReadResult(
        fmt="csv",
        present=present,
        unknown=unknown,
        raw_join=f"LEFT JOIN {SRC} src ON src.rowid = t._src_rowid",
        raw_text_sql="coalesce(t._raw, to_json(src)::VARCHAR)",
    )


def _merge_csv_rejects(con: duckdb.DuckDBPyConnection, spec: FeedSpec) -> None:
    """Put the lines the CSV reader rejected into the stage as bad records, and renumber the
    good rows so that every record keeps its position in the file (record = line - 1)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cw_csv_bad AS
        SELECT line - 1 AS _row_number, any_value(csv_line) AS _raw,
               'malformed CSV row: ' || arg_min(error_message, column_idx) AS _bad
        FROM {REJECTS} GROUP BY line"""
    )
    # good row k (1-based among good rows) is record k + #{bad j : r_j - j < k}
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _cw_csv_shift AS
        SELECT r - j AS k_j, max(j) AS shift FROM (
            SELECT _row_number AS r, row_number() OVER (ORDER BY _row_number) AS j FROM _cw_csv_bad
        ) GROUP BY 1"""
    )
    con.execute(
        f"""UPDATE {STAGE} SET _row_number = {STAGE}._row_number + m.shift
        FROM (SELECT s._src_rowid, sh.shift FROM {STAGE} s
              ASOF JOIN _cw_csv_shift sh ON s._row_number > sh.k_j) m
        WHERE {STAGE}._src_rowid = m._src_rowid"""
    )
    nulls = ", ".join(f"NULL::VARCHAR AS {stage_field(i)}" for i in range(len(spec.fields)))
    con.execute(
        f"""INSERT INTO {STAGE}
        SELECT _row_number, NULL, _raw, _bad, NULL, {nulls} FROM _cw_csv_bad"""
    )
    con.execute("DROP TABLE _cw_csv_bad")
    con.execute("DROP TABLE _cw_csv_shift")


def _read_parquet(con: duckdb.DuckDBPyConnection, spec: FeedSpec, landed: LandedFile) -> ReadResult:
    path = lit(str(landed.path))
    con.execute(f"CREATE TEMP TABLE {SRC} AS SELECT * FROM read_parquet({path})")
    present, unknown = _tabular_stage(con, spec, _columns(con, SRC), "VIEW")
    return ReadResult(
        fmt="parquet",
        present=present,
        unknown=unknown,
        raw_join=f"LEFT JOIN {SRC} src ON src.rowid = t._src_rowid",
        raw_text_sql="coalesce(t._raw, to_json(src)::VARCHAR)",
    )
