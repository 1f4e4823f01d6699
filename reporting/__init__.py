"""Campaign reports: self-contained HTML pages (inline SVG charts, no script, no request to any
host) rendered from the published marts (`reports.duckdb`, read-only), never the working warehouse.

Modules: `data` (queries), `views` (what a page shows, formatted), `charts` (SVG), `formatting`
(numbers for people), `page` (Jinja2 templates and writing files), `publication` (the reports of
each publication under `exports/<version>/reports/`).
"""

from reporting.data import ReportError, UnknownReportTargetError
from reporting.page import WrittenReports, write_reports

__all__ = ["ReportError", "UnknownReportTargetError", "WrittenReports", "write_reports"]
