"""The Great Expectations checks (data_checks/) as one Dagster multi-asset check.

Specs are static: built at import from the per-mart spec dict, the staged-feed spec dict and the
asset keys the dbt manifest and ingestion define (never from the warehouse). Error-severity checks
are blocking, so the publication waits for them and refuses when one fails.
"""

from collections.abc import Iterable

import dagster as dg

from data_checks.runner import declared_checks, run_suites
from data_checks.settings import CheckSettings
from data_checks.suites import STAGING_SPECS
from orchestration.assets.dbt import campaign_warehouse_dbt_models
from orchestration.assets.ingestion import AUDIT_KEYS
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource


def build_data_quality_checks(
    known_keys: Iterable[dg.AssetKey],
    settings: CheckSettings | None = None,
    name: str = "great_expectations_checks",
) -> dg.AssetChecksDefinition:
    """One multi-asset check holding every GX check whose asset is among `known_keys`."""
    settings = settings or CheckSettings()
    known = {tuple(key.path) for key in known_keys}
    marts = [table for schema, table in (k for k in known if len(k) == 2) if schema == "marts"]
    staging = [t for t in STAGING_SPECS if ("staging", t) in known]
    declared = [d for d in declared_checks(marts, staging, settings) if d.asset_key in known]
    specs = [
        dg.AssetCheckSpec(
            name=check.name,
            asset=dg.AssetKey(list(check.asset_key)),
            blocking=check.blocking,
            description=check.description,
        )
        for check in declared
    ]

    @dg.multi_asset_check(
        specs=specs,
        name=name,
        can_subset=True,
        pool=WAREHOUSE_WRITER_POOL,
        description="Great Expectations suites on the marts and staged feeds, and aggregate "
        "checks (unmatched provider events, receipt totals, feed freshness).",
    )
    def _data_quality_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        selected = [(tuple(k.asset_key.path), k.name) for k in context.selected_asset_check_keys]
        path = warehouse.settings.warehouse_path
        for result in run_suites(path, settings, checks=selected):
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(result.asset_key),
                check_name=result.check_name,
                passed=result.passed,
                severity=dg.AssetCheckSeverity(result.severity),
                description=result.description,
                metadata={"failing_rows": result.failing_rows, "examples": result.examples},
            )

    return _data_quality_checks


great_expectations_checks = build_data_quality_checks(
    [*campaign_warehouse_dbt_models.keys, *AUDIT_KEYS], CheckSettings.from_env()
)
