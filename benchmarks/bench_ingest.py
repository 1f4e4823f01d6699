"""Benchmark the ingestion: wall time, rows/s and peak RSS of ``ingest_landing_zone``.

Two landing zones:
- ``--sendgrid-events N`` (default 1,000,000): one NDJSON file of N synthetic SendGrid events
  (0.1% bad, 0.5% re-delivered), written with DuckDB;
- ``--scale S`` (0 = skip, default 1): a ``demo_data.generate`` zone (all 15 feeds, ~290 files
  at scale 1).

The ingestion runs in a child process so that its peak RSS (VmHWM, Linux) is its own.

Usage: .venv/bin/python benchmarks/bench_ingest.py [--sendgrid-events 1000000] [--scale 1] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_sendgrid(landing: Path, n: int) -> Path:
    """One NDJSON webhook file of ``n`` events, built in SQL (no Python loop per row)."""
    import duckdb

    path = landing / "sendgrid" / "2026-11-02" / "webhook_bench.ndjson"
    path.parent.mkdir(parents=True, exist_ok=True)
    events = "['processed','delivered','open','click','bounce','deferred','dropped','opn']"
    with duckdb.connect() as con:
        con.execute(
            f"""COPY (
                SELECT to_json({{
                    'email': 'User' || (i % 200000) || '@Example.com',
                    'timestamp': 1793000000 + i // 10,
                    'smtp-id': '<' || md5(i::VARCHAR) || '@ismtpd-0.sendgrid.net>',
                    'event': CASE WHEN i % 1000 = 7 THEN 'opn'
                                  ELSE {events}[1 + (i % 7)::INT] END,
                    'category': CASE WHEN i % 2 = 0 THEN to_json('promo')
                                     ELSE to_json(['promo', 'bf']) END,
                    'sg_event_id': md5('ev' || (CASE WHEN i % 200 = 1 THEN i - 1 ELSE i END)),
                    'sg_message_id': md5('m' || (i // 4)) || '.filter0001',
                    'url': CASE WHEN i % 7 = 3 THEN 'https://shop.example/p/' || (i % 997)
                                || '?utm_source=email&utm_content=header' END,
                    'useragent': CASE WHEN i % 7 IN (2, 3) THEN
                        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0.6099.109' END,
                    'ip': '10.0.' || (i % 250) || '.' || (i % 200),
                    'mailing_id': 'mlg-' || (i % 300),
                    'customer_id': 'cus-' || (i % 200000)
                }})::VARCHAR AS line
                FROM range({n}) t(i) ORDER BY i
            ) TO '{path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')"""
        )
    return path


def ingest_child(landing: Path, warehouse: Path) -> dict:
    """Run the ingestion in a fresh process; returns its report totals, time and peak RSS."""
    code = (
        "import json, time\n"
        "from pathlib import Path\n"
        "from ingestion import IngestSettings, ingest_landing_zone\n"
        "t = time.perf_counter()\n"
        f"r = ingest_landing_zone(Path({str(warehouse)!r}), Path({str(landing)!r}),\n"
        "    IngestSettings(pii_hash_key='bench-key'))\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "out = dict(r.totals(), seconds=time.perf_counter() - t,\n"
        "    peak_rss_mib=int(hwm.split()[1]) / 1024)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(title: str, result: dict, size_bytes: int) -> None:
    secs = result["seconds"]
    print(f"== {title}")
    print(f"files            {result['files']:,} ({size_bytes / 1e6:,.1f} MB)")
    print(f"wall time        {secs:.2f} s")
    print(f"rows read        {result['rows_read']:,} ({result['rows_read'] / secs:,.0f} rows/s)")
    print(
        f"loaded/replayed/quarantined  {result['rows_loaded']:,} / {result['rows_replayed']:,}"
        f" / {result['rows_quarantined']:,}; rejected files {result['files_rejected']}"
    )
    print(f"peak RSS         {result['peak_rss_mib']:,.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sendgrid-events", type=int, default=1_000_000)
    ap.add_argument("--scale", type=int, default=1, help="demo_data scale; 0 skips it")
    ap.add_argument("--out", type=Path, default=None, help="work dir (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the landing zones and warehouses")
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="cw_bench_ingest_"))

    if args.sendgrid_events:
        landing = work / "sendgrid_landing"
        t = time.perf_counter()
        path = write_sendgrid(landing, args.sendgrid_events)
        print(f"(wrote {args.sendgrid_events:,} SendGrid events in {time.perf_counter() - t:.1f}s)")
        result = ingest_child(landing, work / "sendgrid.duckdb")
        report(f"SendGrid NDJSON, {args.sendgrid_events:,} events", result, path.stat().st_size)

    if args.scale:
        from demo_data import generate

        landing = work / f"demo_scale_{args.scale}"
        t = time.perf_counter()
        generate(landing, scale=args.scale)
        print(f"(generated demo scale {args.scale} in {time.perf_counter() - t:.1f}s)")
        size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
        result = ingest_child(landing, work / f"demo_{args.scale}.duckdb")
        report(f"demo_data scale {args.scale}", result, size)

    if not args.keep and args.out is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
