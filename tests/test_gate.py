"""The publication gate's decision: a blocking check that failed or did not run refuses."""

from data_checks.gate import CheckOutcome, decide


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
    assert decision.failures == ["b:y did not run in this build"]


def test_failed_warning_does_not_refuse():
    decision = decide({"a:x"}, [outcome("a:x"), outcome("c:fresh", passed=False, blocking=False)])
    assert decision.passed


def test_latest_outcome_of_a_retried_check_counts():
    decision = decide({"a:x"}, [outcome("a:x", passed=False), outcome("a:x", passed=True)])
    assert decision.passed
