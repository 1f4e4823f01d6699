"""The outcome of one data check, as the publication gate weighs it and `publications` records it.

Every check produces one: the Great Expectations suites and aggregate checks
(data_checks/runner.py), dbt's tests (read back from the Dagster run) and the gate's own check.
The gate that decides from them is orchestration/publication_gate.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckOutcome:
    check: str  # "<asset key>:<check name>"
    passed: bool
    severity: str  # "ERROR" | "WARN"
    blocking: bool
    description: str | None = None
    failing_rows: int | None = None
    examples: str | None = None

    def as_dict(self) -> dict:
        return {
            "check": self.check,
            "passed": self.passed,
            "severity": self.severity,
            "blocking": self.blocking,
            "description": self.description,
            "failing_rows": self.failing_rows,
            "examples": self.examples,
        }

    def failure(self) -> str:
        """`<check> failed (<n> failing rows): <description>, e.g. <a few examples>`."""
        text = f"{self.check} failed"
        if self.failing_rows:
            text += f" ({self.failing_rows} failing rows)"
        if self.description:
            text += f": {_shorten(self.description, MAX_DESCRIPTION)}"
        examples = _examples_text(self.examples)
        return text + (f", e.g. {examples}" if examples else "")


MAX_EXAMPLES = 3  # example keys per failing check in a refusal reason
MAX_DESCRIPTION = 200  # characters of a check's description in a refusal reason


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _examples_text(examples) -> str:
    """A few example keys: the first MAX_EXAMPLES of a list, or a shortened string."""
    if not examples:
        return ""
    if isinstance(examples, list | tuple):
        shown = ", ".join(str(e) for e in examples[:MAX_EXAMPLES])
        more = len(examples) - MAX_EXAMPLES
        return shown + (f" (+{more} more)" if more > 0 else "")
    return _shorten(examples, MAX_DESCRIPTION)
