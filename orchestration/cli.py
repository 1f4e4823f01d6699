"""`campaign-warehouse`: generate demo data, run the pipeline, print what was published.

The CLI drives the same Dagster definitions the UI shows (`orchestration.definitions`): `run`
executes the `campaign_warehouse` job for the last complete UTC day (yesterday), `backfill` for a
range of days in one run, on the instance in DAGSTER_HOME; both then read the publication record
of that run and exit 0 only when it published. The whole command holds the warehouse writer lock
(orchestration/warehouse_lock.py): a second writer waits for it, then exits 3. `report` writes the
campaign reports of the last publication; `quarantine` lists what ingestion could not load.

Output is quiet: one line per step, then a summary; Dagster's and dbt's logs go to
`<data>/logs/<command>-<time>.log` (and to stderr with `--verbose`). See orchestration/console.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.console import Console, RunProgress, capture_logs, log_file_path
from orchestration.settings import ENGINES

EXIT_OK = 0
EXIT_NOT_PUBLISHED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


EXIT_CODES = """exit codes:
  0  published (report, quarantine, generate: done)
  1  not published: a blocking check or a step failed (the previous publication stays)
  2  usage error (a bad option or value)
  3  another process is writing the warehouse (the writer lock)
  4  storage failure: a full disk or a damaged warehouse file (the message says what to do)"""


class UsageError(ValueError):
    """A bad command line (exit 2), found after argument parsing (e.g. a backfill range)."""


class CliParser(argparse.ArgumentParser):
    """Usage errors as one line (exit 2), without the usage text and never a traceback."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _demo_days(text: str) -> int:
    days = _positive_int(text)
    if days < 3:
        raise argparse.ArgumentTypeError(f"must be 3 or more, got {days}")
    return days


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def _configure_paths(landing: str | None, data: str | None) -> None:
    """CLI flags become the env vars every component reads (see orchestration/settings.py)."""
    if landing:
        os.environ["CW_LANDING_DIR"] = str(Path(landing).resolve())
    if data:
        os.environ["CW_DATA_DIR"] = str(Path(data).resolve())
        os.environ["CW_WAREHOUSE_PATH"] = str(Path(data).resolve() / "warehouse.duckdb")


def _configure_engine(engine: str | None) -> None:
    """--engine becomes CW_ENGINE; Spark needs Java and pyspark (`make spark`): say so, exit 2."""
    from orchestration.engine import missing_spark_runtime
    from orchestration.settings import Settings

    if engine:
        os.environ["CW_ENGINE"] = engine
    try:
        settings = Settings.from_env()
    except ValueError as error:  # an unknown CW_ENGINE
        raise UsageError(str(error)) from None
    missing = missing_spark_runtime(settings)
    if missing:
        raise UsageError(f"the Spark engine needs {missing}: run `make spark`")


def _ensure_dbt_manifest() -> None:
    """The manifest is a build artifact (`make prepare`); build it once if it is missing."""
    from orchestration.dbt_project import dbt_project, prepare_manifest

    if not dbt_project.manifest_path.exists():
        print("dbt manifest missing: preparing it (dbt parse)", file=sys.stderr)
        prepare_manifest()


def _generate(out: Path, scale: int, seed: int, start: date | None, days: int) -> str:
    from demo_data import generate

    manifest = generate(out, scale=scale, seed=seed, start=start, days=days)
    feeds = manifest.get("feeds", {})
    total = sum(int(feed.get("rows", 0)) for feed in feeds.values())
    first = manifest["generator"]["start"]
    return f"{total:,} rows in {len(feeds)} feeds, {days} days from {first}, into {out}"


