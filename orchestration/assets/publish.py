"""The publish step: ask the gate (orchestration/publication_gate.py), then write what it decided
(orchestration/publishing.py), then the campaign reports of a new publication."""

import dagster as dg

from orchestration.assets.dbt import DBT_ASSET_KEYS, dbt_project
from orchestration.mart_docs import load_mart_docs
from orchestration.publication_gate import PUBLISHED_KEY, decide_publication
from orchestration.publishing import publish, record_for, refuse
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from reporting.publication import write_publication_reports

MART_KEYS = sorted(
    (key for key in DBT_ASSET_KEYS if key.path[0] == "marts"),
    key=lambda key: key.to_user_string(),
)


@dg.asset(
    key=PUBLISHED_KEY,
    deps=MART_KEYS,
    group_name="published",
    kinds={"duckdb"},
    pool=WAREHOUSE_WRITER_POOL,
    description="The marts as BI tools read them (`reports.duckdb`), published only when every "
    "blocking check of this build ran and passed; recorded in `publications`.",
)
def published_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    with warehouse.writer_lock(context):
        with warehouse.connect() as conn:
            decision = decide_publication(
                context.instance,
                context.run_id,
                context.job_def.asset_layer.asset_graph,
                conn,
                settings.reports_path,
            )
        record = record_for(context.run_id, decision)
        if not decision.passed:
            refuse(settings, record)
            raise dg.Failure(description=decision.summary(), metadata={"version": record.version})
        publish(settings, record, load_mart_docs(dbt_project.manifest_path))
        context.log.info(f"published version {record.version}: {decision.summary()}")
        # logs a failure loudly; never un-publishes
        reports = write_publication_reports(
            settings.reports_path,
            settings.exports_dir,
            record.version,
            settings.currency,
            context.log,
        )
    return dg.MaterializeResult(
        metadata={
            "version": record.version,
            "path": dg.MetadataValue.path(str(settings.reports_path)),
            "blocking_checks_passed": sum(1 for o in decision.outcomes if o.blocking),
            "reports": dg.MetadataValue.path(str(reports) if reports else "NOT WRITTEN (see log)"),
            **{f"rows/{mart}": count for mart, count in record.row_counts.items()},
        }
    )
