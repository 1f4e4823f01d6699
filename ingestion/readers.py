"""Read a batch of landed files of one feed with DuckDB into the staging view ``_cw_stage``.

The files of a batch are read a few at a time, not one by one: every group of files that reads
alike (CSV files with the same header line, Parquet files with the same schema, NDJSON files,
JSON array files) is read by ONE ``read_csv`` / ``read_parquet`` / ``read_json_objects`` call over
all its files (``filename`` kept for per-file lineage) into a temp source table ``_cw_src_<k>``.
A group whose read fails (a truncated gzip) is read again file by file, so that only the bad file
is rejected, with the message a read of that file alone gives.

Stage columns (one row per record of every readable file of the batch):
``_row_number`` the batch record key: ``file ordinal * FILE_SHIFT + record number in the file``
(ordinals are the files' positions in the batch, in path order, so ordering by it is file order
then record order); ``_src_rowid`` (``group * GROUP_SHIFT + rowid`` of the group's source table,
from which the raw text of quarantined rows is rebuilt); ``_raw`` (only for broken CSV lines: their
text); ``_bad`` (record-level problem, e.g. a malformed JSON line); ``_extra`` (JSON object of the
fields the contract does not know, or NULL); and ``f_0 .. f_n``: the feed's fields as VARCHAR
(NULL when absent), in ``FeedSpec.fields`` order.

Record numbers: NDJSON = line number; JSON array = element index; CSV = data record number
(header excluded); Parquet = row index; all 1-based.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field

import duckdb

from .discovery import LandedFile
from .feeds import CSV_EXT, JSON, JSON_EXT, PARQUET_EXT, PII_KINDS, FeedSpec
from .sqlutil import ident, json_path, lit

STAGE = "_cw_stage"
BATCH_FILES = "_cw_batch_files"  # _ord, _cw_filename (absolute path as DuckDB reports it)

FILE_SHIFT = 1 << 32  # record numbers per file stay below 2^32
GROUP_SHIFT = 1 << 40

FILENAME = "_cw_filename"  # the column the multi-file readers add (never a landed column name)
LINE_DELIM = "\x1f\x1e\x1d"  # never in text: each NDJSON line is read whole as one column
MAX_LINE = 64 * 1024 * 1024
# DuckDB's CSV reader sizes its buffer at 16 x max_line_size unless told: a 1 GiB block per
# compressed file, which fails outright under a memory_limit of 1 GB. One line's worth is enough.
CSV_BUFFER = MAX_LINE
PEEK = 64 * 1024

# DuckDB errors that are bugs in the generated SQL, never a property of a file
SQL_BUGS = (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException)


class UnreadableFileError(Exception):
    """The file cannot be read at all (or lacks a required column): the file is rejected."""


@dataclass
class StagedFile:
    ordinal: int
    landed: LandedFile
    fmt: str  # csv | json_lines | json_array | json_document | parquet
    present: set[str] = field(default_factory=set)  # known fields in its header / keys
    objects: int = 0  # JSON: records that are JSON objects
    unknown: list[str] = field(default_factory=list)  # other columns/keys (kept in extra)


@dataclass
class Group:
    """Files read by one reader call into the source table ``_cw_src_<index>``."""

    index: int
    kind: str  # csv | parquet | json_lines | json_array | json_document
    files: list[StagedFile]
    columns: list[tuple[str, str]] = field(default_factory=list)  # tabular: (name, type)
    stage_sql: str = ""  # SELECT of the stage columns over the source table
    raw_text_sql: str = ""  # the raw text of a source row (alias src), for quarantine

    @property
    def src(self) -> str:
        return f"_cw_src_{self.index}"


@dataclass
class BatchRead:
    staged: dict[int, StagedFile] = field(default_factory=dict)  # ordinal -> readable file
    rejected: dict[int, str] = field(default_factory=dict)  # ordinal -> message naming the file
    groups: list[Group] = field(default_factory=list)
    stage_reparses: bool = False  # _cw_stage is a view that parses JSON: each read parses again


def stage_field(i: int) -> str:
    return f"f_{i}"


def row_key(ordinal_sql: str, record_sql: str) -> str:
    return f"({ordinal_sql})::BIGINT * {FILE_SHIFT} + ({record_sql})"


def read_batch(
    con: duckdb.DuckDBPyConnection, spec: FeedSpec, files: list[tuple[int, LandedFile]]
) -> BatchRead:
    """Stage every readable file of ``files`` ((ordinal, file), path order) as ``_cw_stage``."""
    batch = BatchRead()
    con.execute(f"CREATE OR REPLACE TEMP TABLE {BATCH_FILES} (_ord INTEGER, {FILENAME} VARCHAR)")
    con.executemany(
        f"INSERT INTO {BATCH_FILES} VALUES (?, ?)", [[o, str(lf.path)] for o, lf in files]
    )
    by_kind: dict[str, list[StagedFile]] = {}
    csv_headers: dict[bytes | None, list[StagedFile]] = {}
    for ordinal, landed in files:
        try:
            kind = _kind(spec, landed)
        except UnreadableFileError as exc:
            batch.rejected[ordinal] = str(exc)
            continue
        staged = StagedFile(ordinal, landed, kind)
        if kind == "csv":
            csv_headers.setdefault(_first_line(landed), []).append(staged)
        else:
            by_kind.setdefault(kind, []).append(staged)
    pending: list[tuple[str, list[StagedFile]]] = [("csv", g) for g in csv_headers.values()]
    if "parquet" in by_kind:
        pending += _parquet_groups(con, by_kind["parquet"], batch)
    pending += [(k, by_kind[k]) for k in ("json_lines", "json_array") if k in by_kind]

    while pending:
        kind, members = pending.pop(0)
        group = Group(len(batch.groups), kind, members)
        try:
            _READERS[kind](con, spec, group)
        except SQL_BUGS:
            raise
        except (duckdb.Error, UnreadableFileError) as exc:
            con.execute(f"DROP TABLE IF EXISTS {group.src}")
            if len(members) > 1:  # read them one by one: only the bad file is rejected
                pending[:0] = [(kind, [m]) for m in members]
                continue
            (bad,) = members
            batch.rejected[bad.ordinal] = _read_error(bad.landed, exc)
            continue
        documents = [m for m in members if kind == "json_lines" and m.fmt == "json_document"]
        if documents:  # NDJSON-looking files without a JSON object: each is read whole
            _drop_files(con, group, documents)
            group.files = [m for m in members if m not in documents]
            pending[:0] = [("json_document", [d]) for d in documents]
        batch.groups.append(group)
        for m in group.files:
            batch.staged[m.ordinal] = m
    return batch


def finish_stage(con: duckdb.DuckDBPyConnection, spec: FeedSpec, batch: BatchRead) -> None:
    """Drop the rejected files' rows and create ``_cw_stage`` over the remaining groups."""
    for group in batch.groups:
        gone = [m for m in group.files if m.ordinal in batch.rejected]
        if gone:
            _drop_files(con, group, gone)
            group.files = [m for m in group.files if m.ordinal not in batch.rejected]
    parts = [g.stage_sql for g in batch.groups if g.files]
    if not parts:
        nulls = ", ".join(f"NULL::VARCHAR AS {stage_field(i)}" for i in range(len(spec.fields)))
        parts = [
            "SELECT NULL::BIGINT AS _row_number, NULL::BIGINT AS _src_rowid, NULL::VARCHAR AS _raw,"
            f" NULL::VARCHAR AS _bad, NULL::VARCHAR AS _extra, {nulls} WHERE false"
        ]
    # A view: each file is parsed once, by the statement that builds the typed table. But when
    # personal data is hashed per distinct value (hashing.create_lookup), or a child array is
    # exploded (orders' lines: validation._build_child), the stage is read twice: JSON records
    # are then parsed once into a table.
    parsed = any(g.kind.startswith("json") for g in batch.groups if g.files)
    read_twice = spec.child is not None or any(f.kind in PII_KINDS for f in spec.fields)
    kind = "TABLE" if parsed and read_twice else "VIEW"
    batch.stage_reparses = parsed and kind == "VIEW"
    con.execute(f"CREATE OR REPLACE TEMP {kind} {STAGE} AS\n" + "\nUNION ALL\n".join(parts))


