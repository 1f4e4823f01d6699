"""The landing-zone writer: buffers rows per feed, landing day and file group, writes files.

Producers hand over Arrow tables of string columns plus each row's arrival time; the sink puts
each row in the folder of the day it arrives (``<feed>/<YYYY-MM-DD>/<file>``), orders a file's
rows by arrival, picks each file's format from the feed's rotation, injects exact replays, and
keeps the per-file accounting that becomes the manifest. Memory stays bounded: when the buffered
rows exceed a limit, the biggest buffers are written out early.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import encode
from .feeds import FEED_ORDER, FEEDS, FeedSpec
from .period import Period
from .rng import stream

INTERNAL = ("_t", "_bad")


@dataclass
class Buffer:
    feed: str
    day: int
    group: str
    fmt: str
    tables: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    nbytes: int = 0
    inserts: list[tuple[int, pa.Table]] = field(default_factory=list)  # (before row, rows)

    def table(self) -> pa.Table:
        """The queued rows, in order (extra inserted rows not included)."""
        return pa.concat_tables(self.tables) if len(self.tables) > 1 else self.tables[0]


def insert_rows(table: pa.Table, inserts: list[tuple[int, pa.Table]]) -> pa.Table:
    """``table`` with each extra table placed before the given row position."""
    if not inserts:
        return table
    pieces, prev = [], 0
    for pos, rows in sorted(inserts, key=lambda x: x[0]):
        pieces.append(table.slice(prev, pos - prev))
        pieces.append(rows)
        prev = pos
    pieces.append(table.slice(prev))
    return pa.concat_tables(pieces)


def normalize(spec: FeedSpec, columns: dict[str, pa.Array] | pa.Table, n: int) -> pa.Table:
    """A table with exactly the feed's columns, all strings (missing ones null)."""
    get = columns.column if isinstance(columns, pa.Table) else columns.get
    names = columns.column_names if isinstance(columns, pa.Table) else list(columns)
    unknown = set(names) - set(spec.columns) - set(INTERNAL)
    if unknown:
        raise KeyError(f"{spec.name}: unknown columns {sorted(unknown)}")
    arrays = []
    for name in spec.columns:
        col = get(name) if name in names else None
        if col is None:
            col = pa.nulls(n, pa.string())
        elif isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if col.type != pa.string():
            col = pc.cast(col, pa.string())
        if len(col) != n:
            raise ValueError(f"{spec.name}.{name}: {len(col)} values for {n} rows")
        arrays.append(col)
    return pa.table(arrays, names=list(spec.columns))


def _compact(table: pa.Table) -> pa.Table:
    """A copy of a slice, so that the slice does not keep its whole parent table alive."""
    return table.take(pa.array(np.arange(table.num_rows)))


