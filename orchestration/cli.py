"""`campaign-warehouse`: generate demo data, run the pipeline, print what was published.

The CLI drives the same Dagster definitions the UI shows (`orchestration.definitions`): `run`
executes the `campaign_warehouse` job on the instance in DAGSTER_HOME, then reads the publication
record of that run. It exits 0 only when that run published.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import date
from pathlib import Path

EXIT_OK = 0
EXIT_NOT_PUBLISHED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


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


def run_pipeline() -> tuple[int, dict]:
    """Execute the job once; return the exit code and the publication record of the run."""
    from orchestration.settings import Settings

    settings = Settings.from_env()
    _ensure_dbt_manifest()
    from orchestration.instance import get_instance

    instance = get_instance(settings.data_dir)
    from orchestration.definitions import defs
    from orchestration.run_outcome import conclude_run

    job = defs.resolve_job_def("campaign_warehouse")
    with _stdout_to_stderr():
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return conclude_run(instance, result.run_id, settings, defs)


def cmd_run(args: argparse.Namespace) -> int:
    _configure_paths(args.landing, args.data)
    code, publication = run_pipeline()
    print(json.dumps(publication, indent=2, default=str) if args.json else _describe(publication))
    return code


def _describe(publication: dict) -> str:
    if publication.get("status") == "published":
        counts = publication.get("row_counts", {})
        lines = [f"published version {publication['version']} to {publication['path']}"]
        lines += [f"  {mart:<32} {rows:>10,} rows" for mart, rows in sorted(counts.items())]
        return "\n".join(lines)
    failures = publication.get("failures") or [publication.get("reason")]
    return "\n".join(["NOT published:"] + [f"  - {failure}" for failure in failures])


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
        ("run", cmd_run, "ingest every new file, build, check, publish"),
        ("demo", cmd_demo, "generate demo data if the landing zone is empty, then run"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--landing", help="landing zone (default $CW_LANDING_DIR or data/landing)")
        cmd.add_argument("--data", help="data directory (default $CW_DATA_DIR or data)")
        cmd.set_defaults(func=func)
    sub.choices["run"].add_argument("--json", action="store_true", help="print the record as JSON")
    sub.choices["demo"].add_argument("--scale", type=int, default=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    from orchestration.warehouse_lock import WarehouseLockedError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except WarehouseLockedError as error:
        print(f"campaign-warehouse: {error}", file=sys.stderr)
        return EXIT_LOCKED


if __name__ == "__main__":
    sys.exit(main())
