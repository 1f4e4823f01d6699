"""Ingestion assets: one Dagster asset per raw table, all produced by one subsettable step.

The work itself lives in the `ingestion` package (no Dagster there); this module only maps feeds to
asset keys and reports per-feed accounting as materialization metadata.
"""

import dagster as dg

from ingestion import IngestSettings, ingest_landing_zone
from orchestration.engine import land_raw_tables_for_engine
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource

# Feed folder in the landing zone -> raw tables it loads (docs/architecture.md).
FEED_TABLES: dict[str, tuple[str, ...]] = {
    "campaigns": ("campaigns",),
    "mailings": ("mailings",),
    "audience": ("audience",),
    "dispatches": ("dispatches",),
    "sendgrid": ("sendgrid_events",),
    "twilio": ("twilio_messages",),
    "twilio_clicks": ("twilio_clicks",),
    "push": ("push_events",),
    "events": ("events",),
    "products": ("products",),
    "receipts": ("receipts",),
    "receipt_lines": ("receipt_lines",),
    "orders": ("orders", "order_lines"),
    "holdouts": ("holdouts",),
    "message_prices": ("message_prices",),
}
TABLE_FEED = {table: feed for feed, tables in FEED_TABLES.items() for table in tables}
AUDIT_KEYS = (dg.AssetKey(["audit", "ingested_files"]), dg.AssetKey(["audit", "quarantine"]))


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


@dg.multi_asset(
    name="ingest_landing_zone",
    specs=[
        dg.AssetSpec(
            raw_key(table),
            group_name="raw",
            kinds={"duckdb", "python"},
            description=f"Raw `{table}` rows from the `{feed}` feed: typed, PII hashed, "
            "with file lineage; bad rows go to audit.quarantine.",
            skippable=True,
        )
        for feed, tables in FEED_TABLES.items()
        for table in tables
    ]
    + [
        dg.AssetSpec(
            AUDIT_KEYS[0],
            group_name="audit",
            kinds={"duckdb"},
            description="Every landed file with its accounting: rows read = loaded + replayed + "
            "quarantined.",
            skippable=True,
        ),
        dg.AssetSpec(
            AUDIT_KEYS[1],
            group_name="audit",
            kinds={"duckdb"},
            description="Rows and files that could not be loaded, with file, row and reason.",
            skippable=True,
        ),
    ],
    can_subset=True,
    pool=WAREHOUSE_WRITER_POOL,
)
def ingest_landing_zone_asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Load every newly landed file of the selected feeds into the raw tables."""
    selected = context.selected_asset_keys
    feeds = sorted({TABLE_FEED[key.path[1]] for key in selected if key.path[0] == "raw"}) or sorted(
        FEED_TABLES
    )
    settings = warehouse.settings
    with warehouse.writer_lock(context):
        report = ingest_landing_zone(
            warehouse_path=settings.warehouse_path,
            landing_dir=settings.landing_dir,
            settings=IngestSettings(
                pii_hash_key=settings.pii_hash_key,
                currency=settings.currency,
                duckdb_memory_limit=settings.duckdb_memory_limit,
                duckdb_threads=settings.duckdb_threads,
            ),
            feeds=feeds,
        )
        land_raw_tables_for_engine(settings)
    summaries = report.feed_summaries()
    for feed in feeds:
        summary = summaries.get(feed, {})
        for table in FEED_TABLES[feed]:
            if raw_key(table) in selected:
                yield dg.MaterializeResult(
                    asset_key=raw_key(table),
                    metadata={name: dg.MetadataValue.int(int(v)) for name, v in summary.items()},
                )
    totals = report.totals()
    for key in AUDIT_KEYS:
        if key in selected:
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={name: dg.MetadataValue.int(int(v)) for name, v in totals.items()},
            )