def _drop_files(con: duckdb.DuckDBPyConnection, group: Group, files: list[StagedFile]) -> None:
    names = ", ".join(lit(str(m.landed.path)) for m in files)
    con.execute(f"DELETE FROM {group.src} WHERE {FILENAME} IN ({names})")


def _read_error(landed: LandedFile, exc: Exception) -> str:
    if isinstance(exc, UnreadableFileError):
        return str(exc)
    return f"{landed.rel_path}: cannot read the file: {_first_error_line(exc)}"


def _kind(spec: FeedSpec, landed: LandedFile) -> str:
    ext = landed.extension
    if landed.size_bytes == 0:
        raise UnreadableFileError(f"{landed.rel_path}: file is empty")
    if ext is None or ext not in spec.extensions:
        accepted = ", ".join(spec.extensions)
        raise UnreadableFileError(
            f"{landed.rel_path}: unsupported file type for feed {spec.name} (accepted: {accepted})"
        )
    if ext in CSV_EXT:
        return "csv"
    if ext in PARQUET_EXT:
        return "parquet"
    assert ext in JSON_EXT
    return "json_array" if _json_layout(landed) == "array" else "json_lines"


def _first_line(landed: LandedFile) -> bytes | None:
    """The header line (groups CSV files that read alike); None when it cannot be read."""
    try:
        opener = gzip.open if landed.path.name.endswith(".gz") else open
        with opener(landed.path, "rb") as fh:
            return fh.readline(PEEK)
    except (OSError, EOFError):
        return None


