"""Benchmark one day's incremental ``dbt build`` against ``dbt build --full-refresh`` (issue 9
item 3: the daily build <= 15 % of the full refresh), beside ``../shared/bench/floor.py``.

Steps: ``demo_data.generate`` (``--days`` days at ``--scale``) -> land days 1..N-1
(``demo_data.landing.land_day``) -> ``ingest_landing_zone`` -> one full ``dbt build`` -> land day N
-> ingest it -> the timed commands on that warehouse, each with the vars orchestration passes (the
settings only) and day N's window in ``audit.run_window``, as the Dagster step writes it (no unit
tests, which run in CI):

1. ``dbt build`` (incremental: the facts replace only the dates day N touched, plus the window);
2. ``dbt build --full-refresh`` (everything rebuilt from raw);
3. ``floor.py`` on the whole landing zone (days 1..N), the reference of issue 9.

dbt runs in child processes with their own target/log paths (under the work dir), so a concurrent
dbt run in the repo is not disturbed; the first build parses, the timed ones re-parse nothing. Wall
time, dbt's own elapsed time (``run_results.json``: execution without start-up) and peak RSS
(dbt's ``os.wait4`` rusage, read by a small wrapper).

Usage: .venv/bin/python benchmarks/bench_incremental.py [--scale 10] [--days 60]
           [--workdir DIR] [--keep] [--json FILE] [--project-dir dbt_project]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
HASH_KEY = "bench-key"


PROJECT = ROOT / "dbt_project"
# the incremental intermediate rollups (dbt_project.yml)
ROLLUPS = ("int_dispatches", "int_provider_events", "int_messages", "int_mailing_recipients")
# Linux folds the RSS a process had before exec into its ru_maxrss, so a dbt child forked from
# this (big) process would report our peak: a small wrapper forks dbt and writes its peak (KiB).
RSS_WRAPPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def dbt(args: list[str], warehouse: Path, work: Path, dbt_vars: dict, project: Path) -> dict:
    """Run one dbt command; returns wall seconds, dbt's elapsed seconds and peak RSS MiB."""
    env = dict(os.environ, CW_WAREHOUSE_PATH=str(warehouse))
    target = work / "dbt_target"
    cmd = [str(DBT), "--no-use-colors", *args, "--vars", json.dumps(dbt_vars)]
    cmd += ["--project-dir", str(project), "--profiles-dir", str(project)]
    cmd += ["--target-path", str(target), "--log-path", str(work / "dbt_logs")]
    (target / "run_results.json").unlink(missing_ok=True)
    rss_file = work / "dbt_maxrss.txt"
    started = time.perf_counter()
    with open(work / "dbt_output.log", "a") as log:
        log.write(f"\n$ dbt {' '.join(args)}\n")
        log.flush()
        wrapped = [sys.executable, "-c", RSS_WRAPPER, str(rss_file), *cmd]
        code = subprocess.call(wrapped, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed ({code}); see {work}/dbt_output.log")
    elapsed, facts_s, rollups_s = None, None, None
    if (target / "run_results.json").exists():
        # kept per command (run_results/<n>.json in the work dir): the per-model profile
        kept = work / "run_results" / f"{len(list(work.glob('run_results/*.json'))) + 1}.json"
        kept.parent.mkdir(exist_ok=True)
        shutil.copyfile(target / "run_results.json", kept)
        # and its dbt log (dbt rewrites dbt.log per command): each statement's timing
        shutil.copyfile(work / "dbt_logs" / "dbt.log", kept.with_suffix(".log"))
        run_results = json.loads(kept.read_text())
        elapsed = run_results.get("elapsed_time")
        # the parts that should grow with the new data only: the incremental facts and the
        # intermediate rollups (their models and tests)
        facts_s = sum(
            r["execution_time"] for r in run_results["results"] if ".fct_" in r["unique_id"]
        )
        rollups_s = sum(
            r["execution_time"]
            for r in run_results["results"]
            if any(f".{model}" in r["unique_id"] for model in ROLLUPS)
        )
    rss_mib = int(rss_file.read_text()) / 1024
    return {
        "wall_s": seconds,
        "dbt_elapsed_s": elapsed,
        "facts_s": facts_s,
        "rollups_s": rollups_s,
        "peak_rss_mib": rss_mib,
    }


def fact_rows(warehouse: Path) -> dict[str, int]:
    """Row counts of the tables in schemas facts, intermediate and marts (a sanity check)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('facts', 'intermediate', 'marts') order by 1"
        ).fetchall()
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for (t,) in tables}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 10, 1))
    ap.add_argument("--workdir", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp work dir")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--project-dir", type=Path, default=PROJECT, help="another dbt project copy")
    args = ap.parse_args()
    project = args.project_dir.resolve()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cw_bench_incremental_"))
    work.mkdir(parents=True, exist_ok=True)
    source, landing = work / "generated", work / "landing"
    warehouse = work / "warehouse.duckdb"
    if landing.exists() or warehouse.exists():
        raise SystemExit(f"{work} already holds a landing dir or warehouse: use an empty --workdir")

    from demo_data import generate
    from demo_data.landing import land_day, landing_days
    from ingestion import IngestSettings, ingest_landing_zone
    from orchestration.settings import Settings

    settings = IngestSettings(pii_hash_key=HASH_KEY)
    base_vars = Settings(landing_dir=landing, data_dir=work).dbt_vars()
    results: dict[str, dict] = {}

    t = time.perf_counter()
    generate(source, scale=args.scale, start=args.start, days=args.days)
    results["generate"] = {"wall_s": time.perf_counter() - t}
    days = landing_days(source)
    last = days[-1]
    for day in days[:-1]:
        land_day(source, landing, day)
    t = time.perf_counter()
    report = ingest_landing_zone(warehouse, landing, settings)
    results["ingest days 1..N-1"] = {
        "wall_s": time.perf_counter() - t,
        "rows": report.totals()["rows_loaded"],
    }
    build = ["build", "--exclude-resource-type", "unit_test"]  # as orchestration runs it
    results["dbt build (initial)"] = dbt(build, warehouse, work, base_vars, project)

    land_day(source, landing, last)
    t = time.perf_counter()
    report = ingest_landing_zone(warehouse, landing, settings)
    results["ingest day N"] = {
        "wall_s": time.perf_counter() - t,
        "rows": report.totals()["rows_loaded"],
    }
    import duckdb

    from benchmarks.bench_ingest_vs_floor import run_floor
    from orchestration.run_window import RunWindow, write_run_window

    with duckdb.connect(str(warehouse)) as con:  # day N's window, as the Dagster step writes it
        write_run_window(con, "bench", RunWindow(last, last + dt.timedelta(days=1)))
    results["dbt build (day N)"] = dbt(build, warehouse, work, base_vars, project)
    incremental_rows = fact_rows(warehouse)
    full_refresh = dbt([*build, "--full-refresh"], warehouse, work, base_vars, project)
    results["dbt build --full-refresh"] = full_refresh
    full_rows = fact_rows(warehouse)
    floor = run_floor(landing, work)
    results["floor.py (days 1..N)"] = {"wall_s": floor["total"], "cpu_s": floor["cpu"]}

    print(f"scale {args.scale}, {len(days)} days ({days[0]}..{last}), work dir {work}")
    print(
        f"{'step':<26} {'wall s':>8} {'dbt s':>8} {'facts s':>8} {'rollups s':>9} "
        f"{'peak RSS MiB':>13} {'rows':>11}"
    )
    for step, r in results.items():
        dbt_s, rss, rows = r.get("dbt_elapsed_s"), r.get("peak_rss_mib"), r.get("rows")
        facts_s, rollups_s = r.get("facts_s"), r.get("rollups_s")
        print(
            f"{step:<26} {r['wall_s']:8.1f} {'' if dbt_s is None else f'{dbt_s:.1f}':>8} "
            f"{'' if facts_s is None else f'{facts_s:.1f}':>8} "
            f"{'' if rollups_s is None else f'{rollups_s:.1f}':>9} "
            f"{'' if rss is None else f'{rss:,.0f}':>13} {'' if rows is None else f'{rows:,}':>11}"
        )
    incr = results["dbt build (day N)"]["wall_s"]
    full = results["dbt build --full-refresh"]["wall_s"]
    print(f"day N incremental / full refresh: {incr / full:.0%} (wall; issue 9 target <= 15 %)")
    print(f"full refresh / floor.py: {full / floor['total']:.1f}x; load {os.getloadavg()}")
    differing = {t for t in full_rows if incremental_rows.get(t) != full_rows[t]}
    differing |= set(incremental_rows) ^ set(full_rows)
    print(
        "row counts of facts, intermediate and marts after the incremental build == after the "
        "full refresh: " + ("yes" if not differing else f"NO: {sorted(differing)}")
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "scale": args.scale,
                    "days": len(days),
                    "results": results,
                    "rows_after_incremental": incremental_rows,
                    "rows_after_full_refresh": full_rows,
                },
                indent=1,
            )
            + "\n"
        )
    if not args.keep and args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
