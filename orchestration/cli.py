"""`campaign-warehouse`: generate demo data, run the pipeline, print what was published.

The CLI drives the same Dagster definitions the UI shows (`orchestration.definitions`): `run`
executes the `campaign_warehouse` job for the last complete UTC day (yesterday), `backfill` for a
range of days in one run, on the instance in DAGSTER_HOME; both then read the publication record
of that run and exit 0 only when it published. The whole command holds the warehouse writer lock
(orchestration/warehouse_lock.py): a second writer waits for it, then exits 3.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

EXIT_OK = 0
EXIT_NOT_PUBLISHED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


class UsageError(ValueError):
    """A bad command line (exit 2), found after argument parsing (e.g. a backfill range)."""


def _configure_paths(landing: str | None, data: str | None) -> None:
    """CLI flags become the env vars every component reads (see orchestration/settings.py)."""
    if landing:
        os.environ["CW_LANDING_DIR"] = str(Path(landing).resolve())
    if data:
        os.environ["CW_DATA_DIR"] = str(Path(data).resolve())
        os.environ["CW_WAREHOUSE_PATH"] = str(Path(data).resolve() / "warehouse.duckdb")


def _ensure_dbt_manifest() -> None:
    """The manifest is a build artifact (`make prepare`); build it once if it is missing."""
    from dagster_dbt import DbtProject

    project_dir = Path(__file__).resolve().parents[1] / "dbt_project"
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    if not project.manifest_path.exists():
        print("dbt manifest missing: preparing it (dbt parse)", file=sys.stderr)
        project.preparer.prepare(project)


def cmd_generate(args: argparse.Namespace) -> int:
    from demo_data import generate

    manifest = generate(
        Path(args.out),
        scale=args.scale,
        seed=args.seed,
        start=date.fromisoformat(args.start),
        days=args.days,
    )
    feeds = manifest.get("feeds", {})
    total = sum(int(feed.get("rows", 0)) for feed in feeds.values())
    print(f"generated {total:,} rows in {len(feeds)} feeds into {args.out}")
    return EXIT_OK


@contextlib.contextmanager
def _stdout_to_stderr():
    """Keep stdout for the CLI's own answer: Dagster and the dbt subprocess log to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def last_complete_partition() -> str:
    """Yesterday (UTC), the partition `run` targets; a usage error before the first partition."""
    from orchestration.partitions import last_complete_partition_key
    from orchestration.settings import partitions_start

    key = last_complete_partition_key(datetime.now(UTC))
    if key is None:
        raise UsageError(
            f"no complete daily partition yet: CW_PARTITIONS_START ({partitions_start()}) "
            "is today or later"
        )
    return key


