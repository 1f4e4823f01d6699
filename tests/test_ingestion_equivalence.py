"""The batched ingestion writes exactly what the per-file ingestion it replaced wrote.

The golden (tests/golden/ingestion_equivalence.json, see tests/ingestion_golden.py) was made by
main's per-file loader on a small generated landing zone plus edge-case files (bad files of every
kind, replays across files and formats, broken CSV lines, CSV headers in other orders, JSON
documents, unknown keys). Every raw table and both audit tables must hold the same rows, whatever
the batch size (one batch per feed, or one file per batch) and the number of workers.
"""

from __future__ import annotations

import json

import pytest

from ingestion import pipeline
from tests.ingestion_golden import GOLDEN, run


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def _differences(got: dict, want: dict) -> list[str]:
    out = []
    for table in sorted(set(got["tables"]) | set(want["tables"])):
        if got["tables"].get(table) != want["tables"].get(table):
            out.append(f"{table}: {got['tables'].get(table)} != golden {want['tables'].get(table)}")
    for table in ("ingested_files", "quarantine"):
        g = {json.dumps(r, sort_keys=True) for r in got["audit"][table]}
        w = {json.dumps(r, sort_keys=True) for r in want["audit"][table]}
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
