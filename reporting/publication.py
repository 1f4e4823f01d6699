"""The reports of a publication: `exports/<version>/reports/` (index.html + one page a campaign).

Called by the publish step right after the swap. A report that cannot be written never
un-publishes (the marts are published and correct without it): the failure is logged as an error
with its traceback, and the step goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path

from reporting.page import write_reports

log = logging.getLogger(__name__)


def publication_reports_dir(exports_dir: Path, version: str) -> Path:
    return exports_dir / version / "reports"


def write_publication_reports(
    reports_path: Path,
    exports_dir: Path,
    version: str,
    currency: str,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> Path | None:
    """Write every campaign's report of publication `version`; its index, or None on failure."""
    logger = logger or log
    out_dir = publication_reports_dir(exports_dir, version)
    try:
        written = write_reports(reports_path, out_dir, currency)
        if written.version != version:
            raise RuntimeError(f"{reports_path} holds version {written.version}, not {version}")
    except Exception:  # a report must never un-publish: log it loudly and carry on
        logger.exception(
            f"CAMPAIGN REPORTS NOT WRITTEN for published version {version} (the marts ARE "
            "published); fix the cause, then run `campaign-warehouse report --all`"
        )
        return None
    logger.info(f"wrote {len(written.campaigns)} campaign reports: {written.index}")
    return written.index
