"""Dagster resources: the warehouse (paths and installation settings) as one resource."""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.settings import Settings
from orchestration.warehouse_lock import connect_warehouse, warehouse_writer_lock

# Every asset that writes warehouse.duckdb runs in this pool; DuckDB allows a single writer process.
WAREHOUSE_WRITER_POOL = "duckdb_warehouse_writer"


class WarehouseResource(dg.ConfigurableResource):
    """Where the pipeline reads and writes, and the installation settings the steps need."""

    landing_dir: str
    data_dir: str
    reporting_timezone: str = "Europe/Moscow"
    currency: str = "RUB"
    default_attribution_days: int = 7
    hard_bounce_threshold: int = 3
    lookback_days: int | None = None
    provider_delay_days: int = 3
    # Secret: in Definitions it is bound to dg.EnvVar("CW_PII_HASH_KEY") when that is set.
    pii_hash_key: str
    # The PostgreSQL publication (secret: bound to dg.EnvVar("CW_PUBLISH_POSTGRES_URL")).
    publish_postgres_url: str | None = None
    publish_postgres_readers: list[str] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        # Keep a real key out of run config and the UI: resolve it from the environment at run time.
        key = dg.EnvVar("CW_PII_HASH_KEY") if os.environ.get("CW_PII_HASH_KEY") else None
        return cls(
            landing_dir=str(settings.landing_dir),
            data_dir=str(settings.data_dir),
            reporting_timezone=settings.reporting_timezone,
            currency=settings.currency,
            default_attribution_days=settings.default_attribution_days,
            hard_bounce_threshold=settings.hard_bounce_threshold,
            lookback_days=settings.lookback_days,
            provider_delay_days=settings.provider_delay_days,
            pii_hash_key=key or settings.pii_hash_key,
            publish_postgres_url=dg.EnvVar("CW_PUBLISH_POSTGRES_URL")
            if settings.publish_postgres_url and os.environ.get("CW_PUBLISH_POSTGRES_URL")
            else settings.publish_postgres_url,
            publish_postgres_readers=list(settings.publish_postgres_readers),
        )

    @property
    def settings(self) -> Settings:
        return Settings(
            landing_dir=Path(self.landing_dir),
            data_dir=Path(self.data_dir),
            reporting_timezone=self.reporting_timezone,
            currency=self.currency,
            default_attribution_days=self.default_attribution_days,
            hard_bounce_threshold=self.hard_bounce_threshold,
            pii_hash_key=self.pii_hash_key,
            lookback_days=self.lookback_days,
            provider_delay_days=self.provider_delay_days,
            publish_postgres_url=self.publish_postgres_url or None,
            publish_postgres_readers=tuple(self.publish_postgres_readers),
        )

    def dbt_vars_arg(self) -> str:
        """The `--vars` JSON: the installation settings (never per-run values: see run_window)."""
        return json.dumps(self.settings.dbt_vars())

    def writer_lock(self, context=None):
        """Hold the process-level writer lock of this warehouse (orchestration/warehouse_lock.py).

        With a step's context (asset or asset check), the lock file names the run and the step.
        """
        what = None
        if context is not None:
            what = f"Dagster run {context.run.run_id} step {context.op_def.name}"
        return warehouse_writer_lock(self.settings.warehouse_path, what=what)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        path = self.settings.warehouse_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return connect_warehouse(path, read_only=read_only)


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, without a `dbt --version` process on every run.

    dagster-dbt asks the dbt executable for its version before the first dbt command of a run: one
    more dbt start-up, which also asks PyPI for the latest release (seconds, and a network call in
    every run). Ours is the dbt-core installed beside Dagster (pinned in constraints.txt).
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)
