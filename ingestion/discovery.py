"""Walk the landing zone: ``<landing>/<feed>/<any sub-folders>/<file>``, hash every file's bytes.

Files whose name starts with ``.`` or ``_`` are ignored (partial uploads, markers such as
``_SUCCESS``); everything else in a feed folder is a landed file, including files of a type the
feed does not accept (those are rejected by the loader, never silently skipped). Top-level files
(the generator's ``_generator_manifest.json``) are never read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .feeds import ALL_EXTENSIONS, FEEDS

CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class LandedFile:
    feed: str
    path: Path  # absolute
    rel_path: str  # relative to the landing dir, POSIX separators
    size_bytes: int
    sha256: str
    extension: str | None  # one of feeds.ALL_EXTENSIONS, or None when unsupported


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def extension_of(name: str) -> str | None:
    lower = name.lower()
    for ext in sorted(ALL_EXTENSIONS, key=len, reverse=True):
        if lower.endswith(ext):
            return ext
    return None


def _ignored(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def feed_files(landing_dir: Path, feed: str) -> list[Path]:
    root = landing_dir / feed
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not _ignored(p, landing_dir))


def unknown_folders(landing_dir: Path) -> list[str]:
    if not landing_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in landing_dir.iterdir()
        if p.is_dir() and p.name not in FEEDS and not p.name.startswith((".", "_"))
    )


def discover(landing_dir: Path, feeds: Iterable[str], workers: int = 4) -> list[LandedFile]:
    """Every landed file of ``feeds``, sorted by feed order then path, with its content hash."""
    landing_dir = Path(landing_dir)
    paths = [(feed, p) for feed in feeds for p in feed_files(landing_dir, feed)]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # hashlib releases the GIL
        hashes = list(pool.map(lambda fp: file_sha256(fp[1]), paths))
    return [
        LandedFile(
            feed=feed,
            path=p,
            rel_path=p.relative_to(landing_dir).as_posix(),
            size_bytes=p.stat().st_size,
            sha256=h,
            extension=extension_of(p.name),
        )
        for (feed, p), h in zip(paths, hashes, strict=True)
    ]
