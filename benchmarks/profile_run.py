"""Profile one `campaign-warehouse run` from what it left in its data folder: where the time went.

Reads, for the newest run of DATA_DIR (`CW_DATA_DIR` of that run):
- the Dagster steps' seconds (the run's event log in DATA_DIR/dagster_home);
- every dbt node's execution time (dbt's JSON log, DATA_DIR/dbt/logs/dbt.log*: one
  `LogModelResult` / `LogTestResult` / `LogSeedResult` event per node of each dbt invocation of the
  run), summed per layer (staging, facts, intermediate, marts, data tests);
- the ingestion's seconds per feed and stage, when the run's log holds them (ingestion logs
  `stage seconds` at the end of a load).

Prints markdown tables (slowest first) for benchmarks/profile_scale10.md.
Usage: .venv/bin/python benchmarks/profile_run.py DATA_DIR [--top 25]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

NODE_RESULTS = {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"}


def step_seconds(dagster_home: Path) -> tuple[dict[str, float], float, float]:
    """Seconds per step of the newest run, and the run's start and end (epoch seconds)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (run,) = instance.get_runs(limit=1)
        stats = instance.get_run_stats(run.run_id)
        steps = {
            s.step_key: s.end_time - s.start_time
            for s in instance.get_run_step_stats(run.run_id)
            if s.start_time and s.end_time
        }
        return steps, stats.start_time or 0.0, stats.end_time or 1e12


def dbt_nodes(log_dir: Path, start: float, end: float) -> list[tuple[float, str, str]]:
    """(seconds, layer, node) of every dbt node result logged between start and end."""
    nodes = []
    for log in sorted(log_dir.glob("dbt.log*")):
        for line in log.read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            info = event.get("info", {})
            if info.get("name") not in NODE_RESULTS:
                continue
            ts = datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp()
            if not start <= ts <= end:
                continue
            data = event["data"]
            node = data.get("node_info", {})
            path = node.get("node_path", "")
            layer = path.split("/")[0] if info["name"] == "LogModelResult" else "data tests"
            if info["name"] == "LogSeedResult":
                layer = "seeds"
            nodes.append((float(data.get("execution_time", 0)), layer, node.get("node_name", "?")))
    return nodes


def ingest_stages(run_logs: list[Path]) -> dict[str, dict[str, float]]:
    """feed -> stage -> seconds, from the ingestion's `stage seconds` log line of the run."""
    stages: dict[str, dict[str, float]] = defaultdict(dict)
    for log in run_logs:
        for match in re.finditer(r"stage seconds: (\{.*\})", log.read_text()):
            for key, seconds in json.loads(match.group(1)).items():
                feed, stage = key.split("/", 1)
                stages[feed][stage] = stages[feed].get(stage, 0.0) + seconds
    return stages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--top", type=int, default=25, help="dbt nodes to list")
    args = parser.parse_args(argv)

    steps, start, end = step_seconds(args.data_dir / "dagster_home")
    print("| step | seconds |\n| --- | ---: |")
    for key, seconds in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"| {key} | {seconds:.1f} |")
    print(f"| run (first step start to last step end) | {end - start:.1f} |\n")

    nodes = dbt_nodes(args.data_dir / "dbt" / "logs", start, end)
    per_layer: dict[str, float] = defaultdict(float)
    for seconds, layer, _ in nodes:
        per_layer[layer] += seconds
    print("| dbt layer | nodes | seconds |\n| --- | ---: | ---: |")
    for layer, seconds in sorted(per_layer.items(), key=lambda kv: -kv[1]):
        count = sum(1 for _, lay, _ in nodes if lay == layer)
        print(f"| {layer} | {count} | {seconds:.1f} |")
    print(f"| all nodes | {len(nodes)} | {sum(per_layer.values()):.1f} |\n")
    print("| dbt node | layer | seconds |\n| --- | --- | ---: |")
    for seconds, layer, name in sorted(nodes, reverse=True)[: args.top]:
        print(f"| {name} | {layer} | {seconds:.2f} |")

    stages = ingest_stages(sorted((args.data_dir / "logs").glob("*.log")))
    if stages:
        names = sorted({s for feed in stages.values() for s in feed})
        print("\n| feed | " + " | ".join(names) + " |")
        print("| --- |" + " ---: |" * len(names))
        for feed, by_stage in sorted(stages.items(), key=lambda kv: -sum(kv[1].values())):
            cells = " | ".join(f"{by_stage.get(s, 0.0):.2f}" for s in names)
            print(f"| {feed} | {cells} |")


if __name__ == "__main__":
    main()
