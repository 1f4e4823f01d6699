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
        """`<check> failed (<n> failing rows): <description>, e.g. <examples>`."""
        text = f"{self.check} failed"
        if self.failing_rows:
            text += f" ({self.failing_rows} failing rows)"
        if self.description:
            text += f": {self.description}"
        return text + (f", e.g. {self.examples}" if self.examples else "")


@dataclass
class GateDecision:
    passed: bool
    failures: list[str] = field(default_factory=list)
    outcomes: list[CheckOutcome] = field(default_factory=list)

    def summary(self) -> str:
        if self.passed:
            blocking = sum(1 for o in self.outcomes if o.blocking)
            return f"all {blocking} blocking checks passed"
        return "publication refused: " + "; ".join(self.failures)


def decide(required_checks: set[str], outcomes: list[CheckOutcome]) -> GateDecision:
    """Decide publication from the required (blocking) checks and the outcomes of this build."""
    latest = {outcome.check: outcome for outcome in outcomes}
    failures: list[str] = []
    for check in sorted(required_checks):
        outcome = latest.get(check)
        if outcome is None:
            failures.append(f"{check} did not run in this build")
        elif not outcome.passed:
            failures.append(outcome.failure())
    for outcome in latest.values():
        if outcome.blocking and not outcome.passed and outcome.check not in required_checks:
            failures.append(outcome.failure())
    return GateDecision(passed=not failures, failures=failures, outcomes=list(latest.values()))
