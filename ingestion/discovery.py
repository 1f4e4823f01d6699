"""Walk the landing zone: ``<landing>/<feed>/<any sub-folders>/<file>``, hash every file's bytes.

Files whose name starts with ``.`` or ``_`` are ignored (partial uploads, markers such as
``_SUCCESS``); everything else in a feed folder is a landed file, including files of a type the
feed does not accept (those are rejected, never silently skipped). Top-level files (the
generator's ``_generator_manifest.json``) are never read.

A landed file that cannot be loaded for a reason known before reading it carries that reason in
``problem`` and is rejected without reading: a folder that names no feed (``unknown feed``), a
type the feed does not accept, an empty file, and a file the process cannot read (permissions, a
dangling symbolic link, a FIFO or another special file: ``sha256`` is then None, since its bytes
are unknown). Nothing here raises for one bad file: the other files of the batch still load.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .feeds import ALL_EXTENSIONS, FEEDS

CHUNK = 4 * 1024 * 1024

SPECIAL_FILES = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


@dataclass(frozen=True)
class LandedFile:
    feed: str  # the feed folder (for an unknown feed: the folder's name)
    path: Path  # absolute
    rel_path: str  # relative to the landing dir, POSIX separators
    size_bytes: int
    sha256: str | None  # None when the file cannot be read
    extension: str | None  # one of feeds.ALL_EXTENSIONS, or None when unsupported
    problem: str | None = None  # why the file is rejected without reading it (names the file)


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
    """The regular files of a feed folder (what the landed-files sensor watches)."""
    root = landing_dir / feed
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not _ignored(p, landing_dir))


def folder_entries(landing_dir: Path, folder: str) -> list[Path]:
    """Every landed entry of a folder that is not a directory: regular files, and the ones that
    cannot be read (dangling symbolic links, FIFOs, sockets, devices)."""
    root = landing_dir / folder
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if not p.is_dir() and not _ignored(p, landing_dir))


def unknown_folders(landing_dir: Path) -> list[str]:
    if not landing_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in landing_dir.iterdir()
        if p.is_dir() and p.name not in FEEDS and not p.name.startswith((".", "_"))
    )


def unreadable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be opened as a regular file, or None when it can (without opening it:
    opening a FIFO would block)."""
    try:
        mode = path.stat().st_mode  # follows symbolic links
    except FileNotFoundError:
        if path.is_symlink():
            return f"dangling symbolic link to '{os.readlink(path)}'"
        return "the file disappeared while listing the landing zone"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if not stat.S_ISREG(mode):
        return f"not a regular file ({SPECIAL_FILES.get(stat.S_IFMT(mode), 'a special file')})"
    return None


def _inspect(landing_dir: Path, feed: str, path: Path) -> LandedFile:
    """Hash one entry; every OSError becomes the file's ``problem``, never an exception."""
    rel = path.relative_to(landing_dir).as_posix()
    extension = extension_of(path.name)
    reason = unreadable_reason(path)
    size, digest = 0, None
    if reason is None:
        try:
            size = path.stat().st_size
            digest = file_sha256(path)
        except OSError as exc:  # PermissionError, EIO, removed meanwhile, ...
            reason = exc.strerror or type(exc).__name__
    if reason is not None:
        problem = f"{rel}: cannot read the file: {reason}"
    elif feed not in FEEDS:
        problem = (
            f"{rel}: unknown feed '{feed}': the folder names no feed (feeds: {', '.join(FEEDS)})"
        )
    elif extension is None or extension not in FEEDS[feed].extensions:
        accepted = ", ".join(FEEDS[feed].extensions)
        problem = f"{rel}: unsupported file type for feed {feed} (accepted: {accepted})"
    elif size == 0:
        problem = f"{rel}: file is empty"
    else:
        problem = None
    return LandedFile(
        feed=feed,
        path=path,
        rel_path=rel,
        size_bytes=size,
        sha256=digest,
        extension=extension,
        problem=problem,
    )


def discover(
    landing_dir: Path, feeds: Iterable[str], workers: int = 4, include_unknown: bool = False
) -> list[LandedFile]:
    """Every landed file of ``feeds``, sorted by feed order then path, with its content hash;
    with ``include_unknown``, then the files of the folders that name no feed."""
    landing_dir = Path(landing_dir)
    folders = list(feeds) + (unknown_folders(landing_dir) if include_unknown else [])
    paths = [(folder, p) for folder in folders for p in folder_entries(landing_dir, folder)]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # hashlib releases the GIL
        return list(pool.map(lambda fp: _inspect(landing_dir, *fp), paths))
