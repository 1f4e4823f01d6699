"""What a campaign report shows, read from the published marts (`reports.duckdb`, read-only).

Never the working warehouse: a report shows what BI tools see, the last publication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.settings import connect_duckdb

Row = dict[str, object]

GROUP_ORDER = {"all": 0, "treatment": 1, "control": 2}


class ReportError(LookupError):
    """Nothing to report: no publication yet."""


class UnknownReportTargetError(ReportError):
    """No such campaign or mailing in the published marts (a usage error)."""


@dataclass
class Publication:
    version: str
    recorded_at: datetime
    checks_passed: list[str]
    warnings: list[str]  # non-blocking checks that failed


@dataclass
class MailingReport:
    mailing_id: str
    mailing_name: str | None
    campaign_id: str
    channel: str
    volume: Row
    funnel: Row | None  # the `all` row
    variants: list[Row]  # funnel rows per variant
    daily: list[Row]
    opens_by_hour: list[Row]
    links: list[Row]
    links_summary: Row | None
    groups: list[Row]  # mart_group_lift
    variant_tests: list[Row]
    categories: dict[str, list[Row]]  # grp -> top 25 by units
    sms_delivery: Row | None
    skip_reasons: list[Row]

    @property
    def first_day(self) -> object:
        return self.daily[0]["date"] if self.daily else None


@dataclass
class CampaignReport:
    campaign: Row
    summary: list[Row]  # mart_campaign_summary, `all` first then each channel
    mailings: list[MailingReport] = field(default_factory=list)

    @property
    def campaign_id(self) -> str:
        return str(self.campaign["campaign_id"])

    @property
    def headline(self) -> Row:
        return next((row for row in self.summary if row["channel"] == "all"), {})


def connect(reports_path: Path) -> duckdb.DuckDBPyConnection:
    if not reports_path.exists():
        raise ReportError(
            f"no publication at {reports_path}: run `campaign-warehouse run` (or `demo`) first"
        )
    return connect_duckdb(reports_path, read_only=True)


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Row]:
    cursor = conn.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in conn.execute("select table_name from duckdb_tables()").fetchall()}


def latest_publication(conn: duckdb.DuckDBPyConnection) -> Publication:
    rows = _rows(
        conn,
        "select version, recorded_at, checks from publications where status = 'published' "
        "order by recorded_at desc limit 1",
    )
    if not rows:
        raise ReportError("the reports file holds no publication")
    row = rows[0]
    checks = json.loads(str(row["checks"] or "[]"))
    return Publication(
        version=str(row["version"]),
        recorded_at=row["recorded_at"],
        checks_passed=sorted(c["check"] for c in checks if c.get("passed")),
        warnings=sorted(c["check"] for c in checks if not c.get("passed") and not c["blocking"]),
    )


def campaign_ids(
    conn: duckdb.DuckDBPyConnection, campaign: str | None = None, mailing: str | None = None
) -> list[str]:
    """The campaigns to report, oldest first; a ReportError naming an unknown id."""
    if mailing is not None:
        found = conn.execute(
            "select campaign_id from mart_mailing_volume where mailing_id = ?", [mailing]
        ).fetchone()
        if found is None:
            raise UnknownReportTargetError(f"no mailing {mailing!r} in the published marts")
        return [str(found[0])]
    ids = [
        str(cid)
        for (cid,) in conn.execute(
            "select campaign_id from mart_campaigns order by first_sent_at nulls last, campaign_id"
        ).fetchall()
    ]
    if campaign is not None:
        if campaign not in ids:
            raise UnknownReportTargetError(f"no campaign {campaign!r} in the published marts")
        return [campaign]
    return ids


def load_campaign(
    conn: duckdb.DuckDBPyConnection, campaign_id: str, mailing: str | None = None
) -> CampaignReport:
    (campaign,) = _rows(conn, "select * from mart_campaigns where campaign_id = ?", [campaign_id])
    summary = _rows(
        conn,
        "select * from mart_campaign_summary where campaign_id = ? order by "
        "case channel when 'all' then 0 when 'email' then 1 when 'sms' then 2 else 3 end",
        [campaign_id],
    )
    volumes = _rows(
        conn,
        "select v.* from mart_mailing_volume v "
        "left join (select mailing_id, min(date) as first_day from mart_mailing_daily "
        "group by mailing_id) d using (mailing_id) "
        "where v.campaign_id = ? and (? is null or v.mailing_id = ?) "
        "order by d.first_day nulls last, v.mailing_id",
        [campaign_id, mailing, mailing],
    )
    tables = _tables(conn)
    report = CampaignReport(campaign=campaign, summary=summary)
    report.mailings = [_load_mailing(conn, volume, tables) for volume in volumes]
    return report


def _load_mailing(conn: duckdb.DuckDBPyConnection, volume: Row, tables: set[str]) -> MailingReport:
    mid = volume["mailing_id"]

    def rows(sql: str) -> list[Row]:
        return _rows(conn, sql, [mid])

    def first(sql: str) -> Row | None:
        found = rows(sql)
        return found[0] if found else None

    funnel = rows("select * from mart_mailing_funnel where mailing_id = ? order by variant")
    categories: dict[str, list[Row]] = {}
    for row in rows(
        "select * from mart_category_top25 where mailing_id = ? and ranked_by = 'units' "
        "order by grp, rank"
    ):
        categories.setdefault(str(row["grp"]), []).append(row)
    variant_tests = (
        rows("select * from mart_variant_tests where mailing_id = ? order by variant_a, variant_b")
        if "mart_variant_tests" in tables
        else []
    )
    groups = rows("select * from mart_group_lift where mailing_id = ?")
    groups.sort(key=lambda g: (GROUP_ORDER.get(str(g["grp"]), 3), str(g["grp"])))
    return MailingReport(
        mailing_id=str(mid),
        mailing_name=volume.get("mailing_name"),
        campaign_id=str(volume["campaign_id"]),
        channel=str(volume["channel"]),
        volume=volume,
        funnel=next((row for row in funnel if row["variant"] == "all"), None),
        variants=[row for row in funnel if row["variant"] != "all"],
        daily=rows("select * from mart_mailing_daily where mailing_id = ? order by date"),
        opens_by_hour=rows("select * from mart_opens_by_hour where mailing_id = ? order by hour"),
        links=rows("select * from mart_link_clicks where mailing_id = ? order by rank limit 10"),
        links_summary=first("select * from mart_mailing_links_summary where mailing_id = ?"),
        groups=groups,
        variant_tests=variant_tests,
        categories=dict(
            sorted(categories.items(), key=lambda kv: (GROUP_ORDER.get(kv[0], 3), kv[0]))
        ),
        sms_delivery=first("select * from mart_sms_delivery where mailing_id = ?"),
        skip_reasons=rows(
            "select * from mart_sms_skip_reasons where mailing_id = ? order by contacts desc"
        ),
    )
