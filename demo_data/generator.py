"""``generate()``: the whole landing zone and its manifest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from . import campaigns, faults, programme
from .audience import ContactState
from .commerce import Commerce, Purchases, uplift
from .messaging import run_mailing
from .period import Period
from .sink import Sink
from .world import build_world

MANIFEST = "_generator_manifest.json"
VERSION = 1


def generate(
    out_dir: Path,
    scale: int = 1,
    seed: int = 42,
    start: dt.date | None = None,
    days: int = 30,
) -> dict:
    """Write a landing zone under ``out_dir`` and return its manifest (also written as
    ``out_dir/_generator_manifest.json``). Same arguments, same bytes. Without ``start``, the
    data ends yesterday (UTC): the days are the last ``days`` complete days."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    if days < 3:
        raise ValueError("days must be >= 3")
    start = start or default_start(days)
    out_dir = Path(out_dir)
    _remove_previous_output(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    period = Period(start, days)
    world = build_world(seed, scale)
    plan = campaigns.build_plan(seed, world, period)
    sink = Sink(out_dir, period, seed)
    campaigns.write_exports(sink, plan, period, seed)
    campaigns.write_products(sink, world, period, seed)

    programme.write_message_prices(sink, plan, period, seed)
    state = ContactState.initial(
        seed, world.customers.n, period, [m.category for m in plan.mailings]
    )
    state.holdout = programme.draw_holdout(seed, world, period)
    programme.write_holdouts(sink, world, state.holdout, period, seed)
    extra: list[Purchases] = []
    expected: dict[str, dict] = {}
    for pos, m in enumerate(plan.mailings):
        if not m.sent:
            continue
        res = run_mailing(m, world, state, seed, period.end_t, sink)
        expected[m.mailing_id] = res.counts
        d = res.dispatches
        sent = d.sent
        extra.append(
            uplift(
                m,
                d.cust[sent],
                d.variant[sent],
                res.outcome.select(sent),
                pos,
                seed,
                period.end_t,
            )
        )

    commerce = Commerce(world, plan, period, seed, sink)
    commerce.run(Purchases.concat(extra))

    faults.inject_rows(sink, seed, scale)
    faults.inject_files(sink, seed)
    sink.close()

    manifest = {
        "generator": {
            "version": VERSION,
            "seed": seed,
            "scale": scale,
            "start": start.isoformat(),
            "days": days,
            "customers": world.customers.n,
            "campaigns": len(plan.campaigns),
            "mailings": len(plan.mailings),
        },
        "feeds": sink.manifest(),
        "expected": {
            "mailings": dict(sorted(expected.items())),
            "receipt_total_mismatch": sorted(commerce.mismatched),
        },
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def default_start(days: int, today: dt.date | None = None) -> dt.date:
    """The first day of a demo of ``days`` days that ends yesterday (UTC)."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=days)


def landing_period(out_dir: Path) -> tuple[dt.date, int] | None:
    """First day and number of days of the demo landing zone in ``out_dir``; None if none."""
    manifest = Path(out_dir) / MANIFEST
    if not manifest.exists():
        return None
    generator = json.loads(manifest.read_text()).get("generator", {})
    return dt.date.fromisoformat(generator["start"]), int(generator["days"])


def _remove_previous_output(out_dir: Path) -> None:
    """Delete the files an earlier run wrote here (as its manifest lists them), nothing else,
    so that a re-run never mixes old and new files."""
    manifest = out_dir / MANIFEST
    if not manifest.exists():
        return
    previous = json.loads(manifest.read_text())
    dirs = set()
    for entry in previous.get("feeds", {}).values():
        for f in entry.get("files", []) + entry.get("bad_files", []):
            path = out_dir / f["path"]
            path.unlink(missing_ok=True)
            dirs.update([path.parent, path.parent.parent])
    for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    manifest.unlink()
