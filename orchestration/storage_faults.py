"""Storage failures (a damaged warehouse file, a full disk) told as what happened and what to do.

Neither is a bug of the pipeline nor a mistake in the input: the operator has to act, and a
traceback does not say how. The warehouse is derived data: everything in it can be rebuilt from
the landing zone (landed files are immutable), so a damaged warehouse is moved aside and rebuilt.
The published marts (`reports.duckdb`) are a separate file, replaced only by a successful
publication, so neither failure touches what BI reads.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from orchestration.settings import Settings

EXIT_STORAGE = 4

# Substrings of DuckDB / SQLite / OS errors, lower-cased.
DISK_FULL = (
    "no space left on device",
    "database or disk is full",
    "disk i/o error",
    "file too large",
)
DAMAGED = (
    "not a valid duckdb database file",
    "could not read enough bytes from file",
    "corrupt",
    "checksum",
    "database disk image is malformed",
    "file is not a database",
)


class WarehouseStorageError(RuntimeError):
    """A storage failure with the operator's guidance as its message (the CLI exits 4)."""


def classify(message: str) -> str | None:
    """`disk_full`, `damaged` or None for the text of an error."""
    text = message.lower()
    if any(marker in text for marker in DISK_FULL):
        return "disk_full"
    if any(marker in text for marker in DAMAGED):
        return "damaged"
    return None


def error_texts(error: BaseException) -> Iterable[str]:
    """The messages of an exception and of its causes."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield f"{type(error).__name__}: {error}"
        error = error.__cause__ or error.__context__


def guidance(kind: str, detail: str, settings: Settings) -> str:
    """What happened and the exact commands that repair it."""
    data, landing = settings.data_dir, settings.landing_dir
    warehouse = settings.warehouse_path
    rerun = (
        f"campaign-warehouse run --data {shlex.quote(str(data))} "
        f"--landing {shlex.quote(str(landing))}"
    )
    untouched = f"Nothing was published: {settings.reports_path} (what BI reads) is unchanged."
    detail = detail.strip().splitlines()[0][:300] if detail.strip() else "no detail"
    if kind == "disk_full":
        return (
            f"the disk holding {data} is full ({detail}). {untouched} Free space "
            f"(`df -h {shlex.quote(str(data))}` shows it), then run again: {rerun}. A write the "
            "full disk interrupted was rolled back; if the next run reports the warehouse damaged, "
            "follow that message to rebuild it."
        )
    return (
        f"the warehouse file {warehouse} is damaged or truncated and cannot be read ({detail}). "
        f"{untouched} The warehouse holds nothing that cannot be rebuilt from the landing zone: "
        f"move it aside and rebuild it with `mv {shlex.quote(str(warehouse))} "
        f"{shlex.quote(str(warehouse) + '.damaged')} && {rerun} --full-refresh` "
        "(it re-ingests every landed file; delete the .damaged file once the run published)."
    )


def fault_from_texts(texts: Iterable[str], settings: Settings) -> WarehouseStorageError | None:
    for text in texts:
        kind = classify(text)
        if kind:
            return WarehouseStorageError(guidance(kind, text, settings))
    return None


def fault_from_exception(error: BaseException, settings: Settings) -> WarehouseStorageError | None:
    return fault_from_texts(error_texts(error), settings)
