"""The pipeline beside the floor (issue 9): one landing zone, the floor script and our whole run.

On one generated landing zone it runs the floor (`../shared/bench/floor.py`, a plain DuckDB script)
and `campaign-warehouse run` on an empty data folder, each in a child process, and prints side by
side: totals, the floor's reading stages against our ingestion, our dbt, checks and publish steps
(from the Dagster event log of the run), the ratios, and the peak memory (RSS, `os.wait4`) of each.

Figures (issue 9 "What to reach"), printed in its order:
  1. full build at `--scale` (default 10): run / floor total <= 3, ingest / floor reading <= 1.5;
  2. `--small`: a run over `generate --scale 1 --days 3` <= 25 s, a rerun with nothing new <= 15 s;
  3. `--incremental-json FILE`: benchmarks/bench_incremental.py's --json (daily run / full refresh);
  4. checks share: every Great Expectations / aggregate check step <= 10 % of the full run;
  5. `--scale100`: the full build at scale 100 (opt-in: tens of minutes) and its peak memory;
  6. `--ci-seconds N`: `.ci/run`'s time on a fresh clone, as measured.
`--merge FILE` adds the figures of an earlier `--json` of this script that this run did not
measure (say the scale-100 build, run apart), so one table shows them all.

Output: a markdown table (with the machine: nproc, memory) to paste into the README; `--json FILE`
also writes the raw figures. Data goes under `--workdir` (default a temp folder, removed unless
`--keep`). Measure on a quiet machine, or say that it was not.

Usage: .venv/bin/python benchmarks/bench_pipeline.py [--scale 10] [--small] [--scale100]
           [--floor ../shared/bench/floor.py] [--workdir DIR] [--keep] [--json FILE]
           [--merge EARLIER.json] [--incremental-json FILE] [--ci-seconds N]
           [--memory-limit 5GB] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/bench/floor.py beside the main checkout (/work/main); from a worktree (/work/wt/x), two
# levels up
FLOOR = (
    next(
        (p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if (p / "bench").is_dir()),
        ROOT.parent / "shared",
    )
    / "bench"
    / "floor.py"
)
CLI = [sys.executable, "-m", "orchestration.cli"]
HASH_KEY = "bench-key"
FLOOR_READING = ("mailings", "audience", "dispatches", "sendgrid", "twilio", "push", "purchases")
STEP_GROUPS = ("ingest", "dbt", "checks", "publish", "other")


@dataclass
class Measured:
    seconds: float
    peak_mib: float
    returncode: int
    stdout: str = ""
    stderr: str = ""


@dataclass
class RunFigures:
    label: str
    wall: float
    peak_mib: float
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds
    ok: bool = True


def step_group(step_key: str) -> str:
    key = step_key.lower()
    if "great_expectations" in key or "check" in key:
        return "checks"
    if "ingest" in key:
        return "ingest"
    if key.startswith("dbt") or "dbt" in key:
        return "dbt"
    if "publish" in key:
        return "publish"
    return "other"


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Measured:
    """Run a child; its wall time and peak RSS (its own and its waited-for children's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(seconds, usage.ru_maxrss / 1024, child.returncode, out.read(), err.read())


def generate(landing: Path, scale: int, days: int | None) -> None:
    args = ["generate", "--out", str(landing), "--scale", str(scale)]
    if days:
        args += ["--days", str(days)]
    done = measure(CLI + args)
    if done.returncode:
        sys.exit(f"generate failed: {done.stderr[-2000:]}")


def run_floor(floor: Path, landing: Path, work: Path) -> tuple[Measured, dict[str, float]]:
    out = work / "floor.duckdb"
    out.unlink(missing_ok=True)
    done = measure([sys.executable, str(floor), str(landing), str(out)])
    if done.returncode:
        sys.exit(f"floor failed: {done.stderr[-2000:]}")
    return done, json.loads(done.stdout.strip().splitlines()[-1])


# The DuckDB resources of the measured runs (--memory-limit, --threads): CW_DUCKDB_* of every
# connection, dbt's included; the only CW_* settings a run inherits from this benchmark.
DUCKDB_ENV: dict[str, str] = {}


def cli_env(data: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "DAGSTER_"))}
    env.update(DUCKDB_ENV)
    env.update(
        CW_DATA_DIR=str(data),
        CW_LANDING_DIR=str(landing),
        CW_WAREHOUSE_PATH=str(data / "warehouse.duckdb"),
        CW_PII_HASH_KEY=HASH_KEY,
        DAGSTER_HOME=str(data / "dagster_home"),
    )
    return env


