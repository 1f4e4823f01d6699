"""Vectorized timestamp formatting: ISO 8601 (with offset, ``Z`` or none), RFC 2822, Unix.

Times are int64 epoch seconds (UTC) or milliseconds. Date and time-of-day strings come from
small lookup tables, so formatting a million rows costs a few array takes and joins.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .strings import concat, sarr, take

DAY = 86_400
MSK_OFFSET_MIN = 180

# how a timestamp is written
OFFSET = 0  # 2026-11-02T09:15:00+03:00 (local time of the given offset)
ZULU = 1  # 2026-11-02T06:15:00Z
NAIVE = 2  # 2026-11-02T06:15:00 (no offset: read as UTC)

WEEKDAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday


@lru_cache(maxsize=1)
def _clock() -> pa.Array:
    """'HH:MM:SS' for every second of a day."""
    two = sarr([f"{i:02d}" for i in range(60)])
    sec = np.arange(DAY)
    return concat(take(two, sec // 3600), ":", take(two, sec // 60 % 60), ":", take(two, sec % 60))


def _dates(days: np.ndarray, fmt: str) -> pa.Array:
    """Formatted dates for epoch day numbers, via a table of the distinct days."""
    if len(days) == 0:
        return pa.array([], pa.string())
    lo, hi = int(days.min()), int(days.max())
    table = pc.strftime(pa.array(np.arange(lo, hi + 1).astype("datetime64[D]")), format=fmt)
    return table.take(pa.array(days - lo))


@lru_cache(maxsize=32)
def _suffix(offset_min: int) -> str:
    sign = "+" if offset_min >= 0 else "-"
    a = abs(offset_min)
    return f"{sign}{a // 60:02d}:{a % 60:02d}"


def iso(
    t: np.ndarray, offset_min: np.ndarray | int = 0, mode: np.ndarray | int = OFFSET
) -> pa.Array:
    """ISO 8601 strings for epoch seconds ``t``.

    ``offset_min``: the offset to write (local time = UTC + offset) for rows in mode OFFSET;
    ``mode``: OFFSET, ZULU or NAIVE, per row or for all.
    """
    t = np.asarray(t, dtype=np.int64)
    n = len(t)
    mode = np.broadcast_to(np.asarray(mode, dtype=np.int8), (n,))
    offs = np.broadcast_to(np.asarray(offset_min, dtype=np.int64), (n,))
    offs = np.where(mode == OFFSET, offs, 0)
    local = t + offs * 60
    body = concat(_dates(local // DAY, "%Y-%m-%dT"), _clock().take(pa.array(local % DAY)))
    if n and (mode == mode[0]).all() and (offs == offs[0]).all():
        m0 = int(mode[0])
        return concat(body, _suffix(int(offs[0])) if m0 == OFFSET else ("Z" if m0 == ZULU else ""))
    uniq, inv = np.unique(offs, return_inverse=True)
    suffix = take([_suffix(int(o)) for o in uniq], inv.reshape(-1))
    if (mode == ZULU).any():
        suffix = pc.if_else(pa.array(mode == ZULU), "Z", suffix)
    if (mode == NAIVE).any():
        suffix = pc.if_else(pa.array(mode == NAIVE), "", suffix)
    return concat(body, suffix)


def iso_ms_z(t_ms: np.ndarray) -> pa.Array:
    """'2026-11-02T06:15:00.123Z' for epoch milliseconds."""
    t_ms = np.asarray(t_ms, dtype=np.int64)
    sec = t_ms // 1000
    ms = pc.utf8_lpad(pc.cast(pa.array(t_ms % 1000), pa.string()), 3, "0")
    body = concat(_dates(sec // DAY, "%Y-%m-%dT"), _clock().take(pa.array(sec % DAY)))
    return concat(body, ".", ms, "Z")


def rfc2822(t: np.ndarray) -> pa.Array:
    """'Mon, 02 Nov 2026 06:15:00 +0000' (Twilio's date format) for epoch seconds."""
    t = np.asarray(t, dtype=np.int64)
    days = t // DAY
    wd = take(WEEKDAYS, days % 7)
    date = _dates(days, "%d %b %Y")
    return concat(wd, ", ", date, " ", _clock().take(pa.array(t % DAY)), " +0000")


def unix(t: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(t, dtype=np.int64)), pa.string())


def pick_modes(rng: np.random.Generator, n: int, p_zulu: float, p_naive: float) -> np.ndarray:
    """Per-row formatting modes: mostly OFFSET, some ZULU, some NAIVE."""
    u = rng.random(n)
    return np.where(u < p_zulu, ZULU, np.where(u < p_zulu + p_naive, NAIVE, OFFSET)).astype(np.int8)
