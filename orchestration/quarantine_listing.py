"""`campaign-warehouse quarantine`: what ingestion could not load, by feed and reason, and why.

Reads audit.quarantine of the working warehouse (read-only); its text is already masked at
ingestion (no e-mail address or phone number in it).
"""

from __future__ import annotations

from pathlib import Path

from orchestration.warehouse_lock import connect_warehouse

RAW_TEXT_WIDTH = 110


def describe_quarantine(warehouse_path: Path, feed: str | None = None, examples: int = 5) -> str:
    if not warehouse_path.exists():
        return f"no warehouse at {warehouse_path} yet: nothing was ingested"
    with connect_warehouse(warehouse_path, read_only=True) as conn:
        (exists,) = conn.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'audit' and table_name = 'quarantine'"
        ).fetchone()
        if not exists:
            return "nothing quarantined (no audit.quarantine table yet)"
        where = "where feed = ?" if feed else ""
        params = [feed] if feed else []
        groups = conn.execute(
            f"select feed, reason, count(*) filter (where row_number is not null) as rows_, "
            f"count(*) filter (where row_number is null) as files "
            f"from audit.quarantine {where} group by all order by feed, rows_ + files desc",
            params,
        ).fetchall()
        samples = conn.execute(
            f"select feed, path, row_number, reason, raw_text from ("
            f"  select *, row_number() over (partition by feed order by quarantined_at, path, "
            f"  row_number) as n from audit.quarantine {where}) where n <= ? "
            f"order by feed, n",
            [*params, examples],
        ).fetchall()
    if not groups:
        return f"nothing quarantined{f' for feed {feed}' if feed else ''}"
    rows = sum(g[2] for g in groups)
    files = sum(g[3] for g in groups)
    lines = [f"{rows:,} rows and {files:,} whole files quarantined ({warehouse_path}):", ""]
    if feed is None:  # one line per feed; its reasons and examples with --feed
        per_feed: dict[str, list[tuple]] = {}
        for group in groups:
            per_feed.setdefault(group[0], []).append(group)
        lines.append(f"  {'feed':<14}{'rows':>8}{'files':>7}  reasons (most frequent first)")
        for name, feed_groups in per_feed.items():
            reasons = "; ".join(_short(g[1], 60) for g in feed_groups[:2])
            more = f" and {len(feed_groups) - 2} more" if len(feed_groups) > 2 else ""
            feed_rows, feed_files = sum(g[2] for g in feed_groups), sum(g[3] for g in feed_groups)
            lines.append(f"  {name:<14}{feed_rows:>8,}{feed_files:>7,}  {reasons}{more}")
        lines += ["", "Reasons and examples of one feed: campaign-warehouse quarantine --feed FEED"]
        return "\n".join(lines)
    lines.append(f"  {'rows':>8}{'files':>7}  reason")
    for _, reason, group_rows, group_files in groups:
        lines.append(f"  {group_rows:>8,}{group_files:>7,}  {reason}")
    lines += ["", "Examples:"]
    for _, path, row_number, reason, raw_text in samples:
        where_in_file = f"row {row_number}" if row_number is not None else "whole file"
        lines.append(f"  {path}, {where_in_file}: {reason}")
        if raw_text:
            lines.append(f"      {_short(' '.join(raw_text.split()), RAW_TEXT_WIDTH)}")
    lines += ["", f"Every row: select * from audit.quarantine where feed = '{feed}'"]
    return "\n".join(lines)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
