"""What happened to each dispatched message, as the purchase model and contact state need it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEVER = np.iinfo(np.int64).max


@dataclass
class Outcome:
    """Per dispatch row of a mailing; -1 / NEVER where it did not happen."""

    delivered_t: np.ndarray
    open_t: np.ndarray  # first human open (e-mail) or open (push)
    click_t: np.ndarray  # first click
    unsub_t: np.ndarray  # unsubscribed from the channel
    category_unsub_t: np.ndarray  # unsubscribed from the mailing's category

    @classmethod
    def empty(cls, n: int) -> Outcome:
        return cls(
            np.full(n, -1, np.int64),
            np.full(n, -1, np.int64),
            np.full(n, -1, np.int64),
            np.full(n, NEVER, np.int64),
            np.full(n, NEVER, np.int64),
        )

    def select(self, mask: np.ndarray) -> Outcome:
        return Outcome(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))

    def fill(self, rows: np.ndarray, part: Outcome) -> None:
        for name in ("delivered_t", "open_t", "click_t", "unsub_t", "category_unsub_t"):
            getattr(self, name)[rows] = getattr(part, name)


def expand(idx: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repeat ``idx[i]`` ``counts[i]`` times; also return each repeat's position 0..count-1."""
    counts = np.asarray(counts, dtype=np.int64)
    rec = np.repeat(idx, counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(rec)) - np.repeat(starts, counts)
    return rec, pos


def group_cumsum(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting where ``pos == 0`` (groups laid out consecutively)."""
    cs = np.cumsum(values)
    first = np.flatnonzero(pos == 0)
    counts = np.diff(np.append(first, len(values)))
    base = np.repeat(cs[first] - values[first], counts)
    return cs - base
