"""When people act: delays with a daily rhythm (Moscow time) and provider arrival lags."""

from __future__ import annotations

import numpy as np

from .period import DAY, HOUR, MINUTE
from .rng import choice_idx

MSK = 3 * HOUR

# relative activity per hour of the day in Europe/Moscow: morning and evening peaks
HOURLY_MSK = np.array(
    [
        0.35,
        0.18,
        0.1,
        0.08,
        0.08,
        0.15,
        0.6,
        1.6,
        2.4,
        2.2,
        1.6,
        1.3,
        1.4,
        1.5,
        1.2,
        1.1,
        1.1,
        1.3,
        1.8,
        2.4,
        2.6,
        2.2,
        1.4,
        0.8,
    ]
)


def rhythm_after(
    rng: np.random.Generator,
    after: np.ndarray,
    immediate_share: float = 0.3,
    immediate_mean: float = 20 * MINUTE,
    day_p: float = 0.55,
) -> np.ndarray:
    """Times after ``after``: some right away, the rest at a typical hour of a later moment."""
    after = np.asarray(after, dtype=np.int64)
    n = len(after)
    now = rng.random(n) < immediate_share
    soon = after + 1 + rng.exponential(immediate_mean, n).astype(np.int64)
    day_start = (after + MSK) // DAY * DAY - MSK
    k = rng.geometric(day_p, n) - 1
    hour = choice_idx(rng, HOURLY_MSK, n)
    later = day_start + k * DAY + hour * HOUR + rng.integers(0, HOUR, n)
    later = np.where(later <= after, later + DAY, later)
    return np.where(now, soon, later)


def arrival(
    rng: np.random.Generator,
    t: np.ndarray,
    mean_lag: float = 90.0,
    late_share: float = 0.03,
    late_days: tuple[int, int] = (1, 10),
) -> np.ndarray:
    """When a provider's record of an event reaches us: seconds later, some days late."""
    t = np.asarray(t, dtype=np.int64)
    n = len(t)
    lag = 5 + rng.exponential(mean_lag, n).astype(np.int64)
    late = rng.random(n) < late_share
    lag += np.where(late, rng.integers(late_days[0] * DAY, late_days[1] * DAY + 1, n), 0)
    return t + lag


def geometric_counts(rng: np.random.Generator, n: int, p_more: float) -> np.ndarray:
    """1 + the number of repeats, each further repeat with probability ``p_more``."""
    return rng.geometric(1.0 - p_more, n)


def status_timeline(
    rng: np.random.Generator,
    stages: list[tuple[np.ndarray, int | np.ndarray, np.ndarray]],
    end_t: int,
    **lag: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A provider's status events in the order its records reach us.

    ``stages`` are ``(rows, code, times)``: the message rows that reach a status, the status code
    (one for all, or one per row) and when. Events after ``end_t`` (the data's end) never happened
    yet; the rest get an arrival time (``arrival``, with ``lag``'s keywords) and are sorted by it.
    Returns rows, codes, event times and arrival times.
    """
    rec = np.concatenate([rows for rows, _, _ in stages])
    code = np.concatenate([np.broadcast_to(c, len(rows)) for rows, c, _ in stages])
    t = np.concatenate([times for _, _, times in stages])
    keep = t < end_t
    rec, code, t = rec[keep], code[keep], t[keep]
    arrive = arrival(rng, t, **lag)
    order = np.argsort(arrive, kind="stable")
    return rec[order], code[order], t[order], arrive[order]
