"""The snapshot behind tests/test_marts_golden.py: every published mart of the demo landing zone.

The golden (tests/golden/marts_demo.json) holds, per mart of `reports.duckdb`, its columns, its row
count and a digest of its sorted rows, with floats rounded to 10 significant digits so that a
different summation order cannot change it. Refactorings (speed, layout) must leave it unchanged;
it changes only with an intended change of the numbers (a definition, the generator), and then in
a commit of its own that says why.

Regenerate it from the code that is the reference:

    .venv/bin/python tests/marts_golden.py   # builds the test landing zone, runs the CLI
"""

from __future__ import annotations

import decimal
import hashlib
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "marts_demo.json"
# The session landing zone of tests/conftest.py: the golden describes exactly that data.
LANDING = {"scale": 1, "seed": 7, "start": date(2026, 10, 1), "days": 30}
NOT_MARTS = {"publications"}


def _canonical(value: object) -> object:
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    return value


def fingerprints(reports: Path) -> dict[str, dict]:
    """Columns, row count and digest of the sorted rows of every published mart."""
    out = {}
    with duckdb.connect(str(reports), read_only=True) as conn:
        tables = sorted(n for (n,) in conn.execute("show tables").fetchall() if n not in NOT_MARTS)
        for table in tables:
            cursor = conn.execute(f'select * from "{table}" order by all')
            columns = [d[0] for d in cursor.description]
            rows = [tuple(_canonical(v) for v in row) for row in cursor.fetchall()]
            out[table] = {
                "columns": columns,
                "rows": len(rows),
                "sha256": hashlib.sha256(repr(rows).encode()).hexdigest(),
            }
    return out


def differences(got: dict[str, dict], want: dict[str, dict]) -> list[str]:
    return [
        f"{mart}: {got.get(mart, 'missing')} != golden {want.get(mart, 'missing')}"
        for mart in sorted(set(got) | set(want))
        if got.get(mart) != want.get(mart)
    ]


def _build_and_snapshot() -> dict[str, dict]:
    from demo_data import generate
    from tests.conftest import cli_env, run_cli

    with tempfile.TemporaryDirectory() as tmp:
        landing, data_dir = Path(tmp) / "landing", Path(tmp) / "data"
        generate(landing, **LANDING)
        result = run_cli(["run"], cli_env(data_dir, landing))
        if result.returncode != 0:
            sys.exit(f"the run failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return fingerprints(data_dir / "reports.duckdb")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    GOLDEN.write_text(json.dumps(_build_and_snapshot(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
