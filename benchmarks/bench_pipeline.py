"""The pipeline beside the floor (issue 9): one landing zone, the floor script and our whole run.

On one generated landing zone it runs the floor (`../shared/bench/floor.py`, a plain DuckDB script)
and `campaign-warehouse run` on an empty data folder, each in a child process, and prints side by
side: totals, the floor's reading stages against our ingestion, our dbt, checks and publish steps
(from the Dagster event log of the run), the ratios, and the peak memory (RSS, `os.wait4`) of each.

Figures (issue 9 "What to reach"):
  1. full build at `--scale` (default 10): run / floor total <= 3, ingest / floor reading <= 1.5;
  2. `--small`: a run over `generate --scale 1 --days 3` <= 25 s, a rerun with nothing new <= 15 s;
  4. checks share: every Great Expectations / aggregate check step <= 10 % of the full run;
  5. `--scale100`: the full build at scale 100 (opt-in: half an hour, 16 GiB today).
Figure 3 (incremental) is benchmarks/bench_incremental.py; figure 6 (CI) is `.ci/run`'s time.

Output: a markdown table (with the machine: nproc, memory) to paste into the README; `--json FILE`
also writes the raw figures. Data goes under `--workdir` (default a temp folder, removed unless
`--keep`). Measure on a quiet machine, or say that it was not.

Usage: .venv/bin/python benchmarks/bench_pipeline.py [--scale 10] [--small] [--scale100]
           [--floor ../shared/bench/floor.py] [--workdir DIR] [--keep] [--json FILE]
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

    def group(self, name: str) -> float:
        return sum(s for key, s in self.steps.items() if step_group(key) == name)


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


def cli_env(data: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "DAGSTER_"))}
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
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), "
        f"{pages * page_size / 2**30:.0f} GiB, load average {load:.1f} at the end"
    )


def ratio(ours: float, floor: float) -> str:
    return f"{ours / floor:.1f}×" if floor else "n/a"


def full_build_rows(scale: int, floor: Measured, stages: dict, run: RunFigures) -> list[str]:
    reading = sum(stages.get(s, 0.0) for s in FLOOR_READING)
    checks = run.group("checks")
    status = "" if run.ok else " (run FAILED)"
    return [
        f"| scale {scale}: full run, empty data folder{status} | {run.wall:.1f} s | "
        f"{floor.seconds:.1f} s (stages {stages.get('total', 0):.1f} s) | "
        f"{ratio(run.wall, floor.seconds)} | ≤ 3× |",
        f"| scale {scale}: ingest / floor's reading stages | {run.group('ingest'):.1f} s | "
        f"{reading:.1f} s | {ratio(run.group('ingest'), reading)} | ≤ 1.5× |",
        f"| scale {scale}: dbt steps | {run.group('dbt'):.1f} s | | | |",
        f"| scale {scale}: check steps (GX suites and aggregates) | {checks:.1f} s | | "
        f"{checks / run.wall:.0%} of the run | ≤ 10 % |",
        f"| scale {scale}: publish | {run.group('publish'):.1f} s | | | |",
        f"| scale {scale}: peak memory | {run.peak_mib / 1024:.2f} GiB | "
        f"{floor.peak_mib / 1024:.2f} GiB | {ratio(run.peak_mib, floor.peak_mib)} | |",
    ]


def full_build(scale: int, floor_script: Path, work: Path, report: dict) -> list[str]:
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
    }
    return full_build_rows(scale, floor, stages, run)


def small_runs(work: Path, report: dict) -> list[str]:
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
    return [
        f"| scale 1, 3 days: run on an empty data folder | {first.wall:.1f} s | | | ≤ 25 s |",
        f"| scale 1, 3 days: rerun, nothing new landed | {again.wall:.1f} s | | | ≤ 15 s |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="full-build scale (0 = skip)")
    parser.add_argument("--small", action="store_true", help="also the small-landing runs")
    parser.add_argument("--scale100", action="store_true", help="also the full build at 100")
    parser.add_argument("--floor", default=str(ROOT.parent / "shared" / "bench" / "floor.py"))
    parser.add_argument("--workdir", help="where landing zones and data go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args(argv)

    floor_script = Path(args.floor)
    if not floor_script.is_file():
        print(f"bench_pipeline: no floor script at {floor_script} (--floor)", file=sys.stderr)
        return 2
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {}
    rows = [
        "| figure | ours | floor | ratio | target |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    try:
        if args.scale:
            rows += full_build(args.scale, floor_script, work, report)
        if args.small:
            rows += small_runs(work, report)
        if args.scale100:
            rows += full_build(100, floor_script, work, report)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    report["machine"] = machine()
    print("\n".join(rows))
    print(f"\nMachine: {report['machine']}.")
    for name, figures in report.items():
        steps = figures.get("run", {}).get("steps") if isinstance(figures, dict) else None
        if steps:
            print(f"\n{name} steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
