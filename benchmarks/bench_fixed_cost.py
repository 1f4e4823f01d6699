"""Benchmark the fixed cost of a run (issue 9 item 2): where the seconds of a small run go.

Steps: ``campaign-warehouse generate --scale 1 --days 3`` (the generator's minimum), then
``../shared/bench/floor.py`` on that landing zone, then ``campaign-warehouse run`` on an empty data
folder (the small-landing run), then ``run`` again with nothing new landed (which stops before
Dagster when the publication is current: orchestration/nothing_new.py). For each run it prints the
wall and CPU seconds of the CLI (with its children: CPU seconds do not count waiting, so they
compare better on a shared machine), every step's time from the run's Dagster event log, and for
each dbt invocation (dbt's JSON log) its start-up, its parse (and whether partial parsing skipped
it, or why not) and its execution. Then the start-up of a build (importing Dagster, dagster-dbt and
the definitions), and the two issue 9 figures beside the floor and their targets (25 s, 15 s).

Usage: .venv/bin/python benchmarks/bench_fixed_cost.py [--out DIR] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLI = Path(sys.executable).with_name("campaign-warehouse")
TARGETS = {1: 25.0, 2: 15.0}  # issue 9 item 2: small landing <= 25 s, nothing new <= 15 s
IMPORTS = ("import dagster", "import dagster_dbt", "import orchestration.definitions")


def cli(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """One `campaign-warehouse` command; returns its wall and CPU seconds (with its children's).

    CPU seconds say more than wall seconds on a shared machine: they do not count the waiting.
    """
    started, cpu_before = time.perf_counter(), _children_cpu()
    with open(log, "a") as out:
        code = subprocess.call([str(CLI), *args], cwd=ROOT, env=env, stdout=out, stderr=out)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if code != 0:
        raise SystemExit(f"campaign-warehouse {' '.join(args)} failed ({code}); see {log}")
    return seconds, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def step_times(dagster_home: Path) -> tuple[str, float, dict[str, float]]:
    """The last run's id, start (epoch) and seconds per step (STEP_START to its end)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        starts: dict[str, float] = {}
        seconds: dict[str, float] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                starts[entry.step_key] = entry.timestamp
            elif event.event_type in (
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.STEP_FAILURE,
                dg.DagsterEventType.STEP_SKIPPED,
            ):
                begun = starts.get(entry.step_key, entry.timestamp)
                seconds[entry.step_key] = entry.timestamp - begun
        return run.run_id, min(starts.values(), default=0.0), seconds


def dbt_invocations(folder: Path, since: float) -> list[str]:
    """One line per dbt invocation in `folder`'s dbt logs (JSON, rotated) since `since` (epoch)."""
    logs = sorted(folder.glob("dbt.log.*"), reverse=True) + sorted(folder.glob("dbt.log"))
    invocations: dict[str, dict[str, object]] = {}
    for line in (line for log in logs for line in log.read_text().splitlines()):
        try:
            info = json.loads(line)["info"]
        except (ValueError, KeyError):
            continue
        at = datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp()
        if at < since:
            continue
        seen = invocations.setdefault(info["invocation_id"], {"parse": "partial"})
        seen.setdefault("start", at)
        if info["name"] == "UnableToPartialParse":
            seen["parse"] = f"full ({info['msg'].removeprefix('Unable to do partial parsing ')})"
        elif info["name"] == "PartialParsingSkipParsing":
            seen["parse"] = "skipped (nothing changed)"
        elif info["name"] == "FoundStats":
            seen["parsed"] = at
        elif info["name"] == "ConcurrencyLine":
            seen["executing"] = at
        elif info["name"] == "CommandCompleted":
            seen["done"] = at
    lines = []
    for seen in invocations.values():
        start, done = seen["start"], seen.get("done", seen["start"])
        parsed = seen.get("parsed", start)
        lines.append(
            f"dbt {done - start:5.1f} s: load+parse {parsed - start:4.1f} s "
            f"(parse {seen['parse']}), execution {done - seen.get('executing', parsed):5.1f} s"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--runs", type=int, default=2, help="runs: the first small, then nothing new")
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="cw_bench_fixed_cost_"))
    work.mkdir(parents=True, exist_ok=True)
    landing, data, log = work / "landing", work / "data", work / "cli.log"
    env = dict(os.environ, DAGSTER_HOME=str(data / "dagster_home"))
    env.pop("CW_WAREHOUSE_PATH", None)

    if not landing.exists():
        cli(["generate", "--out", str(landing), "--scale", "1", "--days", "3"], env, log)
    print(f"landing {landing}, data {data}, CLI output in {log}; load {os.getloadavg()}")
    from benchmarks.bench_ingest_vs_floor import run_floor

    floor = run_floor(landing, work)
    print(f"floor.py on the same landing: {floor['total']:.1f} s, {floor['cpu']:.1f} s CPU")
    figures = []
    for number in range(1, args.runs + 1):
        what = "small landing, empty data folder" if number == 1 else "nothing new landed"
        runs_before = _run_count(data / "dagster_home")
        wall, cpu = cli(["run", "--landing", str(landing), "--data", str(data)], env, log)
        figures.append((number, what, wall, cpu))
        if _run_count(data / "dagster_home") == runs_before:
            print(f"\nrun {number} ({what}): {wall:.1f} s wall, {cpu:.1f} s CPU, no build")
            continue
        run_id, since, seconds = step_times(data / "dagster_home")
        print(f"\nrun {number} ({what}): {wall:.1f} s wall, {cpu:.1f} s CPU, run {run_id[:8]}")
        for step, took in seconds.items():
            print(f"  {step:<40} {took:6.1f} s")
        print(f"  {'steps together':<40} {sum(seconds.values()):6.1f} s")
        logs = [data / "dbt" / "logs", ROOT / "dbt_project" / "target" / f"run-{run_id}"]
        for folder in logs:
            for line in dbt_invocations(folder, since):
                print(f"  {line}")
    print("\nstart-up of a build (a fresh Python each):")
    for statement in IMPORTS:
        wall, cpu = _python_seconds(statement)
        print(f"  {statement:<40} {wall:6.1f} s wall {cpu:6.1f} s CPU")
    print(
        f"\n{'figure (issue 9 item 2)':<44} {'wall s':>7} {'CPU s':>7} {'target':>7} {'floor':>7}"
    )
    for number, what, wall, cpu in figures:
        target = TARGETS.get(min(number, 2))
        print(f"{what:<44} {wall:7.1f} {cpu:7.1f} {target:7.1f} {floor['total']:7.1f}")
    print(f"load average at the end: {os.getloadavg()}")


def _run_count(dagster_home: Path) -> int:
    """Dagster runs recorded so far (a nothing-new run adds none)."""
    if not dagster_home.exists():
        return 0
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return len(instance.get_runs())


def _python_seconds(statement: str) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh Python running `statement` (its import cost)."""
    started, cpu_before = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)
    return time.perf_counter() - started, _children_cpu() - cpu_before


if __name__ == "__main__":
    main()
