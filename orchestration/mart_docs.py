"""What the published tables say about themselves, read from the dbt manifest.

The dbt yml of the marts is the one place where a mart and its columns are described, where the
contract says which columns are never null, and where the grain is declared (a `primary_key`
model constraint). Publication copies that into the published file (DuckDB `COMMENT`s, `NOT NULL`,
`PRIMARY KEY`) and into PostgreSQL, so a BI tool shows the same documentation as dbt docs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / "dbt_project" / "target" / "manifest.json"


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str
    not_null: bool = False


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    columns: dict[str, ColumnDoc] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()

    def column(self, name: str) -> ColumnDoc:
        return self.columns.get(name) or ColumnDoc(name, "")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def load_mart_docs(manifest_path: Path = DEFAULT_MANIFEST, schema: str = "marts") -> dict:
    """{mart name: TableDoc} for every model published from the `schema` folder of the project."""
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"dbt manifest {manifest_path} not found: run `make prepare` (dbt parse) first"
        )
    manifest = json.loads(manifest_path.read_text())
    docs = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != schema:
            continue
        columns = {}
        for name, column in node.get("columns", {}).items():
            constraints = {c["type"] for c in column.get("constraints", [])}
            columns[name] = ColumnDoc(
                name, _one_line(column.get("description")), "not_null" in constraints
            )
        primary_key: tuple[str, ...] = ()
        for constraint in node.get("constraints", []):
            if constraint["type"] == "primary_key":
                primary_key = tuple(constraint["columns"])
        docs[node["name"]] = TableDoc(
            node["name"], _one_line(node.get("description")), columns, primary_key
        )
    return docs


# The publications log is written by publishing.py, not dbt: its documentation lives here.
PUBLICATIONS_DOC = TableDoc(
    "publications",
    "Every publication attempt, refusals included: one row per build that reached the gate. "
    "The newest row says whether the marts in this file are that build's (published) or an "
    "earlier version's (refused, with the reason).",
    {
        "version": ColumnDoc(
            "version", "Publication version: UTC time stamp and run id prefix.", True
        ),
        "run_id": ColumnDoc("run_id", "Dagster run id of the build."),
        "recorded_at": ColumnDoc("recorded_at", "When the attempt was recorded (UTC).", True),
        "status": ColumnDoc(
            "status", "published: these marts are this build's; refused: they are not.", True
        ),
        "reason": ColumnDoc(
            "reason",
            "Why a build was refused, readable on one screen: the failing checks first with "
            "failing row counts and example keys, then one line for checks that did not run.",
        ),
        "row_counts": ColumnDoc("row_counts", "JSON object: mart -> rows published."),
        "checks": ColumnDoc(
            "checks",
            "JSON array: every check outcome of the build (check, severity, blocking, passed, "
            "failing_rows, examples).",
        ),
    },
    ("version",),
)
