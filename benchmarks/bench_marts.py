"""Benchmark the marts: wall time and peak RSS of ``dbt run --select marts`` at demo scale N.

Steps: ``demo_data.generate`` (scale 10 by default) -> ``ingest_landing_zone`` -> one full
``dbt build`` (seeds, staging, intermediate, marts, tests) -> the timed ``dbt run --select marts``
(marts only, rebuilt from the already built intermediate facts).

dbt runs in child processes with their own target/log paths (a temp dir), so a concurrent dbt
run in the repo is not disturbed. Peak RSS is the dbt child's (``os.wait4`` rusage, Linux KiB).

Usage: .venv/bin/python benchmarks/bench_marts.py [--scale 10] [--out DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DBT = Path(sys.executable).with_name("dbt")


def dbt(args: list[str], warehouse: Path, work: Path) -> tuple[float, float]:
    """Run one dbt command; returns (seconds, peak RSS MiB). Raises on failure."""
    env = dict(os.environ, CW_WAREHOUSE_PATH=str(warehouse))
    cmd = [str(DBT), "--no-use-colors", *args, "--project-dir", str(ROOT / "dbt_project")]
    cmd += ["--profiles-dir", str(ROOT / "dbt_project")]
    cmd += ["--target-path", str(work / "dbt_target"), "--log-path", str(work / "dbt_logs")]
    started = time.perf_counter()
    with open(work / "dbt_output.log", "a") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(
            f"dbt {' '.join(args)} failed ({proc.returncode}); see {work}/dbt_output.log"
        )
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--out", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the landing zone and warehouse")
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="cw_bench_marts_"))
    work.mkdir(parents=True, exist_ok=True)
    landing, warehouse = work / "landing", work / "warehouse.duckdb"

    from demo_data import generate
    from ingestion import IngestSettings, ingest_landing_zone

    t = time.perf_counter()
    generate(landing, scale=args.scale)
    print(f"generate scale {args.scale:<5} {time.perf_counter() - t:8.1f} s")
    t = time.perf_counter()
    report = ingest_landing_zone(warehouse, landing, IngestSettings(pii_hash_key="bench-key"))
    totals = report.totals()
    print(
        f"ingest            {time.perf_counter() - t:8.1f} s"
        f"  ({totals['rows_loaded']:,} rows loaded)"
    )
    secs, rss = dbt(["build"], warehouse, work)
    print(f"dbt build (full)  {secs:8.1f} s  peak RSS {rss:,.0f} MiB")
    secs, rss = dbt(["run", "--select", "marts"], warehouse, work)
    print(f"dbt run marts     {secs:8.1f} s  peak RSS {rss:,.0f} MiB")

    if not args.keep and args.out is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
