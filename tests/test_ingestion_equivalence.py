"""The batched ingestion writes exactly what the per-file ingestion it replaced wrote.

The golden (tests/golden/ingestion_equivalence.json, see tests/ingestion_golden.py) was made by
main's per-file loader on a small generated landing zone plus edge-case files (bad files of every
kind, replays across files and formats, broken CSV lines, CSV headers in other orders, JSON
documents, unknown keys). Every raw table and both audit tables must hold the same rows, whatever
the batch size (one batch per feed, or one file per batch) and the number of workers.
"""

from __future__ import annotations

import json
import re

import pytest

from ingestion import pipeline
from tests.ingestion_golden import GOLDEN, run


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


# A timestamp too far ahead is quarantined with the run's own date in the reason ("more than a
# year after this run (after 2027-12-03)"): the day the golden was made is not part of the rule.
RUN_DATE = re.compile(r"after this run \(after \d{4}-\d{2}-\d{2}\)")


def _undated(row: dict) -> dict:
    if isinstance(row.get("reason"), str):
        return {
            **row,
            "reason": RUN_DATE.sub("after this run (after <run + 1 year>)", row["reason"]),
        }
    return row


def _differences(got: dict, want: dict) -> list[str]:
    out = []
    for table in sorted(set(got["tables"]) | set(want["tables"])):
        mine, theirs = got["tables"].get(table), want["tables"].get(table)
        if table == "audit.quarantine" and mine and theirs:  # rows compared below, undated
            mine, theirs = mine["rows"], theirs["rows"]
        if mine != theirs:
            out.append(f"{table}: {mine} != golden {theirs}")
    for table in ("ingested_files", "quarantine"):
        g = {json.dumps(_undated(r), sort_keys=True) for r in got["audit"][table]}
        w = {json.dumps(_undated(r), sort_keys=True) for r in want["audit"][table]}
        out += [f"{table} only now: {r}" for r in sorted(g - w)[:5]]
        out += [f"{table} only in golden: {r}" for r in sorted(w - g)[:5]]
    return out


@pytest.mark.parametrize(
    ("batch_bytes", "workers"),
    [(pipeline.DEFAULT_BATCH_BYTES, 3), (1, 1)],
    ids=["batched-parallel", "file-by-file"],
)
def test_raw_and_audit_tables_match_the_per_file_loader(tmp_path, golden, batch_bytes, workers):
    got = run(tmp_path, {"batch_bytes": batch_bytes}, workers=workers)
    assert _differences(got, golden) == []


@pytest.mark.parametrize(
    "batch_bytes", [pipeline.DEFAULT_BATCH_BYTES, 1], ids=["batched", "file-by-file"]
)
def test_value_lookups_for_every_field_match_the_per_file_loader(
    tmp_path, golden, monkeypatch, batch_bytes
):
    """Typed values and reasons computed once per distinct value (validation.LOOKUP_KINDS) for
    EVERY candidate field of every batch, whatever its size and repetition (the real thresholds
    pick only big batches that repeat their values): the same rows as the golden, bad values and
    their reasons included."""
    from ingestion import validation

    monkeypatch.setattr(validation, "LOOKUP_MIN_ROWS", 0)
    monkeypatch.setattr(validation, "LOOKUP_MAX_SHARE", float("inf"))
    got = run(tmp_path, {"batch_bytes": batch_bytes}, workers=1)
    assert _differences(got, golden) == []


def test_guarded_masking_equals_the_plain_patterns():
    """cw_mask skips its regexes when a cheap necessary condition fails (masking.PHONE_GUARD, '@'):
    on many random strings of digits, separators and e-mail parts it masks exactly as the
    Python twin, which applies the full patterns to everything."""
    import random

    import duckdb

    from ingestion import masking

    rnd = random.Random(9)
    pieces = [
        "1",
        "23",
        "4567",
        "89012",
        "00",
        "+",
        "@",
        "%40",
        "a",
        "Bc",
        ".com",
        "x_",
        "/",
        ",",
        ".",
        "-",
        "(",
        ")",
        "_",
    ] + [" "]
    pieces += ["7 912 345 67 89", "(202) 555-0143", "8 (912) 345-67-89"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 14))) for _ in range(20000)]
    with duckdb.connect() as con:
        masking.install(con)
        con.execute(
            "CREATE TABLE t AS SELECT unnest($v) AS v, unnest(range(20000)) AS i", {"v": texts}
        )
        got = [m for (m,) in con.execute("SELECT cw_mask(v) FROM t ORDER BY i").fetchall()]
    expected = [masking.mask_text(t) for t in texts]
    assert sum(e != t for e, t in zip(expected, texts, strict=True)) > 1000  # masks happened
    assert got == expected
