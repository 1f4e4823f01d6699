"""Ingestion beside the floor: ``ingest_landing_zone`` and the reading stages of
``../shared/bench/floor.py`` on the same landing zone, back to back, with the ratio (issue 9:
ingestion alone <= 1.5x the floor's reading stages), the peak RSS of each, and the ingestion's
profile per feed and stage (discover+hash, read, validate, replay, insert, quarantine+register,
commit).

The floor's reading stages are the ones that read a feed: mailings, audience, dispatches, sendgrid,
twilio, push, purchases (receipts + orders). Each side runs in its own process (its peak RSS is its
own); the warehouse starts empty. The machine may be shared: run the two back to back (the default)
and repeat (``--repeat``) to see the noise.

Usage:
  .venv/bin/python benchmarks/bench_ingest_vs_floor.py --scale 10 [--landing DIR] [--repeat 1]
      [--memory-limit 4GB] [--threads 2] [--batch-mb 256] [--workers N]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/bench/floor.py next to the checkout (or a worktree's checkout), or CW_FLOOR_SCRIPT
FLOOR = Path(
    os.environ.get("CW_FLOOR_SCRIPT")
    or next(
        (
            p / "shared/bench/floor.py"
            for p in ROOT.parents
            if (p / "shared/bench/floor.py").exists()
        ),
        ROOT.parent / "shared/bench/floor.py",
    )
)
READING_STAGES = ("mailings", "audience", "dispatches", "sendgrid", "twilio", "push", "purchases")


def _run_measured(cmd: list[str]) -> tuple[str, float, float, float]:
    """(stdout, wall s, CPU s (user + system), peak RSS MiB) of a child process. CPU seconds
    are the fairer comparison on a shared machine: they do not grow with other people's load."""
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *cmd],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{cmd[:3]} failed:\n{done.stderr[-3000:]}")
    peak_kib, user, system = done.stderr.strip().splitlines()[-1].split()
    return done.stdout, wall, float(user) + float(system), int(peak_kib) / 1024


def run_floor(landing: Path, work: Path) -> dict:
    out = work / "floor.duckdb"
    out.unlink(missing_ok=True)
    stdout, wall, cpu, peak = _run_measured([sys.executable, str(FLOOR), str(landing), str(out)])
    timings = json.loads(stdout.strip().splitlines()[-1])
    reading = sum(timings[s] for s in READING_STAGES)
    out.unlink(missing_ok=True)
    return {"reading": reading, "total": timings["total"], "cpu": cpu, "peak_mib": peak}


INGEST = """
import dataclasses, json, sys, time
from pathlib import Path
args = json.loads(sys.argv[1])
sys.path.insert(0, args["code"])
from ingestion import IngestSettings, ingest_landing_zone
known = {f.name for f in dataclasses.fields(IngestSettings)}  # an older checkout has fewer
options = {"duckdb_memory_limit": args["memory_limit"], "duckdb_threads": args["threads"],
           "batch_bytes": args["batch_bytes"]}
options = {k: v for k, v in options.items() if k in known}
settings = IngestSettings(pii_hash_key="bench-key", **options)
t = time.perf_counter()
r = ingest_landing_zone(Path(args["warehouse"]), Path(args["landing"]), settings,
                        workers=args["workers"])
stages = getattr(r, "stage_seconds", {})
print(json.dumps({"seconds": time.perf_counter() - t, "totals": r.totals(),
                  "stages": [[f, s, v] for (f, s), v in stages.items()]}))
"""


