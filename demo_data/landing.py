"""Land a generated landing zone one day at a time (incremental tests and benchmarks).

The generator writes ``<landing>/<feed>/<YYYY-MM-DD landing day>/<file>``. ``land_day`` copies the
``<feed>/<day>/`` folders of one day from such a source zone into a target landing zone, so a test
can replay the period as the files would have arrived. Files are hard-linked when source and target
share a file system, otherwise copied; either way the target's bytes are the source's.

Files that are not inside a day folder (directly in ``<feed>/``, or in a sub-folder whose name is
not a ``YYYY-MM-DD`` date) land with the first day of the source zone: ``land_day`` copies them
when ``day`` is the first of ``landing_days(source)`` (the generator writes none today).
Top-level files (``_generator_manifest.json``) are never copied.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

__all__ = ["land_day", "landing_days"]


def _day_of(name: str) -> dt.date | None:
    """The date of a ``YYYY-MM-DD`` folder name, else None."""
    if len(name) != 10:
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


def _feed_dirs(landing: Path) -> list[Path]:
    return sorted(
        p for p in Path(landing).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
    )


def landing_days(source_landing: Path) -> list[dt.date]:
    """The sorted distinct landing days: every ``<feed>/<YYYY-MM-DD>/`` folder's date."""
    days = {
        day
        for feed_dir in _feed_dirs(source_landing)
        for sub in feed_dir.iterdir()
        if sub.is_dir() and (day := _day_of(sub.name)) is not None
    }
    return sorted(days)


def _files(entry: Path) -> list[Path]:
    return [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        if dst.stat().st_size == src.stat().st_size and dst.read_bytes() == src.read_bytes():
            return  # landed before: nothing to do
        raise FileExistsError(f"{dst} exists with other content than {src}")
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not supported
        shutil.copy2(src, dst)


def land_day(
    source_landing: Path,
    target_landing: Path,
    day: dt.date,
    feeds: Iterable[str] | None = None,
    exclude_feeds: Iterable[str] = (),
) -> list[Path]:
    """Land every ``<feed>/<day>/`` folder of ``source_landing`` in ``target_landing``.

    ``feeds`` limits the feeds (default: every feed folder), ``exclude_feeds`` holds some back.
    Files outside day folders go with the first landing day (see the module docstring).
    Returns the target paths of the landed files, sorted. Landing the same day twice is a no-op;
    a target file with other bytes than its source raises ``FileExistsError``.
    """
    source_landing, target_landing = Path(source_landing), Path(target_landing)
    wanted = None if feeds is None else set(feeds)
    excluded = set(exclude_feeds)
    days = landing_days(source_landing)
    first = bool(days) and day == days[0]
    landed: list[Path] = []
    for feed_dir in _feed_dirs(source_landing):
        if (wanted is not None and feed_dir.name not in wanted) or feed_dir.name in excluded:
            continue
        sources: list[Path] = []
        for entry in sorted(feed_dir.iterdir()):
            entry_day = _day_of(entry.name) if entry.is_dir() else None
            if entry_day == day or (entry_day is None and first):  # undated: with the first day
                sources += _files(entry)
        for src in sorted(sources):
            dst = target_landing / src.relative_to(source_landing)
            _link_or_copy(src, dst)
            landed.append(dst)
    return sorted(landed)
