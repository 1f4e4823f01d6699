"""Replay detection: good rows whose replay key is already in the raw table, or appears earlier in
the same file, are counted as replayed and not loaded.

Replay keys (docs/architecture.md): SendGrid ``sg_event_id``; canonical events ``(provider,
event_id)``; every other feed the whole record (``_record_hash``: sha256 of the canonical JSON of
the typed record, personal data already hashed, stored in the raw table).
"""

from __future__ import annotations

import duckdb

from .feeds import FeedSpec
from .schema import RECORD_HASH_COLUMN
from .sqlutil import ident
from .validation import TYPED, TypedLayout

REPLAYS = "_cw_replay"


def find_replays(con: duckdb.DuckDBPyConnection, spec: FeedSpec, layout: TypedLayout) -> int:
    """Create ``_cw_replay(_row_number)``; return the number of replayed rows."""
    if spec.whole_record_key:
        keys = [(RECORD_HASH_COLUMN, RECORD_HASH_COLUMN)]
    else:
        keys = layout.key_columns
        if len(keys) != len(spec.replay_key or ()):
            raise ValueError(f"{spec.name}: replay key {spec.replay_key} not in the raw columns")
    typed_keys = ", ".join(t for _, t in keys)
    on = " AND ".join(f"r.{ident(c)} = t.{t}" for c, t in keys)
    con.execute(f"DROP TABLE IF EXISTS {REPLAYS}")
    con.execute(
        f"""CREATE TEMP TABLE {REPLAYS} AS
        WITH good AS (SELECT _row_number, {typed_keys} FROM {TYPED} WHERE _reason IS NULL),
        repeated AS (SELECT {typed_keys} FROM good GROUP BY ALL HAVING count(*) > 1)
        SELECT _row_number FROM (
            SELECT _row_number,
                   row_number() OVER (PARTITION BY {typed_keys} ORDER BY _row_number) AS n
            FROM good SEMI JOIN repeated USING ({typed_keys})
        ) WHERE n > 1
        UNION
        SELECT t._row_number FROM good t JOIN raw.{ident(spec.table)} r ON {on}"""
    )
    return con.execute(f"SELECT count(*) FROM {REPLAYS}").fetchone()[0]
