"""Benchmark the demo data generator: wall time, rows/s and peak RSS for one scale.

Usage: .venv/bin/python benchmarks/bench_generate.py --scale 10 [--out /tmp/cw_bench] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo_data import generate  # noqa: E402

PROVIDER_FEEDS = ("sendgrid", "twilio", "twilio_clicks", "push", "events")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--out", type=Path, default=None, help="output dir (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="cw_bench_"))
    t0 = time.perf_counter()
    manifest = generate(out, scale=args.scale, seed=args.seed, days=args.days)
    elapsed = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    feeds = manifest["feeds"]
    rows = sum(f["rows"] for f in feeds.values())
    events = sum(feeds[f]["rows"] for f in PROVIDER_FEEDS)
    files = sum(f["file_count"] for f in feeds.values())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"scale            {args.scale}")
    print(f"wall time        {elapsed:.1f} s")
    print(f"rows             {rows:,} ({rows / elapsed:,.0f} rows/s)")
    print(f"provider events  {events:,} ({events / elapsed:,.0f} events/s)")
    print(f"files            {files:,} ({size / 1e6:,.1f} MB)")
    print(f"peak RSS         {peak_kib / 1024:,.0f} MiB")
    for name, f in feeds.items():
        print(f"  {name:<14} {f['file_count']:>6} files {f['rows']:>12,} rows")
    if not args.keep and args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
