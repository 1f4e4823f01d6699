"""The publication gate's decision: a blocking check that failed or did not run refuses."""

from data_checks.outcome import CheckOutcome
from orchestration.publication_gate import decide, refusal_reason


def outcome(check, passed=True, blocking=True, **kw):
    return CheckOutcome(check=check, passed=passed, severity="ERROR", blocking=blocking, **kw)


def test_all_required_checks_passed_publishes():
    decision = decide({"a:x", "b:y"}, [outcome("a:x"), outcome("b:y")])
    assert decision.passed
    assert decision.summary() == "all 2 blocking checks passed"


def test_failed_blocking_check_refuses_with_count_and_examples():
    decision = decide({"a:x"}, [outcome("a:x", passed=False, failing_rows=3, examples="m1, m2")])
    assert not decision.passed
    assert decision.failures == ["a:x failed (3 failing rows), e.g. m1, m2"]


def test_check_that_did_not_run_refuses():
    decision = decide({"a:x", "b:y"}, [outcome("a:x")])
    assert not decision.passed
    assert decision.failures == [
        "1 blocking check did not run in this build (a step upstream failed or was skipped), on b"
    ]


def test_failed_warning_does_not_refuse():
    decision = decide({"a:x"}, [outcome("a:x"), outcome("c:fresh", passed=False, blocking=False)])
    assert decision.passed


def test_latest_outcome_of_a_retried_check_counts():
    decision = decide({"a:x"}, [outcome("a:x", passed=False), outcome("a:x", passed=True)])
    assert decision.passed


def test_refusal_reason_lists_failures_first_and_summarises_checks_that_did_not_run():
    required = {"a:x", "a:y"} | {f"marts/m{i}:unique" for i in range(40)}
    outcomes = [
        outcome("a:x", passed=False, failing_rows=2, examples=["k1", "k2"]),
        outcome("a:y", passed=False, failing_rows=1000, examples=["r1", "r2", "r3", "r4", "r5"]),
    ]

    reason = refusal_reason(decide(required, outcomes), ["step dbt_models failed"])

    lines = reason.splitlines()
    assert lines == [
        "publication refused: 2 blocking checks failed, 1 step failed, 40 did not run",
        "- a:y failed (1000 failing rows), e.g. r1, r2, r3 (+2 more)",
        "- a:x failed (2 failing rows), e.g. k1, k2",
        "- step dbt_models failed",
        "- 40 blocking checks did not run in this build (a step upstream failed or was skipped), "
        "on marts/m0, marts/m1, marts/m10, marts/m11, marts/m12 and 35 more",
    ]


def test_refusal_reason_stays_one_screen_with_many_failing_checks():
    outcomes = [
        outcome(f"a:c{i:02d}", passed=False, failing_rows=1, examples="x" * 500) for i in range(30)
    ]

    lines = refusal_reason(decide(set(), outcomes)).splitlines()

    assert len(lines) == 1 + 12 + 1 and lines[-1] == "- and 18 more failing checks"
    assert max(len(line) for line in lines) < 300
