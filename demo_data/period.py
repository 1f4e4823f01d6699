"""The generated period: landing days as epoch seconds (UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60


@dataclass(frozen=True)
class Period:
    start: dt.date
    days: int

    @property
    def start_t(self) -> int:
        d = self.start
        return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())

    @property
    def end_t(self) -> int:
        """First second after the last landing day (UTC)."""
        return self.start_t + self.days * DAY

    def day_t(self, day: int) -> int:
        return self.start_t + day * DAY

    def day_index(self, t: np.ndarray) -> np.ndarray:
        """Landing-day index of arrival times, late arrivals past the end on the last day."""
        return np.clip((np.asarray(t, dtype=np.int64) - self.start_t) // DAY, 0, self.days - 1)

    def day_str(self, day: int) -> str:
        return (self.start + dt.timedelta(days=int(day))).isoformat()
