"""Thresholds of the data checks: one frozen dataclass, read from env vars with defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


def _parse_limits(text: str) -> dict[str, float]:
    """`sendgrid=24,products=168` -> {"sendgrid": 24.0, "products": 168.0}."""
    limits = {}
    for item in text.split(","):
        if item.strip():
            feed, _, hours = item.partition("=")
            limits[feed.strip()] = float(hours)
    return limits


@dataclass(frozen=True)
class CheckSettings:
    # share of provider events (Twilio inbound opt-outs excluded) matching no dispatch
    max_unmatched_event_share: float = 0.05
    # share of receipts whose lines do not sum to their total within `receipt_tolerance`
    max_unbalanced_receipt_share: float = 0.01
    receipt_tolerance: float = 0.01
    # freshness: newest loaded file per feed (audit.ingested_files) at most this old, in hours
    freshness_max_age_hours: float = 48.0
    # per-feed overrides; a feed listed here that never landed is stale
    freshness_limits: Mapping[str, float] = field(default_factory=dict)
    # a stale feed is a warning unless this is set (then an error that blocks publication)
    freshness_blocking: bool = False
    # "now" for freshness (UTC, naive like audit.ingested_files.ingested_at); None = the clock
    now: datetime | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CheckSettings:
        env = os.environ if environ is None else environ
        return cls(
            max_unmatched_event_share=float(env.get("CW_MAX_UNMATCHED_EVENT_SHARE", "0.05")),
            max_unbalanced_receipt_share=float(env.get("CW_MAX_UNBALANCED_RECEIPT_SHARE", "0.01")),
            freshness_max_age_hours=float(env.get("CW_FRESHNESS_MAX_AGE_HOURS", "48")),
            freshness_limits=_parse_limits(env.get("CW_FRESHNESS_LIMITS", "")),
            freshness_blocking=env.get("CW_FRESHNESS_BLOCKING", "").lower() in ("1", "true", "yes"),
        )

    def max_age_hours(self, feed: str) -> float:
        return float(self.freshness_limits.get(feed, self.freshness_max_age_hours))
