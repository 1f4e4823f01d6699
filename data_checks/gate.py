"""The publication gate: publish only when every blocking check of this build ran and passed.

Pure logic, no Dagster: the caller lists the checks that must have run (the blocking checks on
everything upstream of the published tables) and the outcomes the run actually produced. A check
that did not run counts as failed: publication never depends on Dagster skipping a step.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
MAX_LISTED_FAILURES = 12  # failing checks listed one by one; the rest are counted


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


def not_run_summary(not_run: list[str]) -> str:
    """One line for the blocking checks that did not run (their step, or one upstream, failed)."""
    assets = sorted({check.split(":", 1)[0] for check in not_run})
    shown = ", ".join(assets[:5]) + (f" and {len(assets) - 5} more" if len(assets) > 5 else "")
    return (
        f"{len(not_run)} blocking check{'s' if len(not_run) != 1 else ''} did not run in this "
        f"build (a step upstream failed or was skipped), on {shown}"
    )


@dataclass
class GateDecision:
    passed: bool
    failed: list[CheckOutcome] = field(default_factory=list)  # blocking checks that failed
    not_run: list[str] = field(default_factory=list)  # required checks with no outcome
    outcomes: list[CheckOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """One line per failing check, then one line for every check that did not run."""
        lines = [outcome.failure() for outcome in self.failed]
        return lines + ([not_run_summary(self.not_run)] if self.not_run else [])

    def summary(self) -> str:
        if self.passed:
            blocking = sum(1 for o in self.outcomes if o.blocking)
            return f"all {blocking} blocking checks passed"
        return refusal_reason(self)


def refusal_reason(decision: GateDecision, step_failures: list[str] | tuple = ()) -> str:
    """Why a build was not published, readable on one screen.

    The failing checks first (with failing row counts and a few example keys), at most
    MAX_LISTED_FAILURES of them; then the failed steps; then one line for the checks that did
    not run because something upstream failed.
    """
    counts = [
        f"{len(decision.failed)} blocking check{'s' if len(decision.failed) != 1 else ''} failed"
    ]
    if step_failures:
        counts.append(f"{len(step_failures)} step{'s' if len(step_failures) != 1 else ''} failed")
    if decision.not_run:
        counts.append(f"{len(decision.not_run)} did not run")
    lines = ["publication refused: " + ", ".join(counts)]
    listed = decision.failed[:MAX_LISTED_FAILURES]
    lines += [f"- {outcome.failure()}" for outcome in listed]
    if len(decision.failed) > len(listed):
        lines.append(f"- and {len(decision.failed) - len(listed)} more failing checks")
    lines += [f"- {failure}" for failure in step_failures]
    if decision.not_run:
        lines.append(f"- {not_run_summary(decision.not_run)}")
    return "\n".join(lines)


def decide(required_checks: set[str], outcomes: list[CheckOutcome]) -> GateDecision:
    """Decide publication from the required (blocking) checks and the outcomes of this build."""
    latest = {outcome.check: outcome for outcome in outcomes}
    not_run = sorted(check for check in required_checks if check not in latest)
    failed = [
        outcome
        for outcome in latest.values()
        if not outcome.passed and (outcome.blocking or outcome.check in required_checks)
    ]
    failed.sort(key=lambda outcome: (-(outcome.failing_rows or 0), outcome.check))
    return GateDecision(
        passed=not failed and not not_run,
        failed=failed,
        not_run=not_run,
        outcomes=list(latest.values()),
    )
