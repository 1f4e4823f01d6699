"""Installation settings: one documented place, read from environment variables with defaults.

Every setting is an env var (see README "Configuration"); the CLI's flags only set these env vars,
so the Dagster UI, the CLI and dbt all see the same configuration.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Only for the demo: a real installation must set CW_PII_HASH_KEY (hashes are keyed by it).
DEMO_PII_HASH_KEY = "campaign-warehouse-demo-key-change-me"


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    data_dir: Path
    reporting_timezone: str = "Europe/Moscow"
    currency: str = "RUB"
    default_attribution_days: int = 7
    hard_bounce_threshold: int = 3
    pii_hash_key: str = DEMO_PII_HASH_KEY

    @property
    def warehouse_path(self) -> Path:
        return Path(os.environ.get("CW_WAREHOUSE_PATH") or self.data_dir / "warehouse.duckdb")

    @property
    def reports_path(self) -> Path:
        return self.data_dir / "reports.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        key = env.get("CW_PII_HASH_KEY") or DEMO_PII_HASH_KEY
        if key == DEMO_PII_HASH_KEY:
            log.warning("CW_PII_HASH_KEY is not set: using the demo key; set it in production")
        return cls(
            landing_dir=Path(env.get("CW_LANDING_DIR", "data/landing")).resolve(),
            data_dir=Path(env.get("CW_DATA_DIR", "data")).resolve(),
            reporting_timezone=env.get("CW_REPORTING_TIMEZONE", "Europe/Moscow"),
            currency=env.get("CW_CURRENCY", "RUB").upper(),
            default_attribution_days=int(env.get("CW_DEFAULT_ATTRIBUTION_DAYS", "7")),
            hard_bounce_threshold=int(env.get("CW_HARD_BOUNCE_THRESHOLD", "3")),
            pii_hash_key=key,
        )

    def dbt_vars(self) -> dict[str, object]:
        """The settings dbt models read through `var()`."""
        return {
            "reporting_timezone": self.reporting_timezone,
            "currency": self.currency,
            "default_attribution_days": self.default_attribution_days,
            "hard_bounce_threshold": self.hard_bounce_threshold,
        }
