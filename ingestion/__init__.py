"""Ingestion: landed files -> typed, PII-hashed raw tables with per-file accounting.

Pure Python + DuckDB (no Dagster). Public API::

    from ingestion import IngestSettings, ingest_landing_zone, FEEDS
    report = ingest_landing_zone(warehouse_path, landing_dir, IngestSettings(pii_hash_key="..."))
    report.feed_summaries()  # {feed: {files, files_loaded, ..., rows_read, rows_loaded, ...}}
"""

from __future__ import annotations

from .feeds import FEEDS, FeedSpec, Field
from .pipeline import IngestSettings, ingest_landing_zone
from .report import FileReport, IngestReport

__all__ = [
    "FEEDS",
    "FeedSpec",
    "Field",
    "FileReport",
    "IngestReport",
    "IngestSettings",
    "ingest_landing_zone",
]
