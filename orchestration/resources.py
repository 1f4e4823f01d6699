"""Dagster resources: the warehouse (paths and installation settings), and dbt's CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.settings import Settings
from orchestration.warehouse_lock import connect_warehouse, warehouse_writer_lock

# Every asset that writes warehouse.duckdb runs in this pool; DuckDB allows a single writer process.
WAREHOUSE_WRITER_POOL = "duckdb_warehouse_writer"


class Warehouse:
    """Where the pipeline reads and writes, and the installation settings the steps need.

    Holds the one `Settings` that orchestration/definitions.py reads from the environment, rather
    than restating its fields as Dagster config: the settings are env vars (README
    "Configuration"), and the PII hash key stays out of run config and the UI.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

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


# How a step or sensor asks for the `warehouse` resource (a plain object, see Warehouse).
WarehouseResource = dg.ResourceParam[Warehouse]


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, without the dbt start-up work it does in Dagster's process.

    - dagster-dbt asks the dbt executable for its version before the first dbt command of a run:
      one more dbt start-up, which also asks PyPI for the latest release (seconds, and a network
      call in every run). Ours is the dbt-core installed beside Dagster (pinned in
      constraints.txt).
    - Before every dbt command it also loads the profile and project and builds a dbt adapter in
      Dagster's own process (2-3 s a dbt step, benchmarks/fixed_cost_profile.md), used only by
      `fetch_row_counts()` / `fetch_column_metadata()`, which our dbt assets do not call.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None