def run_ingest(landing: Path, work: Path, args: argparse.Namespace, code: Path = ROOT) -> dict:
    warehouse = work / "ingest.duckdb"
    for p in (warehouse, Path(f"{warehouse}.wal")):
        p.unlink(missing_ok=True)
    params = {
        "warehouse": str(warehouse),
        "landing": str(landing),
        "memory_limit": args.memory_limit,
        "threads": args.threads,
        "batch_bytes": args.batch_mb * 1024 * 1024,
        "workers": args.workers,
        "code": str(code),
    }
    stdout, wall, cpu, peak = _run_measured([sys.executable, "-c", INGEST, json.dumps(params)])
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(wall=wall, cpu=cpu, peak_mib=peak)
    warehouse.unlink(missing_ok=True)
    return result


def print_profile(stages: list[list]) -> None:
    """Seconds per feed and stage (feeds overlap in wall time when workers > 1)."""
    names = [
        "read",
        "validate",
        "replay",
        "insert",
        "quarantine+register",
        "commit",
    ]
    table: dict[str, dict[str, float]] = {}
    for feed, stage, seconds in stages:
        table.setdefault(feed, {})[stage] = seconds
    overall = table.pop("*", {})
    print("| feed | " + " | ".join(names) + " | sum |")
    print("|---" * (len(names) + 2) + "|")
    for feed in sorted(table, key=lambda f: -sum(table[f].values())):
        row = table[feed]
        cells = " | ".join(f"{row.get(n, 0):.2f}" for n in names)
        print(f"| {feed} | {cells} | {sum(row.values()):.2f} |")
    print(" ".join(f"{k} {v:.2f}s" for k, v in overall.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--days", type=int, default=None, help="generator days (default: its own)")
    ap.add_argument("--landing", type=Path, default=None, help="an existing landing zone")
    ap.add_argument("--work", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--memory-limit", default=os.environ.get("CW_DUCKDB_MEMORY_LIMIT"))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--batch-mb", type=int, default=256)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument(
        "--baseline-code",
        type=Path,
        default=None,
        help="also run the ingestion of this checkout (e.g. main before a change), same landing",
    )
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="cw_bench_ingest_floor_"))
    work.mkdir(parents=True, exist_ok=True)
    landing = args.landing
    if landing is None:
        sys.path.insert(0, str(ROOT))
        from demo_data import generate

        landing = work / f"landing_scale_{args.scale}"
        kwargs = {"days": args.days} if args.days else {}
        generate(landing, scale=args.scale, **kwargs)
    size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
    print(f"landing {landing}: {size / 1e6:,.0f} MB; cpus {os.cpu_count()}; load {os.getloadavg()}")
    print(
        f"settings: memory_limit={args.memory_limit} threads={args.threads} "
        f"batch={args.batch_mb} MB workers={args.workers}"
    )
    print(
        "| run | floor reading s | floor total s | ingest s | ratio (ingest / floor reading) "
        "| floor CPU s (whole script) | ingest CPU s | floor peak MiB | ingest peak MiB "
        "| rows read |"
    )
    print("|---" * 10 + "|")
    last = None
    for i in range(args.repeat):
        floor = run_floor(landing, work)
        ingest = run_ingest(landing, work, args)
        ratio = ingest["seconds"] / floor["reading"]
        print(
            f"| {i + 1} | {floor['reading']:.1f} | {floor['total']:.1f} | {ingest['seconds']:.1f} "
            f"| {ratio:.2f} | {floor['cpu']:.1f} | {ingest['cpu']:.1f} "
            f"| {floor['peak_mib']:,.0f} | {ingest['peak_mib']:,.0f} "
            f"| {ingest['totals']['rows_read']:,} |",
            flush=True,
        )
        last = ingest
        if args.baseline_code:
            base = run_ingest(landing, work, args, args.baseline_code.resolve())
            print(
                f"| {i + 1} baseline {args.baseline_code} | | | {base['seconds']:.1f} "
                f"| {base['seconds'] / floor['reading']:.2f} | | {base['cpu']:.1f} | "
                f"| {base['peak_mib']:,.0f} | {base['totals']['rows_read']:,} |",
                flush=True,
            )
    print()
    print_profile(last["stages"])
    if args.work is None and args.landing is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