def _source_rowid(group: Group, rowid: str = "rowid") -> str:
    return f"({group.index}::BIGINT * {GROUP_SHIFT} + {rowid})"


def _file_starts(con: duckdb.DuckDBPyConnection, group: Group) -> str:
    """Per file of the group: its ordinal and first rowid in the source table; checks that each
    file's rows are contiguous there (the readers keep file order), so position = rowid - first."""
    table = f"_cw_starts_{group.index}"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT f._ord, s.{FILENAME}, s._first
        FROM (SELECT {FILENAME}, min(rowid) AS _first, max(rowid) AS _last, count(*) AS _n
              FROM {group.src} GROUP BY ALL) s
        JOIN {BATCH_FILES} f USING ({FILENAME})
        WHERE s._last - s._first + 1 = s._n"""
    )
    n_files, n_rows = con.execute(
        f"SELECT count(DISTINCT {FILENAME}), count(*) FROM {group.src}"
    ).fetchone()
    if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] != n_files:
        raise RuntimeError(f"{group.src}: a file's rows are not contiguous ({n_rows} rows)")
    return table


def _paths(group: Group) -> str:
    return "[" + ", ".join(lit(str(m.landed.path)) for m in group.files) + "]"


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


def _object_like(text: str, then: str) -> str:
    """``then`` when the record text starts with '{' (after spaces), else NULL. A CASE, not an
    OR: CASE evaluates ``ltrim`` (which copies the whole record) only for the rare record that
    does not start with '{' right away; OR would evaluate it for every record."""
    return (
        f"CASE WHEN starts_with({text}, '{{') THEN {then} "
        f"WHEN starts_with(ltrim({text}), '{{') THEN {then} END"
    )


def _keys_sql(text: str) -> str:
    """The record's top-level keys; NULL when it is not a parseable JSON object."""
    return _object_like(text, f"try(json_keys({text}))")


def _read_json_lines(con: duckdb.DuckDBPyConnection, spec: FeedSpec, group: Group) -> None:
    con.execute(
        f"""CREATE TEMP TABLE {group.src} AS SELECT line AS _raw, {FILENAME}
        FROM read_csv({_paths(group)}, columns={{'line': 'VARCHAR'}}, delim={lit(LINE_DELIM)},
            quote='', escape='', header=false, auto_detect=false, comment='',
            strict_mode=false, max_line_size={MAX_LINE}, buffer_size={CSV_BUFFER},
            filename={lit(FILENAME)})"""
    )
    for m in group.files:
        m.fmt = "json_lines"
    _json_stage(con, spec, group)