class Sink:
    def __init__(
        self,
        root: Path,
        period: Period,
        seed: int,
        max_rows: int = 200_000,
        mem_limit: int = 384 * 1024 * 1024,
    ) -> None:
        self.root = Path(root)
        self.period = period
        self.seed = seed
        self.max_rows = max_rows
        self.mem_limit = mem_limit
        self.buffers: dict[tuple[str, int, str], Buffer] = {}
        self.files: dict[str, list[dict]] = defaultdict(list)
        self.bad_files: dict[str, list[dict]] = defaultdict(list)
        self._formats: Counter[str] = Counter()
        self._seq: Counter[tuple[str, int, str]] = Counter()
        self._written: Counter[str] = Counter()
        self._nbytes = 0

    # ------------------------------------------------------------------ input
    def add(
        self,
        feed: str,
        columns: dict[str, pa.Array] | pa.Table,
        arrival: np.ndarray,
        group: str = "",
    ) -> None:
        """Queue rows of ``feed``; each row lands on the day of its ``arrival`` (epoch s)."""
        arrival = np.asarray(arrival, dtype=np.int64)
        n = len(arrival)
        if n == 0:
            return
        spec = FEEDS[feed]
        table = normalize(spec, columns, n)
        table = table.append_column("_t", pa.array(arrival))
        table = table.append_column("_bad", pa.nulls(n, pa.string()))
        if n > 1 and (np.diff(arrival) < 0).any():  # producers usually hand rows in order
            order = np.argsort(arrival, kind="stable")
            arrival = arrival[order]
            table = table.take(pa.array(order))
        days = self.period.day_index(arrival)
        bounds = np.flatnonzero(np.diff(days)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [n]])
        whole = len(starts) == 1
        for s, e in zip(starts, ends, strict=True):
            part = table if whole else _compact(table.slice(int(s), int(e - s)))
            self._queue(feed, int(days[s]), group, part)
        if self._nbytes > self.mem_limit:
            self._relieve()

    def _queue(self, feed: str, day: int, group: str, part: pa.Table) -> None:
        key = (feed, day, group)
        buf = self.buffers.get(key)
        if buf is None:
            spec = FEEDS[feed]
            fmt = spec.formats[self._formats[feed] % len(spec.formats)]
            self._formats[feed] += 1
            buf = self.buffers[key] = Buffer(feed, day, group, fmt)
        buf.tables.append(part)
        buf.rows += part.num_rows
        buf.nbytes += part.nbytes
        self._nbytes += part.nbytes
        if buf.rows >= self.max_rows:
            self.flush(key)

    def _relieve(self) -> None:
        for key in sorted(self.buffers, key=lambda k: -self.buffers[k].nbytes):
            if self._nbytes <= self.mem_limit // 2:
                break
            self.flush(key)

    def buffers_of(self, feed: str) -> list[Buffer]:
        return [self.buffers[k] for k in sorted(self.buffers) if k[0] == feed]

    def insert_rows(self, buf: Buffer, pos: int, rows: pa.Table) -> None:
        """Add extra rows (e.g. corrupted copies) to a pending buffer, before row ``pos``."""
        buf.inserts.append((pos, rows))

    # ----------------------------------------------------------------- output
    def flush(self, key: tuple[str, int, str]) -> None:
        buf = self.buffers.pop(key)
        self._nbytes -= buf.nbytes
        table = insert_rows(buf.table(), buf.inserts)
        for start in range(0, table.num_rows, self.max_rows):
            self._write_table(buf, table.slice(start, self.max_rows))

    def close(self) -> None:
        for key in sorted(self.buffers, key=lambda k: (FEED_ORDER.index(k[0]), k[1], k[2])):
            self.flush(key)

    def file_name(self, feed: str, day: int, group: str, fmt: str, tag: str = "") -> str:
        spec = FEEDS[feed]
        key = (feed, day, group + tag)
        self._seq[key] += 1
        date = self.period.day_str(day).replace("-", "")
        parts = [spec.prefix, date] + ([group] if group else []) + ([tag] if tag else [])
        return f"{'_'.join(parts)}_{self._seq[key]:03d}.{fmt}"

    def write_bytes(self, feed: str, day: int, name: str, data: bytes | list) -> str:
        rel = f"{feed}/{self.period.day_str(day)}/{name}"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            for chunk in [data] if isinstance(data, bytes) else data:
                f.write(chunk)
        return rel

    @staticmethod
    def encode(spec: FeedSpec, table: pa.Table, fmt: str) -> list:
        """The file content as a list of byte chunks."""
        if fmt in ("csv", "csv.gz"):
            chunks = encode.csv_chunks(table, spec.columns, spec.text)
        elif fmt == "parquet":
            return encode.parquet_chunks(table, spec)
        elif fmt in ("ndjson", "jsonl"):
            bad = table.column("_bad").to_numpy(zero_copy_only=False)
            chunks = encode.ndjson_chunks(table, spec, bad == "malformed_json")
        else:
            chunks = encode.json_array_chunks(table, spec)
        return encode.gzip_chunks(chunks) if fmt.endswith(".gz") else chunks

    def _write_table(self, buf: Buffer, table: pa.Table) -> None:
        spec = FEEDS[buf.feed]
        name = self.file_name(buf.feed, buf.day, buf.group, buf.fmt)
        rng = stream(self.seed, "sink", buf.feed, buf.day, buf.group, name)
        replays = 0
        if spec.replay == "record" and table.num_rows >= 20:
            table, replays = self._record_replays(spec, table, rng)
        rel = self.write_bytes(buf.feed, buf.day, name, self.encode(spec, table, buf.fmt))
        self.files[buf.feed].append(self._entry(rel, buf.fmt, table, replays))
        self._written[buf.feed] += 1
        if spec.replay == "batch" and self._written[buf.feed] % 3 == 2:
            self._batch_replay(spec, buf, table, rng)

    @staticmethod
    def _entry(rel: str, fmt: str, table: pa.Table, replays: int) -> dict:
        bad = pc.value_counts(table.column("_bad").combine_chunks()).to_pylist()
        kinds = {d["values"]: d["counts"] for d in bad if d["values"] is not None}
        return {
            "path": rel,
            "format": fmt,
            "rows": table.num_rows,
            "bad_rows": dict(sorted(kinds.items())),
            "replays": replays,
        }

    def _record_replays(
        self, spec: FeedSpec, table: pa.Table, rng: np.random.Generator
    ) -> tuple[pa.Table, int]:
        """Repeat a few whole records later in the same file (overlapping export windows)."""
        n = table.num_rows
        good = np.flatnonzero(table.column("_bad").is_null().to_numpy(zero_copy_only=False))
        k = min(len(good), max(1, int(rng.binomial(n, spec.replay_rate))))
        pick = np.sort(rng.choice(good, size=k, replace=False))
        later = np.minimum(pick + 1 + rng.integers(0, 2000, size=k), n)
        inserts = [(int(p), table.slice(int(i), 1)) for i, p in zip(pick, later, strict=True)]
        return insert_rows(table, inserts), k

    def _batch_replay(
        self, spec: FeedSpec, buf: Buffer, table: pa.Table, rng: np.random.Generator
    ) -> None:
        """SendGrid re-delivers a webhook batch: a slice of the file's events, in a new file."""
        good = table.filter(table.column("_bad").is_null())
        if good.num_rows < 10:
            return
        size = int(min(good.num_rows, rng.integers(20, 400)))
        start = int(rng.integers(0, good.num_rows - size + 1))
        batch = good.slice(start, size)
        day = min(buf.day + int(rng.integers(0, 2)), self.period.days - 1)
        fmt = "json" if buf.fmt != "json" else "ndjson"
        name = self.file_name(buf.feed, day, buf.group, fmt, tag="retry")
        rel = self.write_bytes(buf.feed, day, name, self.encode(spec, batch, fmt))
        self.files[buf.feed].append(self._entry(rel, fmt, batch, size))

    # --------------------------------------------------------------- manifest
    def manifest(self) -> dict[str, dict]:
        out = {}
        for feed in FEED_ORDER:
            files = sorted(self.files.get(feed, []), key=lambda f: f["path"])
            bad: Counter[str] = Counter()
            for f in files:
                bad.update(f["bad_rows"])
            out[feed] = {
                "file_count": len(files),
                "rows": sum(f["rows"] for f in files),
                "bad_rows": dict(sorted(bad.items())),
                "replays": sum(f["replays"] for f in files),
                "files": files,
                "bad_files": sorted(self.bad_files.get(feed, []), key=lambda f: f["path"]),
            }
        return out