def run_pipeline(
    start: str | None = None, end: str | None = None, full_refresh: bool = False
) -> tuple[int, dict]:
    """Execute the job once for the partitions `start`..`end` (inclusive; default: yesterday, UTC).

    Holds the warehouse writer lock for the whole run. Returns the exit code and the publication
    record of the run (with the partitions it covered).
    """
    from orchestration.settings import Settings
    from orchestration.warehouse_lock import warehouse_writer_lock

    settings = Settings.from_env()
    start = start or last_complete_partition()
    end = end or start
    _ensure_dbt_manifest()
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )
    from dagster._core.utils import make_new_run_id

    from orchestration.instance import get_instance

    instance = get_instance(settings.data_dir)
    from orchestration.assets.dbt import HAS_PARTITIONED_FACTS, dbt_run_config
    from orchestration.definitions import defs
    from orchestration.recovery import guarded_cli_run
    from orchestration.run_outcome import conclude_run

    job = defs.resolve_job_def("campaign_warehouse")
    what = f"campaign-warehouse {'run' if start == end else 'backfill'} {start}..{end}"
    run_id = make_new_run_id()
    with (
        warehouse_writer_lock(settings.warehouse_path, what=what) as lock_file,
        guarded_cli_run(instance, run_id, lock_file) as run_tags,
    ):
        if not HAS_PARTITIONED_FACTS:  # no incremental model yet: an unpartitioned job
            partition = {}
        elif start == end:
            partition = {"partition_key": start}
        else:  # one run over the range: the facts' single-run backfill policy
            partition = {
                "tags": {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
            }
        with _stdout_to_stderr():
            result = job.execute_in_process(
                instance=instance,
                run_config=dbt_run_config(full_refresh=full_refresh),
                raise_on_error=False,
                run_id=run_id,
                **{**partition, "tags": {**partition.get("tags", {}), **run_tags}},
            )
        code, publication = conclude_run(instance, result.run_id, settings, defs)
    publication["partitions"] = {"start": start, "end": end}
    return code, publication


def _print_outcome(publication: dict, as_json: bool) -> None:
    print(json.dumps(publication, indent=2, default=str) if as_json else _describe(publication))


def _require_landing_dir() -> None:
    """A missing landing zone is a mistake, not an empty day: refuse it (exit 2)."""
    from orchestration.settings import Settings

    landing = Settings.from_env().landing_dir
    if not landing.is_dir():
        raise UsageError(f"landing folder {landing} does not exist or is not a folder")


def cmd_run(args: argparse.Namespace) -> int:
    _configure_paths(args.landing, args.data)
    _require_landing_dir()
    code, publication = run_pipeline(full_refresh=args.full_refresh)
    _print_outcome(publication, args.json)
    return code


def backfill_range(start: str, end: str) -> tuple[str, str]:
    """Validate a backfill range (end inclusive) against the daily partitions; keys to run."""
    from orchestration.partitions import PARTITION_FORMAT, last_complete_partition_key
    from orchestration.settings import partitions_start

    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as error:
        raise UsageError(f"--start and --end must be dates YYYY-MM-DD ({error})") from None
    if first > last:
        raise UsageError(f"--start {first} is after --end {last}")
    if first < partitions_start():
        raise UsageError(
            f"--start {first} is before the first partition {partitions_start()} "
            "(CW_PARTITIONS_START)"
        )
    latest = last_complete_partition_key(datetime.now(UTC))
    if latest is None or last.strftime(PARTITION_FORMAT) > latest:
        raise UsageError(
            f"--end {last} is after the last complete day {latest or '(none yet)'} (UTC): "
            "a partition is complete when its day has ended"
        )
    return first.strftime(PARTITION_FORMAT), last.strftime(PARTITION_FORMAT)


def cmd_backfill(args: argparse.Namespace) -> int:
    _configure_paths(args.landing, args.data)
    _require_landing_dir()
    start, end = backfill_range(args.start, args.end)
    print(f"backfill {start} to {end} (one run)", file=sys.stderr)
    code, publication = run_pipeline(start, end, full_refresh=args.full_refresh)
    _print_outcome(publication, args.json)
    return code


def _describe(publication: dict) -> str:
    days = publication.get("partitions")
    covered = f" (days {days['start']} to {days['end']}, UTC)" if days else ""
    if publication.get("status") == "published":
        counts = publication.get("row_counts", {})
        lines = [f"published version {publication['version']} to {publication['path']}{covered}"]
        lines += [f"  {mart:<32} {rows:>10,} rows" for mart, rows in sorted(counts.items())]
        return "\n".join(lines)
    failures = publication.get("failures") or [publication.get("reason")]
    return "\n".join([f"NOT published{covered}:"] + [f"  - {failure}" for failure in failures])


def cmd_demo(args: argparse.Namespace) -> int:
    _configure_paths(args.landing, args.data)
    from orchestration.settings import Settings

    settings = Settings.from_env()
    landing = settings.landing_dir
    if not landing.exists() or not any(landing.iterdir()):
        print(f"landing zone {landing} is empty: generating demo data (scale {args.scale})")
        generate_args = argparse.Namespace(
            out=str(landing), scale=args.scale, seed=42, start="2026-10-01", days=30
        )
        cmd_generate(generate_args)
    code, publication = run_pipeline()
    print(_describe(publication))
    if code == EXIT_OK:
        print(
            f"\nOpen it in BI or with: duckdb -readonly {settings.reports_path}"
            f"\nExports: {settings.exports_dir / publication['version']}"
        )
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaign-warehouse", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a demo landing zone")
    gen.add_argument("--out", required=True)
    gen.add_argument("--scale", type=int, default=1)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--start", default="2026-10-01", help="first day, YYYY-MM-DD")
    gen.add_argument("--days", type=int, default=30)
    gen.set_defaults(func=cmd_generate)

    for name, func, text in (
        ("run", cmd_run, "ingest every new file, build (yesterday, UTC), check, publish"),
        ("backfill", cmd_backfill, "run the pipeline once over a range of days"),
        ("demo", cmd_demo, "generate demo data if the landing zone is empty, then run"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--landing", help="landing zone (default $CW_LANDING_DIR or data/landing)")
        cmd.add_argument("--data", help="data directory (default $CW_DATA_DIR or data)")
        cmd.set_defaults(func=func)
    backfill = sub.choices["backfill"]
    backfill.add_argument("--start", required=True, help="first day (UTC), YYYY-MM-DD")
    backfill.add_argument("--end", required=True, help="last day (UTC, inclusive), YYYY-MM-DD")
    for name in ("run", "backfill"):
        sub.choices[name].add_argument(
            "--full-refresh",
            action="store_true",
            help="rebuild the incremental facts (and seeds) from scratch (dbt --full-refresh)",
        )
        sub.choices[name].add_argument(
            "--json", action="store_true", help="print the record as JSON"
        )
    sub.choices["demo"].add_argument("--scale", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    from orchestration import stop_signals
    from orchestration.settings import Settings
    from orchestration.storage_faults import (
        EXIT_STORAGE,
        WarehouseStorageError,
        fault_from_exception,
    )
    from orchestration.warehouse_lock import WarehouseLockedError

    parser = build_parser()
    args = parser.parse_args(argv)
    stop_signals.install()
    try:
        return args.func(args)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except WarehouseLockedError as error:
        print(f"campaign-warehouse: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except Exception as error:
        fault = error if isinstance(error, WarehouseStorageError) else None
        fault = fault or fault_from_exception(error, Settings.from_env())
        if fault is None:
            raise
        print(f"campaign-warehouse: {fault}", file=sys.stderr)
        return EXIT_STORAGE


if __name__ == "__main__":
    sys.exit(main())
