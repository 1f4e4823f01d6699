"""The Great Expectations checks (data_checks/) as Dagster multi-asset checks, one per dbt step.

Specs are static: built at import from the per-mart spec dict, the keyed-table spec dict and the
asset keys the dbt manifest and ingestion define (never from the warehouse). Error-severity checks
are blocking, so the publication waits for them and refuses when one fails.
"""

from collections.abc import Iterable

import dagster as dg

from data_checks.runner import declared_checks, run_suites
from data_checks.settings import CheckSettings
from data_checks.suites import KEYED_TABLES
from orchestration.assets.dbt import DBT_ASSET_KEYS
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
    keyed = [table for table in KEYED_TABLES if table in known]
    declared = [d for d in declared_checks(marts, keyed, settings) if d.asset_key in known]
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
        with warehouse.writer_lock(context):
            results = list(run_suites(path, settings, checks=selected))
        for result in results:
            yield dg.AssetCheckResult(
                asset_key=dg.AssetKey(result.asset_key),
                check_name=result.check_name,
                passed=result.passed,
                severity=dg.AssetCheckSeverity(result.severity),
                description=result.description,
                metadata={"failing_rows": result.failing_rows, "examples": result.examples},
            )

    return _data_quality_checks


# One definition per dbt step, so each runs as soon as its tables are built and its blocking checks
# gate what reads those tables: the checks on ingestion's audit tables, staging and the facts run
# after `dbt_staging_and_facts` and before the marts' step reads them; the checks on the
# intermediate models and marts run after `dbt_models` and before the publication. One definition
# spanning both would make a step cycle with the dbt steps, which Dagster would break by splitting
# steps itself.
FACTS_STAGE_LAYERS = ("raw", "audit", "staging", "facts")
_settings = CheckSettings.from_env()
_known = [*DBT_ASSET_KEYS, *AUDIT_KEYS]

great_expectations_facts_checks = build_data_quality_checks(
    [key for key in _known if key.path[0] in FACTS_STAGE_LAYERS],
    _settings,
    name="great_expectations_facts_checks",
)
great_expectations_checks = build_data_quality_checks(
    [key for key in _known if key.path[0] not in FACTS_STAGE_LAYERS],
    _settings,
    name="great_expectations_checks",
)
GREAT_EXPECTATIONS_CHECKS = [great_expectations_facts_checks, great_expectations_checks]
