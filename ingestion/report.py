"""What one ingestion run did: per file and per feed, for the CLI, Dagster metadata and tests."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LOADED = "loaded"
REJECTED = "rejected"
SKIPPED_KNOWN = "skipped_known"

COUNT_FIELDS = ("rows_read", "rows_loaded", "rows_replayed", "rows_quarantined")


@dataclass
class FileReport:
    feed: str
    path: str  # relative to the landing dir, POSIX separators
    file_hash: str | None  # None when the file could not be read
    size_bytes: int
    status: str = LOADED  # loaded | rejected | skipped_known
    rows_read: int = 0
    rows_loaded: int = 0
    rows_replayed: int = 0
    rows_quarantined: int = 0
    child_rows_loaded: int = 0  # orders: raw.order_lines rows loaded with the orders
    error: str | None = None
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_replayed + self.rows_quarantined

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    feeds: list[str]
    files: list[FileReport] = field(default_factory=list)
    unknown_folders: list[str] = field(default_factory=list)  # landing folders that are no feed
    seconds: float = 0.0
    # (feed or "*", stage) -> seconds: discover+hash, read, validate, replay, insert, ... (the
    # profile; with parallel workers the feeds' stages overlap in wall time)
    stage_seconds: dict[tuple[str, str], float] = field(default_factory=dict)

    def files_of(self, feed: str) -> list[FileReport]:
        return [f for f in self.files if f.feed == feed]

    def feed_summary(self, feed: str) -> dict[str, int]:
        files = self.files_of(feed)
        out = {
            "files": len(files),
            "files_loaded": sum(f.status == LOADED for f in files),
            "files_rejected": sum(f.status == REJECTED for f in files),
            "files_skipped_known": sum(f.status == SKIPPED_KNOWN for f in files),
        }
        for name in COUNT_FIELDS:
            out[name] = sum(getattr(f, name) for f in files)
        out["child_rows_loaded"] = sum(f.child_rows_loaded for f in files)
        return out

    def feed_summaries(self) -> dict[str, dict[str, int]]:
        """Per feed (every requested feed, even without files, then each folder that names no
        feed and had files, all rejected as ``unknown feed``): integer counts only."""
        unknown = dict.fromkeys(f.feed for f in self.files if f.feed not in self.feeds)
        return {feed: self.feed_summary(feed) for feed in [*self.feeds, *unknown]}

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for summary in self.feed_summaries().values():
            for k, v in summary.items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def rejected(self) -> list[FileReport]:
        return [f for f in self.files if f.status == REJECTED]

    def to_dict(self) -> dict:
        return {
            "feeds": self.feed_summaries(),
            "totals": self.totals(),
            "files": [f.to_dict() for f in self.files],
            "unknown_folders": list(self.unknown_folders),
            "seconds": round(self.seconds, 3),
        }