def cmd_generate(args: argparse.Namespace) -> int:
    print(f"generated {_generate(Path(args.out), args.scale, args.seed, args.start, args.days)}")
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
    start: str | None = None,
    end: str | None = None,
    full_refresh: bool = False,
    listener: Callable | None = None,
) -> tuple[int, dict]:
    """Execute the job once for the partitions `start`..`end` (inclusive; default: yesterday, UTC).

    Holds the warehouse writer lock for the whole run. Returns the exit code and the publication
    record of the run (with the partitions it covered). `listener` gets the run's Dagster events.
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
    from orchestration.assets.dbt import dbt_run_config
    from orchestration.definitions import defs
    from orchestration.publishing import conclude_run
    from orchestration.recovery import guarded_cli_run

    job = defs.resolve_job_def("campaign_warehouse")
    what = f"campaign-warehouse {'run' if start == end else 'backfill'} {start}..{end}"
    run_id = make_new_run_id()
    if listener is not None:
        instance.add_event_listener(run_id, listener)
    with (
        warehouse_writer_lock(settings.warehouse_path, what=what) as lock_file,
        guarded_cli_run(instance, run_id, lock_file) as run_tags,
    ):
        if start == end:
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


def _execute(
    args: argparse.Namespace,
    plan: Callable[[Console], tuple[str | None, str | None]],
    skip_if_unchanged: bool = False,
):
    """Run the pipeline quietly: logs to a file, one line per step, then the summary.

    `plan` runs first, inside the capture (it may generate data), and returns the days to run.
    With `skip_if_unchanged`, a run that would build nothing new (orchestration/nothing_new.py)
    stops there and says so: no Dagster, no dbt, no checks, the publication as it was.
    """
    from orchestration.settings import DEMO_PII_HASH_KEY, Settings

    if not (args.verbose and sys.stderr.isatty()):
        os.environ.setdefault("DBT_USE_COLORS", "false")  # dbt's colour codes, also in the log
    data_dir = Path(os.environ.get("CW_DATA_DIR", "data")).resolve()
    log_path = log_file_path(data_dir, args.command)
    warnings: list[str] = []
    with (
        capture_logs(log_path, echo=args.verbose) as (terminal, terminal_err),
        contextlib.closing(Console(terminal_err if args.json else terminal)) as console,
    ):
        settings = Settings.from_env()
        if settings.pii_hash_key == DEMO_PII_HASH_KEY:
            warnings.append("CW_PII_HASH_KEY is not set: personal data is hashed with the demo key")
        start, end = plan(console)
        unchanged = _unchanged_publication(settings) if skip_if_unchanged else None
        if unchanged is not None:
            code, publication, ingest = 0, unchanged.as_publication(settings.reports_path), {}
            warnings += [f"stale feed {feed}" for feed in unchanged.stale_feeds]
            reports = _publication_reports(settings, {**publication, "status": "published"})
        else:
            console.progress("start", "loading the pipeline (Dagster definitions, dbt manifest)")
            _ensure_dbt_manifest()
            from orchestration.assets.dbt import DBT_ASSETS

            progress = RunProgress(
                console, models_per_step={a.node_def.name: len(a.keys) for a in DBT_ASSETS}
            )
            started = time.time()
            code, publication = run_pipeline(
                start, end, full_refresh=args.full_refresh, listener=progress
            )
            publication["seconds"] = round(time.time() - started, 1)
            reports, ingest = _publication_reports(settings, publication), progress.ingest
            if reports:
                console.line(f"{'reports':<9}{len(reports) - 1:,} campaign pages and an index")
    publication.update(
        log=str(log_path),
        ingest=ingest,
        warnings=warnings,
        reports=str(reports[0]) if reports else None,
    )
    if args.json:
        print(json.dumps(publication, indent=2, default=str))
    else:
        print(_describe(publication, settings))
    return code


def _unchanged_publication(settings):
    """The publication a run leaves as it is because nothing new would be built (or None).

    Looked at under the writer lock, so no other writer lands or publishes meanwhile."""
    from orchestration.nothing_new import unchanged_publication
    from orchestration.warehouse_lock import warehouse_writer_lock

    if not settings.warehouse_path.exists():
        return None
    with warehouse_writer_lock(settings.warehouse_path, what="campaign-warehouse run"):
        return unchanged_publication(settings)


def _publication_reports(settings, publication: dict) -> list[Path]:
    """The index and the campaign pages the publish step wrote for this publication."""
    from reporting.publication import publication_reports_dir

    if publication.get("status") != "published":
        return []
    folder = publication_reports_dir(settings.exports_dir, publication["version"])
    index = folder / "index.html"
    return [index, *sorted(folder.glob("campaign-*.html"))] if index.exists() else []


def _require_landing_dir() -> None:
    """A missing landing zone is a mistake, not an empty day: refuse it (exit 2)."""
    from orchestration.settings import Settings

    landing = Settings.from_env().landing_dir
    if not landing.is_dir():
        raise UsageError(f"landing folder {landing} does not exist or is not a folder")


def cmd_run(args: argparse.Namespace) -> int:
    _configure_paths(args.landing, args.data)
    _require_landing_dir()
    return _execute(args, lambda console: (None, None), skip_if_unchanged=not args.full_refresh)


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
    return _execute(args, lambda console: (start, end))


def _describe(publication: dict, settings) -> str:
    """The summary: what was published (or why not), rows, checks, where to look next."""
    days = publication.get("partitions")
    covered = f" (days {days['start']} to {days['end']}, UTC)" if days else ""
    lines = []
    if publication.get("status") == "unchanged":
        lines.append(
            f"Nothing new: published version {publication['version']} stays current "
            f"(published {publication['published_at']})"
        )
        lines.append(f"  {'why':<9}{publication['reason']}")
    elif publication.get("status") == "published":
        counts = publication.get("row_counts", {})
        lines.append(
            f"Published version {publication['version']}{covered}: "
            f"{sum(counts.values()):,} rows in {len(counts)} marts"
        )
    else:
        lines.append(f"NOT published{covered}; the previous publication stays as it was:")
        failures = publication.get("failures") or [publication.get("reason")]
        lines += [f"  - {failure}" for failure in failures]
    ingest = publication.get("ingest") or {}
    if ingest:
        rows = (
            f"{ingest.get('rows_loaded', 0):,} loaded, {ingest.get('rows_replayed', 0):,} "
            f"replayed, {ingest.get('rows_quarantined', 0):,} quarantined"
        )
        if ingest.get("files_rejected"):
            rows += f", {ingest['files_rejected']:,} files rejected"
        if ingest.get("rows_quarantined") or ingest.get("files_rejected"):
            rows += f" (why: campaign-warehouse quarantine --data {settings.data_dir})"
        lines.append(f"  {'rows':<9}{rows}")
    checks = publication.get("checks") or []
    if checks:
        passed = sum(1 for c in checks if c.get("passed"))
        warned = sorted(c["check"] for c in checks if not c.get("passed") and not c["blocking"])
        blocked = sum(1 for c in checks if not c.get("passed") and c["blocking"])
        text = f"{passed:,} passed, {blocked} blocking failed, {len(warned)} warnings"
        lines.append(f"  {'checks':<9}{text}" + (f": {', '.join(warned[:3])}" if warned else ""))
        if len(warned) > 3:
            lines[-1] += f" and {len(warned) - 3} more (in the log)"
    lines += [f"  {'warning':<9}{warning}" for warning in publication.get("warnings", [])]
    if publication.get("status") in ("published", "unchanged"):
        lines.append(f"  {'marts':<9}{publication['path']}")
        if publication.get("reports"):
            lines.append(f"  {'reports':<9}{publication['reports']}")
        else:
            lines.append(f"  {'reports':<9}NOT written (see the log)")
    lines.append(f"  {'log':<9}{publication.get('log')}")
    return "\n".join(lines)


def _closing_hint(settings) -> str:
    """How to look at what was published, with tools this installation has."""
    query = (
        f"import duckdb; duckdb.connect({str(settings.reports_path)!r}, read_only=True)"
        ".sql('from mart_campaign_summary').show()"
    )
    return f'Query the marts: {sys.executable} -c "{query}"'


def _demo_days_to_run(landing: Path) -> tuple[str | None, str | None]:
    """The demo's whole period (its first day to yesterday) as one run, so every daily partition
    of a complete demo is materialized; the partitions start at its first day."""
    from demo_data import landing_period

    period = landing_period(landing)
    if period is None:
        return None, None  # not generated by us: yesterday, as `run`
    first_day = period[0]
    os.environ.setdefault("CW_PARTITIONS_START", first_day.isoformat())
    from orchestration.partitions import last_complete_partition_key
    from orchestration.settings import partitions_start

    last = last_complete_partition_key(datetime.now(UTC))
    first = max(first_day, partitions_start()).isoformat()
    return (first, last) if last and first <= last else (None, None)


def cmd_demo(args: argparse.Namespace) -> int:
    _configure_paths(args.landing, args.data)
    args.full_refresh = False
    from orchestration.settings import Settings

    def plan(console: Console) -> tuple[str | None, str | None]:
        landing = Settings.from_env().landing_dir
        if not landing.exists() or not any(landing.iterdir()):
            started = time.time()
            done = _generate(landing, args.scale, 42, None, args.days)
            console.step("generate", done, time.time() - started)
        return _demo_days_to_run(landing)

    code = _execute(args, plan)
    if code == EXIT_OK:
        print(_closing_hint(Settings.from_env()))
    return code


def _read_only_settings():
    """Settings for commands that only read: the PII-key warning is about writing, not here."""
    import logging

    from orchestration.settings import Settings

    logging.getLogger("orchestration.settings").setLevel(logging.ERROR)
    return Settings.from_env()


def cmd_report(args: argparse.Namespace) -> int:
    """Write campaign reports from the published marts (never the working warehouse)."""
    _configure_paths(None, args.data)
    from reporting import write_reports

    settings = _read_only_settings()
    single = args.campaign or args.mailing
    out = Path(args.out) if args.out else None
    if out is not None and single is None and out.suffix == ".html":
        raise UsageError("--out is a folder when writing every campaign (or use --campaign ID)")
    written = write_reports(
        settings.reports_path,
        out_dir=(out if out and single is None else settings.data_dir / "reports"),
        currency=settings.currency,
        campaign=args.campaign,
        mailing=args.mailing,
        out_file=out if single else None,
    )
    for path in written.campaigns.values():
        print(path)
    if written.index:
        print(f"{written.index}  (index of {len(written.campaigns)} campaigns)")
    print(f"from published version {written.version} ({settings.reports_path})", file=sys.stderr)
    return EXIT_OK


def cmd_quarantine(args: argparse.Namespace) -> int:
    """What ingestion could not load: counts by feed and reason, then examples."""
    _configure_paths(None, args.data)
    from orchestration.quarantine_listing import describe_quarantine

    print(describe_quarantine(_read_only_settings().warehouse_path, args.feed, args.limit))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="campaign-warehouse",
        description=__doc__.split("\n")[0],
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    gen = command(
        "generate",
        "write a demo landing zone",
        "Write a deterministic demo landing zone (every feed, with realistic bad rows).",
    )
    gen.add_argument("--out", required=True, help="landing zone folder to write")
    gen.add_argument("--scale", type=_positive_int, default=1, help="size (default: 1)")
    gen.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    gen.add_argument(
        "--start", type=_iso_date, help="first day, YYYY-MM-DD (default: so that it ends yesterday)"
    )
    gen.add_argument("--days", type=_demo_days, default=30, help="days, 3 or more (default: 30)")
    gen.set_defaults(func=cmd_generate)

    for name, func, summary, text in (
        (
            "run",
            cmd_run,
            "ingest, build yesterday (UTC), check, publish",
            "Ingest every new file, build the models for yesterday (UTC), run the checks and "
            "publish the marts and the campaign reports if every blocking check passed. With "
            "nothing new (every landed file ingested before the current publication, the same "
            "code and settings) it builds nothing and says the published version stays (exit 0).",
        ),
        (
            "backfill",
            cmd_backfill,
            "run the pipeline once over a range of days",
            "Like run, once over a range of complete UTC days (one run, one window).",
        ),
        (
            "demo",
            cmd_demo,
            "generate demo data if the landing zone is empty, then run",
            "Generate demo data (ending yesterday) if the landing zone is empty, then run the "
            "pipeline over the demo's days and publish.",
        ),
    ):
        cmd = command(name, summary, text)
        cmd.add_argument(
            "--landing", help="landing zone (default: $CW_LANDING_DIR, else data/landing)"
        )
        cmd.add_argument("--data", help="data directory (default: $CW_DATA_DIR, else data)")
        cmd.add_argument(
            "--verbose", action="store_true", help="show Dagster's and dbt's logs on stderr too"
        )
        cmd.add_argument("--json", action="store_true", help="print the publication record as JSON")
        cmd.add_argument(
            "--engine",
            choices=ENGINES,
            help="where dbt builds: duckdb or spark (default: $CW_ENGINE, else duckdb)",
        )
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
    demo = sub.choices["demo"]
    demo.add_argument("--scale", type=_positive_int, default=1, help="size (default: 1)")
    demo.add_argument("--days", type=_demo_days, default=30, help="days (default: 30)")

    report = command(
        "report",
        "write campaign reports (HTML) from the published marts",
        "Write one self-contained HTML page per campaign (charts inline, works offline) from "
        "the last publication (reports.duckdb, read-only). Every publication also writes them "
        "under <data>/exports/<version>/reports/.",
    )
    which = report.add_mutually_exclusive_group()
    which.add_argument("--campaign", metavar="ID", help="one campaign")
    which.add_argument("--mailing", metavar="ID", help="one mailing (its campaign's page)")
    which.add_argument("--all", action="store_true", help="every campaign + index (default)")
    report.add_argument("--data", help="data directory (default: $CW_DATA_DIR, else data)")
    report.add_argument(
        "--out",
        metavar="PATH",
        help="file for one campaign/mailing, folder for all (default: <data>/reports/)",
    )
    report.set_defaults(func=cmd_report)

    quarantine = command(
        "quarantine",
        "list the rows and files ingestion could not load, and why",
        "Count the quarantined rows and rejected files by feed and reason, with examples "
        "(audit.quarantine of the warehouse; personal data masked).",
    )
    quarantine.add_argument("--feed", help="one feed (default: all)")
    quarantine.add_argument("--data", help="data directory (default: $CW_DATA_DIR, else data)")
    quarantine.add_argument(
        "--limit", type=_positive_int, default=5, help="examples with --feed (default: 5)"
    )
    quarantine.set_defaults(func=cmd_quarantine)
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
    from reporting import ReportError, UnknownReportTargetError

    parser = build_parser()
    args = parser.parse_args(argv)
    stop_signals.install()
    try:
        _configure_engine(getattr(args, "engine", None))
        return args.func(args)
    except (UsageError, UnknownReportTargetError) as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except WarehouseLockedError as error:
        print(f"campaign-warehouse: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except ReportError as error:
        print(f"{parser.prog} {args.command}: {error}", file=sys.stderr)
        return EXIT_NOT_PUBLISHED
    except Exception as error:
        fault = error if isinstance(error, WarehouseStorageError) else None
        fault = fault or fault_from_exception(error, Settings.from_env())
        if fault is None:
            raise
        print(f"campaign-warehouse: {fault}", file=sys.stderr)
        return EXIT_STORAGE


if __name__ == "__main__":
    sys.exit(main())