def step_seconds(dagster_home: Path) -> dict[str, float]:
    """Per step of the newest run in this Dagster instance: seconds from its event log."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (run,) = instance.get_runs(limit=1)
        return {
            stat.step_key: round(stat.end_time - stat.start_time, 2)
            for stat in instance.get_run_step_stats(run.run_id)
            if stat.start_time and stat.end_time
        }


def run_pipeline(label: str, data: Path, landing: Path) -> RunFigures:
    done = measure(CLI + ["run", "--json"], env=cli_env(data, landing))
    ok = done.returncode == 0
    if not ok:
        print(f"{label}: exit {done.returncode}\n{done.stderr[-3000:]}", file=sys.stderr)
    return RunFigures(label, done.seconds, done.peak_mib, step_seconds(data / "dagster_home"), ok)


def machine() -> str:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    load = os.getloadavg()[0]
    return (
        f"{model}, {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), "
        f"{pages * page_size / 2**30:.0f} GiB RAM, load average {load:.1f} at the end"
    )


def ratio(ours: float, floor: float) -> str:
    return f"{ours / floor:.1f}×" if floor else "n/a"


def group_seconds(steps: dict[str, float], name: str) -> float:
    return sum(s for key, s in steps.items() if step_group(key) == name)


def full_build_rows(scale: int, figures: dict) -> list[str]:
    """Figures 1, 4 (and 5 at scale 100) of one full build, from its report entry."""
    floor, run = figures["floor"], figures["run"]
    stages, steps = floor["stages"], run["steps"]
    reading = sum(stages.get(s, 0.0) for s in FLOOR_READING)
    ingest, checks = group_seconds(steps, "ingest"), group_seconds(steps, "checks")
    status = "" if run["ok"] else " (run FAILED)"
    figure = "5" if scale >= 100 else "1"
    rows = [
        f"| {figure}. scale {scale}: full run, empty data folder{status} | {run['wall']:.1f} s | "
        f"{floor['wall']:.1f} s (stages {stages.get('total', 0):.1f} s) | "
        f"{ratio(run['wall'], floor['wall'])} | ≤ 3× |",
        f"| {figure}. scale {scale}: ingest / floor's reading stages | {ingest:.1f} s | "
        f"{reading:.1f} s | {ratio(ingest, reading)} | ≤ 1.5× |",
        f"| scale {scale}: dbt steps | {group_seconds(steps, 'dbt'):.1f} s | | | |",
        f"| 4. scale {scale}: check steps (GX suites and aggregates) | {checks:.1f} s | | "
        f"{checks / run['wall']:.0%} of the run | ≤ 10 % |",
        f"| scale {scale}: publish | {group_seconds(steps, 'publish'):.1f} s | | | |",
        f"| {figure}. scale {scale}: peak memory (largest process RSS) | "
        f"{run['peak_mib'] / 1024:.2f} GiB | {floor['peak_mib'] / 1024:.2f} GiB | "
        f"{ratio(run['peak_mib'], floor['peak_mib'])} | "
        f"{'≤ 8 GiB' if scale >= 100 else ''} |",
    ]
    return rows


def full_build(scale: int, floor_script: Path, work: Path, report: dict) -> None:
    landing, data = work / f"landing-{scale}", work / f"data-{scale}"
    shutil.rmtree(data, ignore_errors=True)
    if not landing.exists():
        print(f"generating scale {scale}…", file=sys.stderr)
        generate(landing, scale, None)
    print(f"floor at scale {scale}…", file=sys.stderr)
    floor, stages = run_floor(floor_script, landing, work)
    print(f"campaign-warehouse run at scale {scale}…", file=sys.stderr)
    run = run_pipeline(f"scale {scale}", data, landing)
    report[f"scale_{scale}"] = {
        "floor": {"wall": floor.seconds, "peak_mib": floor.peak_mib, "stages": stages},
        "run": {"wall": run.wall, "peak_mib": run.peak_mib, "ok": run.ok, "steps": run.steps},
        "machine": machine(),
        "duckdb": dict(DUCKDB_ENV),
    }


def small_runs(work: Path, report: dict) -> None:
    landing, data = work / "landing-small", work / "data-small"
    shutil.rmtree(data, ignore_errors=True)
    if not landing.exists():
        generate(landing, 1, 3)
    print("small landing: first run, then a rerun with nothing new…", file=sys.stderr)
    first = run_pipeline("small", data, landing)
    again = run_pipeline("nothing new", data, landing)
    report["small"] = {
        name: {"wall": r.wall, "peak_mib": r.peak_mib, "ok": r.ok, "steps": r.steps}
        for name, r in (("first", first), ("nothing_new", again))
    }


def small_rows(small: dict) -> list[str]:
    first, again = small["first"]["wall"], small["nothing_new"]["wall"]
    return [
        f"| 2. scale 1, 3 days: run on an empty data folder | {first:.1f} s | | | ≤ 25 s |",
        f"| 2. scale 1, 3 days: rerun, nothing new landed | {again:.1f} s | | | ≤ 15 s |",
    ]


def incremental_rows(incremental: dict) -> list[str]:
    """Figure 3 from benchmarks/bench_incremental.py's --json (day N vs --full-refresh)."""
    results = incremental.get("results", {})
    day = next((r for k, r in results.items() if k.startswith("dbt build (day")), None)
    full = next((r for k, r in results.items() if "full-refresh" in k), None)
    if not (day and full):
        return ["| 3. incremental: bench_incremental.py JSON without its two builds | | | | |"]
    days = incremental.get("days", "?")
    return [
        f"| 3. scale {incremental.get('scale', '?')}, {days} days, one more day: daily run / "
        f"`--full-refresh` | {day['wall_s']:.1f} s | {full['wall_s']:.1f} s (full refresh) | "
        f"{day['wall_s'] / full['wall_s']:.0%} | ≤ 15 % |"
    ]