def _read_json_array(con: duckdb.DuckDBPyConnection, spec: FeedSpec, group: Group) -> None:
    con.execute(
        f"""CREATE TEMP TABLE {group.src} AS SELECT json::VARCHAR AS _raw, {FILENAME}
        FROM read_json_objects({_paths(group)}, format='array', maximum_object_size={MAX_LINE},
                               filename={lit(FILENAME)})"""
    )
    for m in group.files:
        m.fmt = "json_array"
    _json_stage(con, spec, group)


def _read_json_document(con: duckdb.DuckDBPyConnection, spec: FeedSpec, group: Group) -> None:
    """One (pretty-printed) JSON document, or several concatenated ones, per file."""
    (m,) = group.files
    try:
        con.execute(
            f"""CREATE TEMP TABLE {group.src} AS SELECT json::VARCHAR AS _raw, {FILENAME}
            FROM read_json_objects({_paths(group)}, format='unstructured',
                                   maximum_object_size={MAX_LINE}, filename={lit(FILENAME)})"""
        )
    except SQL_BUGS:
        raise
    except duckdb.Error as exc:
        raise UnreadableFileError(
            f"{m.landed.rel_path}: not JSON (neither NDJSON nor a JSON array): "
            f"{_first_error_line(exc)}"
        ) from exc
    m.fmt = "json_document"
    _json_stage(con, spec, group)
    if m.objects == 0:
        raise UnreadableFileError(f"{m.landed.rel_path}: not JSON: no JSON object in the file")


def _json_stage(con: duckdb.DuckDBPyConnection, spec: FeedSpec, group: Group) -> None:
    """Probe the keys of every file of the group, then define the group's stage SELECT."""
    # Grouped by key list first (records of a file nearly all have the same keys), then by file.
    probe = con.execute(
        f"""SELECT {FILENAME}, coalesce(sum(_n) FILTER (WHERE k IS NOT NULL), 0),
                   list_distinct(flatten(list(k))), coalesce(sum(_texts), 0)
            FROM (SELECT {FILENAME}, k, count(*) AS _n,
                         count(*) FILTER (WHERE cw_present(_raw)) AS _texts
                  FROM (SELECT {FILENAME}, _raw, {_keys_sql("_raw")} AS k FROM {group.src})
                  GROUP BY ALL)
            GROUP BY ALL"""
    ).fetchall()
    found = {name: (objects, sorted(keys or []), texts) for name, objects, keys, texts in probe}
    known = set(spec.field_names)
    all_unknown: set[str] = set()
    for m in group.files:
        objects, keys, texts = found.get(str(m.landed.path), (0, [], 0))
        if objects == 0 and texts and m.fmt == "json_lines":
            m.fmt = "json_document"  # not NDJSON: read_batch reads it whole
            continue
        m.objects = objects
        m.present = {k for k in keys if k in known}
        m.unknown = [k for k in keys if k not in known]
        all_unknown.update(m.unknown)

    # from_json: one parse for all known fields and the unknown keys (JSON values for extra).
    # Struct field names are case-insensitive in DuckDB: colliding keys use json_extract instead.
    struct: dict[str, str] = {}
    taken: set[str] = set()
    for f in spec.fields:
        struct[f.name] = "JSON" if f.kind == JSON else "VARCHAR"
        taken.add(f.name.lower())
    extra_items = []
    for k in sorted(all_unknown):
        if k.lower() in taken:
            # json_extract would fail on a malformed record: only where from_json parsed it
            extra_items.append(
                (k, f"CASE WHEN _s IS NOT NULL THEN json_extract(_raw, {json_path(k)}) END")
            )
        else:
            struct[k] = "JSON"
            taken.add(k.lower())
            extra_items.append((k, f"_s.{ident(k)}"))
    fields_sql = ",\n".join(
        f"_s.{ident(f.name)}::VARCHAR AS {stage_field(i)}" for i, f in enumerate(spec.fields)
    )
    parse = _object_like("_raw", f"try(from_json(_raw, {lit(json.dumps(struct))}))")
    starts = _file_starts(con, group)
    # The file is parsed once, by the statement that builds the typed table (a view).
    # Blank lines are no records (filtered on the raw text: cheap, no JSON involved).
    group.stage_sql = f"""
        SELECT {row_key("st._ord", "_rid - st._first + 1")} AS _row_number,
               {_source_rowid(group, "_rid")} AS _src_rowid, NULL::VARCHAR AS _raw,
               CASE WHEN _s IS NOT NULL THEN NULL
                    WHEN json_valid(_raw) THEN 'record is not a JSON object'
                    ELSE 'malformed JSON record' END AS _bad,
               {_extra_sql(extra_items)} AS _extra,
               {fields_sql}
        FROM (SELECT rowid AS _rid, {FILENAME}, _raw,
                     {parse} AS _s
              FROM {group.src}
              WHERE cw_present(_raw)) s
        JOIN {starts} st USING ({FILENAME})"""
    group.raw_text_sql = "src._raw"


