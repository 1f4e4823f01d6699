"""Installation settings: one documented place, read from environment variables with defaults.

Every setting is an env var (see README "Configuration"); the CLI's flags only set these env vars,
so the Dagster UI, the CLI and dbt all see the same configuration.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

# Set in the environment of every dbt process a Dagster step starts (orchestration/assets/dbt.py),
# so that recovery finds the dbt processes of a dead run (orchestration/recovery.py).
DBT_RUN_ID_VARIABLE = "CW_DAGSTER_RUN_ID"

# Only for the demo: a real installation must set CW_PII_HASH_KEY (hashes are keyed by it).
DEMO_PII_HASH_KEY = "campaign-warehouse-demo-key-change-me"


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    reporting_timezone: str = "Europe/Moscow"
    currency: str = "RUB"
    default_attribution_days: int = 7
    hard_bounce_threshold: int = 3
    pii_hash_key: str = DEMO_PII_HASH_KEY
    # Days before a run's window that incremental facts rebuild too; None: dbt's own default (0).
    lookback_days: int | None = None
    # The PostgreSQL publication (orchestration/publish_postgres.py): off without a URL.
    publish_postgres_url: str | None = None
    publish_postgres_readers: tuple[str, ...] = ()
    # DuckDB's memory_limit (e.g. "6GB") and threads of every connection (duckdb_config); None:
    # DuckDB's defaults (80 % of RAM, one thread per core)
    duckdb_memory_limit: str | None = None
    duckdb_threads: int | None = None
    # The engine dbt builds on: "duckdb" (the warehouse file) or "spark" (orchestration/engine.py)
    engine: str = "duckdb"

    def __post_init__(self) -> None:
        _duckdb_config(self.duckdb_memory_limit, self.duckdb_threads)  # fails early when invalid

    def duckdb_config(self) -> dict[str, str]:
        """The DuckDB configuration of every connection the pipeline opens (see duckdb_config)."""
        return _duckdb_config(self.duckdb_memory_limit, self.duckdb_threads)

    @property
    def warehouse_path(self) -> Path:
        return Path(os.environ.get("CW_WAREHOUSE_PATH") or self.data_dir / "warehouse.duckdb")

    @property
    def reports_path(self) -> Path:
        return self.data_dir / "reports.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def spark_dir(self) -> Path:
        """The Spark engine's files: landed raw Parquet, Spark's warehouse and its metastore."""
        return Path(os.environ.get("CW_SPARK_DIR") or self.data_dir / "spark")

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's artifacts: one folder for every run (per engine), so partial parsing stays warm."""
        return self.data_dir / "dbt" / ("target" if self.engine == "duckdb" else "target-spark")

    @property
    def dbt_log_dir(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        key = env.get("CW_PII_HASH_KEY") or DEMO_PII_HASH_KEY
        if key == DEMO_PII_HASH_KEY:
            _warn_demo_key()
        return cls(
            landing_dir=Path(env.get("CW_LANDING_DIR", "data/landing")).resolve(),
            data_dir=Path(env.get("CW_DATA_DIR", "data")).resolve(),
            reporting_timezone=env.get("CW_REPORTING_TIMEZONE", "Europe/Moscow"),
            currency=env.get("CW_CURRENCY", "RUB").upper(),
            default_attribution_days=int(env.get("CW_DEFAULT_ATTRIBUTION_DAYS", "7")),
            hard_bounce_threshold=int(env.get("CW_HARD_BOUNCE_THRESHOLD", "3")),
            pii_hash_key=key,
            lookback_days=_optional_int(env.get("CW_LOOKBACK_DAYS")),
            publish_postgres_url=env.get("CW_PUBLISH_POSTGRES_URL") or None,
            publish_postgres_readers=tuple(
                role.strip()
                for role in env.get("CW_PUBLISH_POSTGRES_READERS", "").split(",")
                if role.strip()
            ),
            duckdb_memory_limit=env.get("CW_DUCKDB_MEMORY_LIMIT") or None,
            duckdb_threads=_optional_int(env.get("CW_DUCKDB_THREADS")),
            engine=engine_from(env),
        )

    def dbt_vars(self) -> dict[str, object]:
        """The settings dbt models read through `var()`."""
        dbt_vars: dict[str, object] = {
            "reporting_timezone": self.reporting_timezone,
            "currency": self.currency,
            "default_attribution_days": self.default_attribution_days,
            "hard_bounce_threshold": self.hard_bounce_threshold,
        }
        if self.lookback_days is not None:
            dbt_vars["lookback_days"] = self.lookback_days
        return dbt_vars


@functools.cache
def _warn_demo_key() -> None:  # once per process, however often the settings are read
    log.warning("CW_PII_HASH_KEY is not set: using the demo key; set it in production")


ENGINES = ("duckdb", "spark")


def engine_from(environ: Mapping[str, str] | None = None) -> str:
    """CW_ENGINE: the engine dbt builds on, duckdb (default) or spark."""
    env = os.environ if environ is None else environ
    engine = (env.get("CW_ENGINE") or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"CW_ENGINE must be one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


def _optional_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip() != "" else None


# --- DuckDB's resources: one configuration for every connection -----------------------------------
#
# CW_DUCKDB_MEMORY_LIMIT and CW_DUCKDB_THREADS bound what every DuckDB connection of the pipeline
# may use: ingestion's (IngestSettings, from Settings), the checks', the publication's, the
# reports', and dbt's (dbt_project/profiles.yml reads the same env vars). The packages that do not
# get a Settings object (data_checks, reporting) open their connections with connect_duckdb, which
# reads the env vars, so one process-wide configuration holds whoever opens the file.


def duckdb_config(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """DuckDB's `memory_limit` and `threads` from CW_DUCKDB_MEMORY_LIMIT / CW_DUCKDB_THREADS.

    Unset or empty: left out, so DuckDB's defaults apply (80 % of RAM, one thread per core).
    """
    env = os.environ if environ is None else environ
    return _duckdb_config(
        env.get("CW_DUCKDB_MEMORY_LIMIT") or None, _optional_int(env.get("CW_DUCKDB_THREADS"))
    )


def _duckdb_config(memory_limit: str | None, threads: int | None) -> dict[str, str]:
    if threads is not None and threads < 1:
        raise ValueError(f"CW_DUCKDB_THREADS must be at least 1, got {threads}")
    config = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = str(threads)
    return config


def connect_duckdb(
    path: str | Path, read_only: bool = False, environ: Mapping[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect` with the installation's DuckDB configuration (duckdb_config)."""
    return duckdb.connect(str(path), read_only=read_only, config=duckdb_config(environ))


# Scheduling settings: read where the Dagster definitions are built (module import), not per run.
DEFAULT_PARTITIONS_START = "2025-01-01"
DEFAULT_NIGHTLY_HOUR = 2
DEFAULT_WRITER_LOCK_TIMEOUT_SECONDS = 60.0


def partitions_start(environ: Mapping[str, str] | None = None) -> date:
    """CW_PARTITIONS_START: the first daily partition (UTC), YYYY-MM-DD."""
    env = os.environ if environ is None else environ
    return date.fromisoformat(env.get("CW_PARTITIONS_START") or DEFAULT_PARTITIONS_START)


def nightly_hour(environ: Mapping[str, str] | None = None) -> int:
    """CW_NIGHTLY_HOUR: the UTC hour of the nightly run (0-23)."""
    env = os.environ if environ is None else environ
    hour = int(env.get("CW_NIGHTLY_HOUR") or DEFAULT_NIGHTLY_HOUR)
    if not 0 <= hour <= 23:
        raise ValueError(f"CW_NIGHTLY_HOUR must be an hour 0-23, got {hour}")
    return hour


def writer_lock_timeout_seconds(environ: Mapping[str, str] | None = None) -> float:
    """CW_WRITER_LOCK_TIMEOUT_SECONDS: how long a writer waits for the warehouse writer lock."""
    env = os.environ if environ is None else environ
    return float(env.get("CW_WRITER_LOCK_TIMEOUT_SECONDS") or DEFAULT_WRITER_LOCK_TIMEOUT_SECONDS)