def table(report: dict, ci_seconds: float | None) -> list[str]:
    """The six figures of issue 9, in its order, from what this run measured or was given."""
    rows = [
        "| figure (issue 9) | ours | floor / reference | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    builds = sorted(
        (int(k.removeprefix("scale_")), v) for k, v in report.items() if k.startswith("scale_")
    )
    for scale, figures in builds:
        if scale < 100:
            rows += full_build_rows(scale, figures)
    if "small" in report:
        rows += small_rows(report["small"])
    if "incremental" in report:
        rows += incremental_rows(report["incremental"])
    for scale, figures in builds:
        if scale >= 100:
            rows += full_build_rows(scale, figures)
    if ci_seconds:
        rows.append(
            f"| 6. CI: `.ci/run` on a fresh clone | {ci_seconds / 60:.1f} min | | | ≤ 10 min |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="full-build scale (0 = skip)")
    parser.add_argument("--small", action="store_true", help="also the small-landing runs")
    parser.add_argument("--scale100", action="store_true", help="also the full build at 100")
    parser.add_argument("--floor", default=str(FLOOR))
    parser.add_argument("--workdir", help="where landing zones and data go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument(
        "--merge",
        action="append",
        default=[],
        help="an earlier --json of this script: its figures not measured now join the table "
        "(e.g. the scale-100 build, measured apart)",
    )
    parser.add_argument(
        "--incremental-json", help="benchmarks/bench_incremental.py --json output (figure 3)"
    )
    parser.add_argument("--ci-seconds", type=float, help="`.ci/run`'s time on a fresh clone")
    parser.add_argument("--memory-limit", help="CW_DUCKDB_MEMORY_LIMIT of the runs (e.g. 5GB)")
    parser.add_argument("--threads", help="CW_DUCKDB_THREADS of the runs")
    args = parser.parse_args(argv)
    if args.memory_limit:
        DUCKDB_ENV["CW_DUCKDB_MEMORY_LIMIT"] = args.memory_limit
    if args.threads:
        DUCKDB_ENV["CW_DUCKDB_THREADS"] = args.threads

    floor_script = Path(args.floor)
    measuring = args.scale or args.small or args.scale100
    if measuring and not floor_script.is_file():
        print(f"bench_pipeline: no floor script at {floor_script} (--floor)", file=sys.stderr)
        return 2
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {}
    try:
        if args.scale:
            full_build(args.scale, floor_script, work, report)
        if args.small:
            small_runs(work, report)
        if args.scale100:
            full_build(100, floor_script, work, report)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    report["machine"] = machine()
    for earlier in args.merge:
        for key, value in json.loads(Path(earlier).read_text()).items():
            report.setdefault(key, value)
    if args.incremental_json:
        report["incremental"] = json.loads(Path(args.incremental_json).read_text())
    print("\n".join(table(report, args.ci_seconds)))
    print(f"\nMachine: {report['machine']}.")
    for name, figures in report.items():
        steps = figures.get("run", {}).get("steps") if isinstance(figures, dict) else None
        if steps:
            print(f"\n{name} steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
            if figures.get("machine"):
                print(f"({name} measured on: {figures['machine']})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