def _extra_sql(items: list[tuple[str, str]]) -> str:
    """JSON object text of the non-null (key, JSON value expression) pairs, NULL when none.

    Written by concatenation: ``'{' || '"key":' || value || ... || '}'`` gives the same text as
    ``to_json(map_from_entries(...))`` of those pairs (keys JSON-escaped by ``to_json`` itself,
    values already minified JSON text, which ``to_json`` would write back unchanged), without a
    list of structs, a lambda and a map per record: 5x cheaper on Twilio's three unknown keys
    (``test_extra_text_equals_to_json_of_the_map``). NULL records give NULL values, hence NULL.
    """
    if not items:
        return "NULL::VARCHAR"
    entries = ", ".join(
        f"CASE WHEN ({v}) IS NOT NULL THEN to_json({lit(k)}::VARCHAR)::VARCHAR || ':' || ({v}) END"
        for k, v in items
    )
    return f"nullif('{{' || concat_ws(',', {entries}) || '}}', '{{}}')"


def _first_error_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# ----------------------------------------------------------------------------- CSV / Parquet
def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    skip = {FILENAME, "file_row_number"}
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in skip]


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


def _tabular_fields(spec: FeedSpec, group: Group) -> str:
    """The stage's ``_extra, f_0 .. f_n`` over a CSV/Parquet source row; sets present/unknown."""
    names = [c for c, _ in group.columns]
    types = dict(group.columns)
    mapping, unknown = _match_columns(spec, names)
    nested = ("[]", "STRUCT", "MAP", "UNION")
    selects = []
    for i, f in enumerate(spec.fields):
        src = mapping.get(f.name)
        if src is None:
            selects.append(f"NULL::VARCHAR AS {stage_field(i)}")
            continue
        is_nested = any(t in types[src] for t in nested)
        text = f"to_json(s.{ident(src)})::VARCHAR" if is_nested else f"s.{ident(src)}::VARCHAR"
        if f.kind == JSON and not is_nested:
            text = _json_text(text)
        selects.append(f"{text} AS {stage_field(i)}")
    for m in group.files:
        m.present, m.unknown = set(mapping), list(unknown)
    extra = _extra_sql([(n, f"to_json(s.{ident(n)})") for n in unknown])
    # the source row as JSON text (the file's own columns, as to_json of the row would give)
    struct = ", ".join(f"{lit(n)}: src.{ident(n)}" for n in names)
    group.raw_text_sql = f"to_json({{{struct}}})::VARCHAR"
    return f"{extra} AS _extra, {', '.join(selects)}"


