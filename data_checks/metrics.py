"""Aggregate checks: a DuckDB SQL aggregate, validated with a GX expectation on its result.

Each function reads the warehouse and returns a `MetricCheck`: the aggregate frame, the
expectation that judges it, and the failing count and examples computed in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from data_checks.settings import CheckSettings
from data_checks.validation import gxe

EVENTS_MATCHED = "gx_events_matched_to_dispatches"
RECEIPTS_BALANCED = "gx_receipt_lines_sum_to_total"
FEED_FRESHNESS = "gx_feed_freshness"

EVENTS_KEY = ("intermediate", "int_provider_events")
RECEIPTS_KEY = ("facts", "fct_purchases")
FRESHNESS_KEY = ("audit", "ingested_files")

EXAMPLES = 5


@dataclass(frozen=True)
class MetricCheck:
    asset_key: tuple[str, ...]
    name: str
    description: str
    frame: pd.DataFrame
    expectation: object
    failing_rows: int
    examples: tuple[str, ...]
    severity: str = "ERROR"


def unmatched_provider_events(
    conn: duckdb.DuckDBPyConnection, settings: CheckSettings
) -> MetricCheck:
    # Twilio inbound opt-out replies name no message: they match no dispatch by design.
    events = """
        select * from intermediate.int_provider_events
        where not (source_feed = 'twilio_messages' and source_event_name = 'inbound_opt_out')
    """
    frame = conn.sql(f"""
        select
            count(*) as events,
            count(*) filter (where not coalesce(is_matched_to_dispatch, false)) as unmatched,
            unmatched / nullif(events, 0) as unmatched_share
        from ({events})
    """).df()
    examples = conn.sql(f"""
        select provider, source_feed, source_event_name, provider_message_id
        from ({events})
        where not coalesce(is_matched_to_dispatch, false)
        order by provider, provider_message_id nulls first
        limit {EXAMPLES}
    """).fetchall()
    limit = settings.max_unmatched_event_share
    return MetricCheck(
        EVENTS_KEY,
        EVENTS_MATCHED,
        f"at most {limit:.0%} of provider events (Twilio inbound opt-outs aside) match no dispatch",
        frame,
        gxe().ExpectColumnValuesToBeBetween(column="unmatched_share", min_value=0, max_value=limit),
        int(frame["unmatched"].iloc[0]),
        tuple(f"{p}/{feed} {name} message={msg}" for p, feed, name, msg in examples),
    )


def unbalanced_receipts(conn: duckdb.DuckDBPyConnection, settings: CheckSettings) -> MetricCheck:
    # a receipt without lines sums to 0
    receipts = f"""
        with lines as (
            select purchase_key, sum(gross_amount) as lines_amount
            from facts.fct_purchase_lines
            group by purchase_key
        )
        select
            receipts.source_id as receipt_id,
            receipts.gross_amount as total_amount,
            coalesce(lines.lines_amount, 0) as lines_amount,
            abs(coalesce(lines.lines_amount, 0) - receipts.gross_amount)
                > {float(settings.receipt_tolerance)} as is_unbalanced
        from facts.fct_purchases as receipts
        left join lines on receipts.purchase_key = lines.purchase_key
        where receipts.purchase_source = 'pos'
    """
    frame = conn.sql(f"""
        select
            count(*) as receipts,
            count(*) filter (where is_unbalanced) as unbalanced,
            unbalanced / nullif(receipts, 0) as unbalanced_share
        from ({receipts})
    """).df()
    examples = conn.sql(f"""
        select receipt_id, total_amount, lines_amount
        from ({receipts})
        where is_unbalanced
        order by receipt_id
        limit {EXAMPLES}
    """).fetchall()
    limit = settings.max_unbalanced_receipt_share
    return MetricCheck(
        RECEIPTS_KEY,
        RECEIPTS_BALANCED,
        f"at most {limit:.0%} of receipts have lines that do not sum to their total "
        f"(within {settings.receipt_tolerance})",
        frame,
        gxe().ExpectColumnValuesToBeBetween(
            column="unbalanced_share", min_value=0, max_value=limit
        ),
        int(frame["unbalanced"].iloc[0]),
        tuple(f"{rid} total={total} lines={lines}" for rid, total, lines in examples),
    )


def _freshness_frame(conn: duckdb.DuckDBPyConnection, now: datetime) -> pd.DataFrame:
    return conn.sql(
        """
        with newest as (
            select feed, max(ingested_at) as newest_ingested_at
            from audit.ingested_files
            where status = 'loaded'
            group by feed
        ),
        feeds as (
            select feed from audit.ingested_files
            union
            select feed from _configured_feeds
        )
        select
            feeds.feed,
            newest.newest_ingested_at,
            coalesce(
                epoch(cast(? as timestamp) - newest.newest_ingested_at) / 3600.0, 1e12
            ) as age_hours
        from feeds
        left join newest on feeds.feed = newest.feed
        order by feeds.feed
        """,
        params=[now],
    ).df()


def stale_feeds(
    conn: duckdb.DuckDBPyConnection, settings: CheckSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per feed: hours since its newest loaded file and its limit; and the stale ones among them
    (a configured feed never loaded is stale). Also what a nothing-new run reports."""
    now = settings.now or datetime.now(UTC).replace(tzinfo=None)
    configured = pd.DataFrame({"feed": pd.Series(list(settings.freshness_limits), dtype="str")})
    conn.register("_configured_feeds", configured)
    try:
        frame = _freshness_frame(conn, now)
    finally:
        conn.unregister("_configured_feeds")
    frame["max_age_hours"] = [settings.max_age_hours(feed) for feed in frame["feed"]]
    return frame, frame[frame["age_hours"] > frame["max_age_hours"]]


def describe_stale(stale: pd.DataFrame, limit: int = EXAMPLES) -> tuple[str, ...]:
    return tuple(
        f"{row.feed}: never loaded"
        if pd.isna(row.newest_ingested_at)
        else f"{row.feed}: newest file {row.age_hours:.1f} h old (limit {row.max_age_hours:g} h)"
        for row in stale.head(limit).itertuples()
    )


def feed_freshness(conn: duckdb.DuckDBPyConnection, settings: CheckSettings) -> MetricCheck:
    """Per feed: hours since its newest loaded file (a configured feed never loaded is stale)."""
    frame, stale = stale_feeds(conn, settings)
    examples = describe_stale(stale)
    return MetricCheck(
        FRESHNESS_KEY,
        FEED_FRESHNESS,
        "every feed's newest loaded file is younger than its limit "
        f"(default {settings.freshness_max_age_hours:g} h)",
        frame,
        gxe().ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="max_age_hours", column_B="age_hours", or_equal=True
        ),
        len(stale),
        examples,
        severity="ERROR" if settings.freshness_blocking else "WARN",
    )


METRIC_CHECKS = {
    EVENTS_MATCHED: (EVENTS_KEY, unmatched_provider_events),
    RECEIPTS_BALANCED: (RECEIPTS_KEY, unbalanced_receipts),
    FEED_FRESHNESS: (FRESHNESS_KEY, feed_freshness),
}
