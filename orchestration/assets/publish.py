"""The publish step: the gate, then the atomic copy of the marts into the BI-ready file."""

import dagster as dg

from data_checks.emptied_marts import (
    add_to_decision,
    built_mart_rows,
    emptied_marts_outcome,
    published_rows,
)
from orchestration.assets.dbt import DBT_ASSET_KEYS, dbt_project
from orchestration.mart_docs import load_mart_docs
from orchestration.publish_postgres import postgres_mirror
from orchestration.publishing import (
    PublicationRecord,
    new_version,
    publish_marts,
    publish_refusal,
    record_publication,
)
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from orchestration.run_checks import PUBLISHED_KEY, decide_for_run
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
    with warehouse.writer_lock(context):
        return _publish(context, warehouse)


def _publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    mirror = postgres_mirror(settings.publish_postgres_url, list(settings.publish_postgres_readers))
    decision = decide_for_run(
        context.instance, context.run_id, context.job_def.asset_layer.asset_graph
    )
    with warehouse.connect() as conn:  # blocking too: never blank reports that had rows
        built = built_mart_rows(conn)
    add_to_decision(decision, emptied_marts_outcome(built, published_rows(settings.reports_path)))
    record = PublicationRecord(
        version=new_version(context.run_id),
        run_id=context.run_id,
        status="published" if decision.passed else "refused",
        reason=None if decision.passed else decision.summary(),
        checks=[outcome.as_dict() for outcome in decision.outcomes],
    )
    if not decision.passed:
        with warehouse.connect() as conn:
            record_publication(conn, record)
        publish_refusal(settings.warehouse_path, settings.reports_path, record, mirror)
        raise dg.Failure(description=decision.summary(), metadata={"version": record.version})

    docs = load_mart_docs(dbt_project.manifest_path)
    publish_marts(
        settings.warehouse_path, settings.reports_path, settings.exports_dir, record, docs, mirror
    )
    with warehouse.connect() as conn:
        record_publication(conn, record)
    context.log.info(f"published version {record.version}: {decision.summary()}")
    reports = write_publication_reports(  # logs a failure loudly; never un-publishes
        settings.reports_path, settings.exports_dir, record.version, settings.currency, context.log
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
