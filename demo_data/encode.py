"""File encoders: JSON (array / NDJSON), CSV, Parquet, gzip. Deterministic bytes.

JSON and CSV text is built column-wise with Arrow compute kernels, one row string per record,
then the row strings are concatenated straight from the Arrow buffer.
"""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .feeds import FeedSpec
from .strings import concat, to_bytes

_NUMBER = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$"
_BOOL = r"^(true|false)$"
_CSV_NEEDS_QUOTES = '[",\\r\\n]|^\\s|\\s$'


def _escape(col: pa.Array) -> pa.Array:
    """JSON-escape quotes and backslashes (the generator writes no control characters)."""
    if not (
        pc.any(pc.match_substring(col, '"')).as_py()
        or pc.any(pc.match_substring(col, "\\")).as_py()
    ):
        return col
    for raw, esc in (("\\", "\\\\"), ('"', '\\"')):
        col = pc.replace_substring(col, raw, esc)
    return col


def _fragment(key: str, col: pa.Array, kind: str, text: bool) -> pa.Array:
    """``"key":<value>`` for each row; null where the value is null."""
    if kind == "str":
        return concat(key + '"', _escape(col) if text else col, '"')
    if kind == "raw":
        return concat(key, col)
    ok = pc.match_substring_regex(col, _NUMBER if kind == "num" else _BOOL)
    if pc.all(ok).as_py() is not False:
        return concat(key, col)
    quoted = concat(key + '"', _escape(col), '"')
    return pc.if_else(ok, concat(key, col), quoted)


def json_records(table: pa.Table, spec: FeedSpec, end: str = "") -> pa.Array:
    """One JSON object text per row, each followed by ``end``."""
    frags = []
    for name in spec.columns:
        col = table.column(name).combine_chunks()
        key = json.dumps(name) + ":"
        frag = _fragment(key, col, spec.json_types.get(name, "str"), name in spec.text)
        if not spec.omit_nulls:
            frag = pc.fill_null(frag, key + "null")
        frags.append(frag)
    if spec.omit_nulls:
        body = pc.binary_join_element_wise(*frags, ",", null_handling="skip")
        return concat("{", body, "}" + end)
    frags[0] = concat("{", frags[0])
    frags[-1] = concat(frags[-1], "}" + end)
    return pc.binary_join_element_wise(*frags, ",")


def ndjson_chunks(table: pa.Table, spec: FeedSpec, malformed: np.ndarray | None = None) -> list:
    lines = json_records(table, spec, "\n")
    if malformed is not None and malformed.any():
        lines = cut_lines(lines, malformed)
    return [to_bytes(lines)]


def json_array_chunks(table: pa.Table, spec: FeedSpec) -> list:
    if table.num_rows == 0:
        return [b"[]\n"]
    body = to_bytes(json_records(table, spec, ",\n"))
    return [b"[\n", body[:-2], b"\n]\n"]


def _csv_cell(col: pa.Array, text: bool) -> pa.Array:
    if not text:  # ids, enums, numbers, timestamps: never need quoting
        return pc.fill_null(col, "")
    needs = pc.match_substring_regex(col, _CSV_NEEDS_QUOTES)
    if pc.any(needs).as_py():
        quoted = concat('"', pc.replace_substring(col, '"', '""'), '"')
        col = pc.if_else(needs, quoted, col)
    return pc.fill_null(col, "")


def csv_chunks(table: pa.Table, columns: tuple[str, ...], text: tuple[str, ...] = ()) -> list:
    header = (",".join(columns) + "\n").encode()
    if table.num_rows == 0:
        return [header]
    cells = [_csv_cell(table.column(c).combine_chunks(), c in text) for c in columns]
    cells[-1] = concat(cells[-1], "\n")
    return [header, to_bytes(pc.binary_join_element_wise(*cells, ","))]


def parquet_chunks(table: pa.Table, spec: FeedSpec, columns: tuple[str, ...] | None = None) -> list:
    cols = columns or spec.columns
    arrays = []
    for c in cols:
        col = table.column(c).combine_chunks()
        if c in spec.parquet_int:
            col = pc.cast(col, pa.int64())
        arrays.append(col)
    out = pa.table(arrays, names=list(cols))
    buf = io.BytesIO()
    pq.write_table(out, buf, compression="zstd", row_group_size=256 * 1024)
    return [buf.getvalue()]


def gzip_chunks(chunks: list) -> list:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=3, mtime=0) as gz:
        for c in chunks:
            gz.write(c)
    return [buf.getvalue()]


def join(chunks: list) -> bytes:
    return b"".join(chunks)


def cut_lines(lines: pa.Array, mask: np.ndarray) -> pa.Array:
    """Truncate the rows where ``mask`` is set to about 60% of their text (malformed JSON)."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return lines
    cut = [
        s[: max(1, int(len(s) * 0.6))].rstrip("\n") + "\n"
        for s in lines.take(pa.array(idx)).to_pylist()
    ]
    return pc.replace_with_mask(lines, pa.array(mask), pa.array(cut, pa.string()))
