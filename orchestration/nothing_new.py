"""Nothing new to build: a `run` that finds nothing new skips Dagster, dbt, the checks and the
publication, says so, and leaves the published version as it is.

A run's outcome depends on the landed data, the code and the settings. So `run` skips the build
only when every one of these holds (otherwise it runs as usual):

- every file of the landing zone is known to `audit.ingested_files` (ingestion would load, reject
  or quarantine nothing), and no file was ingested after the latest publication record;
- that latest record is a publication (not a refusal), and `reports.duckdb` holds its version;
- the run that published it was built from the same code and settings: its build fingerprint
  (`audit.build_fingerprints`, written by every dbt run, orchestration/assets/dbt.py) equals the
  current one;
- the run is not a `--full-refresh`, and feed freshness does not block publication (a check that
  depends on the clock, not on the data, so only a build can say). A stale feed's warning is
  reported all the same: a nothing-new run is when feeds go stale.

Anything that cannot be read (a damaged warehouse, a missing table) means "not known to be
unchanged": the run goes on and meets the problem where it has its own guidance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import duckdb

from data_checks.settings import CheckSettings
from orchestration.settings import Settings

REPO = Path(__file__).resolve().parents[1]
# What a build runs: the dbt project and the Python that ingests, checks and publishes.
CODE_FOLDERS = ("dbt_project", "ingestion", "data_checks", "orchestration", "reporting")
NOT_CODE = {"target", "logs", "dbt_packages", "__pycache__"}
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "dagster", "dagster-dbt", "great_expectations")

FINGERPRINTS_DDL = """
create table if not exists audit.build_fingerprints (
    run_id varchar not null,
    fingerprint varchar not null,
    recorded_at timestamp not null default (now() at time zone 'UTC')
)
"""


def _code_files(root: Path) -> list[Path]:
    files = []
    for folder in CODE_FOLDERS:
        for path in (root / folder).rglob("*"):
            parts = path.relative_to(root).parts
            if path.is_file() and not any(p in NOT_CODE or p.startswith(".") for p in parts):
                files.append(path)
    return sorted(files)


def build_fingerprint(
    settings: Settings, checks: CheckSettings | None = None, root: Path = REPO
) -> str:
    """sha256 of what a build's result depends on besides the data: the code (every file of the
    dbt project and the Python packages), the packages' versions and the settings (except paths
    and the PII key, which change no table built from the raw rows)."""
    digest = hashlib.sha256()
    for path in _code_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    versions = {name: _version(name) for name in PACKAGES}
    shown = {
        k: v
        for k, v in asdict(settings).items()
        if k not in ("landing_dir", "data_dir", "pii_hash_key")
    }
    checks = checks or CheckSettings.from_env()
    # freshness reads the clock, not the build: a nothing-new run evaluates it itself
    judged = {k: v for k, v in asdict(checks).items() if not k.startswith("freshness_")}
    judged.pop("now", None)
    described = {"versions": versions, "settings": shown, "checks": judged}
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def record_build_fingerprint(conn: duckdb.DuckDBPyConnection, run_id: str, fingerprint: str):
    """The fingerprint of the code and settings this run builds with (one row per run)."""
    conn.execute("create schema if not exists audit")
    conn.execute(FINGERPRINTS_DDL)
    conn.execute("delete from audit.build_fingerprints where run_id = ?", [run_id])
    conn.execute(
        "insert into audit.build_fingerprints values (?, ?, default)", [run_id, fingerprint]
    )


@dataclass(frozen=True)
class Unchanged:
    """The publication a nothing-new run leaves as it is."""

    version: str
    run_id: str
    recorded_at: str
    row_counts: dict[str, int]
    landed_files: int
    stale_feeds: tuple[str, ...] = ()  # the freshness check's warnings, which a build would give

    def as_publication(self, reports_path: Path) -> dict:
        """The run's record, shaped as the CLI prints a publication (`--json` too)."""
        return {
            "status": "unchanged",
            "version": self.version,
            "run_id": None,
            "published_by_run": self.run_id,
            "published_at": self.recorded_at,
            "reason": f"nothing new landed ({self.landed_files:,} files, all ingested before "
            f"version {self.version}); code and settings unchanged: nothing built, checked or "
            "published",
            "row_counts": self.row_counts,
            "checks": [],
            "failures": [],
            "path": str(reports_path),
        }


def unchanged_publication(settings: Settings, full_refresh: bool = False) -> Unchanged | None:
    """The current publication when nothing new would be built from it, else None."""
    checks = CheckSettings.from_env()
    if full_refresh or checks.freshness_blocking:
        return None
    if not (settings.warehouse_path.exists() and settings.reports_path.exists()):
        return None
    try:
        return _unchanged(settings, checks)
    except duckdb.Error:  # damaged or foreign file: the build says what is wrong, with guidance
        return None


def _unchanged(settings: Settings, checks: CheckSettings) -> Unchanged | None:
    from data_checks.metrics import describe_stale, stale_feeds
    from ingestion.discovery import discover
    from ingestion.feeds import FEEDS
    from ingestion.registry import KnownFiles

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "select table_name from duckdb_tables() where schema_name = 'audit'"
            ).fetchall()
        }
        if not {"publications", "build_fingerprints", "ingested_files"} <= tables:
            return None
        latest = conn.execute(
            "select p.version, p.run_id, p.recorded_at, p.status, p.row_counts, f.fingerprint, "
            "  (select max(ingested_at) from audit.ingested_files) > p.recorded_at "
            "from audit.publications p "
            "left join audit.build_fingerprints f using (run_id) "
            "order by p.recorded_at desc limit 1"
        ).fetchone()
        if latest is None:
            return None
        version, run_id, recorded_at, status, row_counts, fingerprint, ingested_since = latest
        if status != "published" or ingested_since:
            return None
        if fingerprint != build_fingerprint(settings, checks):
            return None
        known = KnownFiles.load(conn)
        _, stale = stale_feeds(conn, checks)
    with duckdb.connect(str(settings.reports_path), read_only=True) as reports:
        (published,) = reports.execute(
            "select version from main.publications where status = 'published' "
            "order by recorded_at desc limit 1"
        ).fetchone() or (None,)
    if published != version:
        return None
    landed = discover(settings.landing_dir, FEEDS, include_unknown=True)
    if not all(known.has(landed_file) for landed_file in landed):
        return None
    return Unchanged(
        version=version,
        run_id=run_id,
        recorded_at=f"{recorded_at:%Y-%m-%d %H:%M:%S} UTC",
        row_counts=json.loads(row_counts or "{}"),
        landed_files=len(landed),
        stale_feeds=describe_stale(stale, limit=len(stale)),
    )
