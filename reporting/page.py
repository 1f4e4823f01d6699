"""Render the pages (Jinja2) and write them: one self-contained HTML file per campaign, an index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from reporting import data
from reporting import formatting as f
from reporting.views import campaign_view

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("reporting", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass
class WrittenReports:
    version: str
    campaigns: dict[str, Path]  # campaign id -> file
    index: Path | None = None


def campaign_file_name(campaign_id: str, mailing: str | None = None) -> str:
    return f"mailing-{mailing}.html" if mailing else f"campaign-{campaign_id}.html"


def render_campaign(
    report: data.CampaignReport, publication: data.Publication, currency: str
) -> str:
    view = campaign_view(report, currency)
    return _ENV.get_template("campaign.html.j2").render(view=view, publication=publication)


def render_index(
    reports: list[data.CampaignReport],
    files: dict[str, Path],
    publication: data.Publication,
    currency: str,
) -> str:
    entries = []
    for report in reports:
        c, h = report.campaign, report.headline
        entries.append(
            {
                "campaign_id": report.campaign_id,
                "file": files[report.campaign_id].name,
                "name": c.get("name") or "",
                "type": c.get("type") or "",
                "channels": c.get("channels") or "",
                "first_sent": f.when(c.get("first_sent_at")),
                "mailings": f.count(h.get("mailings")),
                "sent": f.count(h.get("sent")),
                "delivered": f.count(h.get("delivered")),
                "revenue": f.money(h.get("direct_revenue"), currency),
            }
        )
    return _ENV.get_template("index.html.j2").render(entries=entries, publication=publication)


def write_reports(
    reports_path: Path,
    out_dir: Path,
    currency: str,
    campaign: str | None = None,
    mailing: str | None = None,
    out_file: Path | None = None,
) -> WrittenReports:
    """Write the reports of the published marts in `reports_path` into `out_dir`.

    All campaigns (and `index.html`) by default; one campaign, or one mailing, when asked, written
    to `out_file` if given. Raises data.ReportError when there is nothing to report.
    """
    with data.connect(reports_path) as conn:
        publication = data.latest_publication(conn)
        ids = data.campaign_ids(conn, campaign=campaign, mailing=mailing)
        reports = [data.load_campaign(conn, cid, mailing=mailing) for cid in ids]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = WrittenReports(version=publication.version, campaigns={})
    for report in reports:
        path = out_file or out_dir / campaign_file_name(report.campaign_id, mailing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_campaign(report, publication, currency), encoding="utf-8")
        written.campaigns[report.campaign_id] = path
    if campaign is None and mailing is None:
        written.index = out_dir / "index.html"
        written.index.write_text(
            render_index(reports, written.campaigns, publication, currency), encoding="utf-8"
        )
    return written
