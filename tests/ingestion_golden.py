"""The landing zone and the snapshot behind tests/test_ingestion_equivalence.py.

The golden (tests/golden/ingestion_equivalence.json) is the snapshot of what a given version of
``ingestion/`` writes for this landing zone: every raw table and audit.ingested_files /
audit.quarantine, as row counts and digests of the sorted rows (the audit tables also in full, for
readable diffs). Run-time columns (``_ingested_at``, ``ingested_at``, ``quarantined_at``) are left
out and the landing directory is replaced by ``<landing>`` in messages.

Regenerate it from the code that is the reference (for example main before a refactoring):

    .venv/bin/python tests/ingestion_golden.py --code /path/to/checkout/of/main

(no test module: a helper that must also run against another checkout's ``ingestion``.)
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden" / "ingestion_equivalence.json"
KEY = "equivalence-test-key"
RUN_COLUMNS = {"_ingested_at", "ingested_at", "quarantined_at"}


def _land(landing: Path, feed: str, name: str, data: str | bytes, day: str = "2026-10-02") -> None:
    path = landing / feed / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _ndjson(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _parquet(columns: dict[str, list]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def _sg(i: int, event: str = "delivered", **extra) -> dict:
    return {
        "email": f" User{i}@Example.com ",
        "timestamp": 1791000000 + i,
        "event": event,
        "sg_event_id": f"edge-ev{i}",
        "sg_message_id": f"edge-m{i}.filter1",
        "mailing_id": "mlg-1001",
        "customer_id": f"C{i:07d}",
        **extra,
    }


def build_landing(landing: Path) -> None:
    """A small generated zone (every feed, its injected bad rows, files and replays) plus edge
    cases the generator does not write: several formats and headers in one feed, replays across
    files and formats, broken CSV lines, documents, unknown keys, bad files of every kind."""
    from datetime import date

    from demo_data import generate

    generate(landing, scale=1, seed=11, start=date(2026, 10, 1), days=3)

    # SendGrid: array, NDJSON (blank and malformed lines), gzip, a pretty-printed document,
    # replays across files, unknown keys colliding by case, a truncated gzip, an error page.
    _land(landing, "sendgrid", "edge_a.json", json.dumps([_sg(1), _sg(2, "opn"), _sg(3)], indent=1))
    lines = _ndjson([_sg(3), _sg(4, "open", Smtp_Id="<x@y>", smtp_id="<z@y>")]).splitlines()
    _land(
        landing,
        "sendgrid",
        "edge_b.ndjson",
        lines[0] + '\n\n{"email": "a@b.c", "ti\n' + lines[1] + "\n[1, 2]\n",
    )
    _land(
        landing,
        "sendgrid",
        "edge_c.ndjson.gz",
        gzip.compress(_ndjson([_sg(5), _sg(1)]).encode(), mtime=0),
    )
    _land(
        landing,
        "sendgrid",
        "edge_d.json",
        json.dumps(_sg(6, "click", url="https://x.y/?e=a@b.c"), indent=2),
    )
    whole = gzip.compress(json.dumps([_sg(i) for i in range(10, 400)]).encode(), mtime=0)
    _land(landing, "sendgrid", "edge_e_truncated.json.gz", whole[: len(whole) // 2])
    _land(
        landing,
        "sendgrid",
        "edge_f_page.json",
        "<html>502 Bad Gateway, call +7 912 345-67-89</html>",
    )
    _land(landing, "sendgrid", "edge_g_empty.ndjson", b"")
    _land(landing, "sendgrid", "edge_h.csv", "sg_event_id\nx\n")  # not a type SendGrid sends
    _land(
        landing,
        "sendgrid",
        "edge_i_noid.ndjson",
        _ndjson([{k: v for k, v in _sg(i).items() if k != "sg_event_id"} for i in (7, 8)]),
    )
    _land(landing, "sendgrid", "edge_j_blank.ndjson", "\n\n")

    # Canonical events: CSV (two headers, a BOM, broken lines), Parquet, NDJSON, replays by key.
    header = (
        "event_id,provider,channel,provider_message_id,event_type,occurred_at,url,error_code,reason"
    )
    ev = "e{0},acme,sms,s{0},delivered,2026-10-02T06:00:00+03:00,,,"
    _land(
        landing,
        "events",
        "edge_1.csv",
        "\ufeff"
        + header
        + "\n"
        + ev.format(1)
        + "\ne2,acme\n"
        + ev.format(3).replace("2026-10-02T06:00:00+03:00", "bad")
        + "\n"
        + ev.format(4)
        + "\n"
        + ev.format(1)
        + "\n",
    )
    reordered = "provider,event_id,occurred_at,event_type,provider_message_id,Channel,note"
    _land(
        landing,
        "events",
        "edge_2.csv",
        reordered + "\nacme,e4,2026-10-02 07:00:00,opened,s4,SMS,hi\n"
        'acme,e5,1791000000,clicked,s5,sms,"a,b"\nacme,e6,x,y,s6\n',
    )
    _land(
        landing,
        "events",
        "edge_3.csv.gz",
        gzip.compress(
            (header + "\n" + ev.format(7) + "\n" + ev.format(8) + "\n").encode(), mtime=0
        ),
    )
    _land(
        landing,
        "events",
        "edge_4.parquet",
        _parquet(
            {
                "event_id": ["e8", "e9", None],
                "provider": ["acme", "acme", "acme"],
                "provider_message_id": ["s8", "s9", "s10"],
                "event_type": ["opened", "delivered", "opened"],
                "occurred_at": [
                    "2026-10-02T08:00:00Z",
                    "2026-10-02T09:00:00Z",
                    "2026-10-02T09:00:00Z",
                ],
                "score": [1.5, None, 2.0],
            }
        ),
    )
    _land(
        landing,
        "events",
        "edge_5.ndjson",
        _ndjson(
            [
                {
                    "event_id": "e9",
                    "provider": "acme",
                    "provider_message_id": "s9",
                    "event_type": "delivered",
                    "occurred_at": "2026-10-02T09:00:00Z",
                },
                {
                    "event_id": "e10",
                    "provider": "beta",
                    "provider_message_id": "s10",
                    "event_type": "failed",
                    "occurred_at": "2026-10-02T09:00:00Z",
                    "reason": "to a@b.c",
                },
            ]
        ),
    )
    _land(
        landing,
        "events",
        "edge_6_truncated.csv.gz",
        gzip.compress(
            (header + "\n" + "\n".join(ev.format(i) for i in range(100, 3000)) + "\n").encode(),
            mtime=0,
        )[:3000],
    )
    _land(landing, "events", "edge_7_missing.csv", "event_id,provider\ne1,acme\n")

    # Audience with clear and odd contacts; a replay of a generated row in another format.
    _land(
        landing,
        "audience",
        "edge_a.csv",
        "mailing_id,customer_id,group,variant,status,address\n"
        "mlg-1001,C1,treatment,A,good, Foo@Bar.COM \n"
        "mlg-1001,C2,control,,good,+7 (912) 345-67-89\n"
        "mlg-1001,C3,holdout,,good,8 912 345 67 89\n"
        "mlg-1001,C2,control,,good,+7 (912) 345-67-89\n",
    )
    _land(
        landing,
        "audience",
        "edge_b.parquet",
        _parquet(
            {
                "mailing_id": ["mlg-1001", "mlg-1001"],
                "customer_id": ["C1", "C4"],
                "group": ["treatment", "treatment"],
                "variant": ["A", "B"],
                "status": ["good", "bad"],
                "address": [" Foo@Bar.COM ", None],
            }
        ),
    )

    # Orders with lines: a bad line, a non-array, a replay of a whole snapshot.
    order = {
        "order_id": "O1",
        "customer_id": "C1",
        "created_at": "2026-10-02T10:00:00Z",
        "updated_at": "2026-10-02T10:00:00Z",
        "status": "paid",
        "total_amount": "10.50",
        "currency": "RUB",
        "utm_campaign": "mlg-1001",
        "lines": [
            {"product_id": "P1", "quantity": "1.5", "amount": "7"},
            {"product_id": "P2", "quantity": "x", "amount": "3.5", "gift": True},
        ],
    }
    o2 = dict(order, order_id="O2", lines=[{"product_id": "P1", "quantity": 1, "amount": 2}])
    o3 = dict(order, order_id="O3", lines="none")
    o4 = dict(order, order_id="O4", currency="USD")
    _land(landing, "orders", "edge_a.ndjson", _ndjson([order, o2, o3, o4, o2]))
    _land(landing, "orders", "edge_b.jsonl", _ndjson([o2]))


def snapshot(warehouse: Path, landing: Path) -> dict:
    """{table: {"rows": n, "digest": md5 of its sorted rows}} plus the audit tables in full."""
    import duckdb

    out: dict = {"tables": {}, "audit": {}}
    landing_text = str(landing)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            (s, t)
            for s, t in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE schema_name IN ('raw', 'audit') ORDER BY ALL"
            ).fetchall()
        ]
        for schema, table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() "
                    "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
                    [schema, table],
                ).fetchall()
                if c not in RUN_COLUMNS
            ]
            struct = "{" + ", ".join(f"{_sql(c)}: {json.dumps(c)}" for c in cols) + "}"
            landing_json = _sql(json.dumps(landing_text)[1:-1])  # as it appears in JSON text
            text = f"replace(to_json({struct})::VARCHAR, {landing_json}, '<landing>')"
            count, digest = con.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r, chr(10) ORDER BY r), '')) "
                f"FROM (SELECT {text} AS r FROM {schema}.{table})"
            ).fetchone()
            out["tables"][f"{schema}.{table}"] = {"rows": count, "digest": digest}
            if schema == "audit":
                out["audit"][table] = [
                    json.loads(r)
                    for (r,) in con.execute(
                        f"SELECT {text} AS r FROM {schema}.{table} ORDER BY r"
                    ).fetchall()
                ]
    return out


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def run(workdir: Path, settings: dict | None = None, **ingest_kwargs) -> dict:
    """Build the landing zone under ``workdir``, ingest it, return the snapshot."""
    from ingestion import IngestSettings, ingest_landing_zone

    landing = workdir / "landing"
    build_landing(landing)
    warehouse = workdir / "warehouse.duckdb"
    settings = IngestSettings(pii_hash_key=KEY, **(settings or {}))
    ingest_landing_zone(warehouse, landing, settings, **ingest_kwargs)
    return snapshot(warehouse, landing)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--code", type=Path, required=True, help="checkout whose ingestion/ is the reference"
    )
    ap.add_argument("--out", type=Path, default=GOLDEN)
    args = ap.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    import ingestion

    print(f"reference ingestion: {ingestion.__file__}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="cw_golden_") as tmp:
        snap = run(Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