def _read_csv(con: duckdb.DuckDBPyConnection, spec: FeedSpec, group: Group) -> None:
    rejects, scans = f"_cw_csv_rejects_{group.index}", f"_cw_csv_rejects_scan_{group.index}"
    for name in (rejects, scans):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"""CREATE TEMP TABLE {group.src} AS SELECT * FROM read_csv({_paths(group)},
            all_varchar=true, header=true, delim=',', quote='"', escape='"',
            store_rejects=true, rejects_table='{rejects}', rejects_scan='{scans}',
            max_line_size={MAX_LINE}, buffer_size={CSV_BUFFER}, filename={lit(FILENAME)})"""
    )
    for m in group.files:
        m.fmt = "csv"
    group.columns = _columns(con, group.src)
    starts = _file_starts(con, group)
    fields = _tabular_fields(spec, group)
    position = "s.rowid - st._first + 1"  # among the file's good rows
    broken = con.execute(f"SELECT count(*) FROM {rejects}").fetchone()[0]
    if not broken:
        group.stage_sql = f"""
            SELECT {row_key("st._ord", position)} AS _row_number,
                   {_source_rowid(group, "s.rowid")} AS _src_rowid, NULL::VARCHAR AS _raw,
                   NULL::VARCHAR AS _bad, {fields}
            FROM {group.src} s JOIN {starts} st USING ({FILENAME})"""
        return
    # Lines the CSV reader rejected are bad records; the good rows are renumbered so that every
    # record keeps its position in its file (record = line - 1):
    # good row k (1-based among good rows) is record k + #{bad j : r_j - j < k}.
    bad, shift = f"_cw_csv_bad_{group.index}", f"_cw_csv_shift_{group.index}"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {bad} AS
        SELECT f._ord, r.line - 1 AS _record, any_value(r.csv_line) AS _raw,
               'malformed CSV row: ' || arg_min(r.error_message, r.column_idx) AS _bad
        FROM {rejects} r
        JOIN {scans} sc USING (scan_id, file_id)
        JOIN {BATCH_FILES} f ON f.{FILENAME} = sc.file_path
        GROUP BY ALL"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {shift} AS
        SELECT _ord, r - j AS k_j, max(j) AS shift FROM (
            SELECT _ord, _record AS r,
                   row_number() OVER (PARTITION BY _ord ORDER BY _record) AS j
            FROM {bad}
        ) GROUP BY ALL"""
    )
    nulls = ", ".join(f"NULL::VARCHAR AS {stage_field(i)}" for i in range(len(spec.fields)))
    group.stage_sql = f"""
        SELECT {row_key("st._ord", f"{position} + coalesce(sh.shift, 0)")} AS _row_number,
               {_source_rowid(group, "s.rowid")} AS _src_rowid, NULL::VARCHAR AS _raw,
               NULL::VARCHAR AS _bad, {fields}
        FROM {group.src} s JOIN {starts} st USING ({FILENAME})
        ASOF LEFT JOIN {shift} sh ON sh._ord = st._ord AND {position} > sh.k_j
        UNION ALL
        SELECT {row_key("_ord", "_record")}, NULL, _raw, _bad, NULL, {nulls} FROM {bad}"""


def _parquet_groups(
    con: duckdb.DuckDBPyConnection, files: list[StagedFile], batch: BatchRead
) -> list[tuple[str, list[StagedFile]]]:
    """Parquet files grouped by schema (names and types): each group reads as one table."""
    groups: dict[tuple, list[StagedFile]] = {}
    for m in files:
        try:
            schema = con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({lit(str(m.landed.path))})"
            ).fetchall()
        except SQL_BUGS:
            raise
        except duckdb.Error as exc:
            batch.rejected[m.ordinal] = _read_error(m.landed, exc)
            continue
        groups.setdefault(tuple((r[0], r[1]) for r in schema), []).append(m)
    return [("parquet", g) for g in groups.values()]


def _read_parquet(con: duckdb.DuckDBPyConnection, spec: FeedSpec, group: Group) -> None:
    con.execute(
        f"""CREATE TEMP TABLE {group.src} AS SELECT * FROM read_parquet({_paths(group)},
            filename={lit(FILENAME)}, file_row_number=true)"""
    )
    for m in group.files:
        m.fmt = "parquet"
    group.columns = _columns(con, group.src)
    fields = _tabular_fields(spec, group)
    group.stage_sql = f"""
        SELECT {row_key("f._ord", "s.file_row_number + 1")} AS _row_number,
               {_source_rowid(group, "s.rowid")} AS _src_rowid, NULL::VARCHAR AS _raw,
               NULL::VARCHAR AS _bad, {fields}
        FROM {group.src} s JOIN {BATCH_FILES} f USING ({FILENAME})"""


_READERS = {
    "csv": _read_csv,
    "parquet": _read_parquet,
    "json_lines": _read_json_lines,
    "json_array": _read_json_array,
    "json_document": _read_json_document,
}
