"""A generated scale-1 landing zone (demo_data) ingests with the accounting of its manifest."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ingestion import FEEDS
from tests.test_ingestion_support import assert_balanced, ingest, rows

# manifest bad-row kind -> how the quarantine reason starts
REASON_KIND = {
    "unparseable timestamp": "unparseable_timestamp",
    "implausible timestamp": "implausible_timestamp",
    "implausible": "implausible_amount",
    "personal data in": "personal_data",
    "unknown event type": "unknown_event_type",
    "unknown": "unknown_enum",
    "missing required value": "missing_required",
    "non-numeric": "non_numeric",
    "non-integer": "non_numeric",
    "currency": "currency",
    "malformed JSON record": "malformed_json",
    "valid_to": "period_order",
    "negative": "negative_amount",
    "price": "too_many_decimals",  # "price '2.41255551' has more than 6 decimals"
}
BAD_FILE_ERRORS = {
    "truncated_gzip": "Compressed file ended",
    "not_json": "not JSON",
    "missing_column": "missing from the file",
}


def _kind(reason: str, feed: str) -> str:
    for prefix, kind in REASON_KIND.items():
        if reason.startswith(prefix):
            # the generator calls an unknown status of a provider record an event type
            if kind == "unknown_enum" and feed == "twilio" and "message status" in reason:
                return "unknown_event_type"
            return kind
    raise AssertionError(f"unexpected reason {reason!r}")


@pytest.fixture(scope="module")
def ingested(landing_zone, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo_ingest")
    report = ingest(tmp, landing=landing_zone)
    manifest = json.loads((landing_zone / "_generator_manifest.json").read_text())["feeds"]
    return tmp, report, manifest


def test_every_feed_loads_and_balances(ingested):
    tmp, report, manifest = ingested
    assert set(manifest) == set(FEEDS)
    for feed in FEEDS:
        summary = report.feed_summary(feed)
        assert summary["files_loaded"] > 0, feed
        assert summary["rows_loaded"] > 0, feed
    for table in {t for spec in FEEDS.values() for t in spec.tables}:
        assert rows(tmp, f"SELECT count(*) FROM raw.{table}")[0][0] > 0, table
    assert_balanced(tmp)


def test_per_file_counts_match_the_manifest(ingested):
    _, report, manifest = ingested
    by_path = {f.path: f for f in report.files}
    mismatches = []
    for entry in manifest.values():
        for f in entry["files"]:
            got = by_path[f["path"]]
            expected = ("loaded", f["rows"], sum(f["bad_rows"].values()), f["replays"])
            actual = (got.status, got.rows_read, got.rows_quarantined, got.rows_replayed)
            if expected != actual:
                mismatches.append((f["path"], expected, actual))
    assert mismatches == []
    assert len(report.files) == sum(
        len(e["files"]) + len(e["bad_files"]) for e in manifest.values()
    )


def test_quarantine_reasons_match_the_injected_bad_rows(ingested):
    tmp, _, manifest = ingested
    for feed, entry in manifest.items():
        reasons = rows(
            tmp,
            "SELECT reason FROM audit.quarantine WHERE feed = ? AND row_number IS NOT NULL",
            [feed],
        )
        assert Counter(_kind(r, feed) for (r,) in reasons) == Counter(entry["bad_rows"]), feed


def test_bad_files_are_rejected_with_their_reason(ingested):
    _, report, manifest = ingested
    by_path = {f.path: f for f in report.files}
    bad_files = [f for e in manifest.values() for f in e["bad_files"]]
    assert bad_files
    for bad in bad_files:
        got = by_path[bad["path"]]
        assert got.status == "rejected", bad
        assert BAD_FILE_ERRORS[bad["reason"]] in got.error, (bad, got.error)
        if bad["reason"] == "missing_column":
            assert bad["missing_column"] in got.error


def test_a_second_run_is_a_no_op(ingested, landing_zone):
    tmp, first, _ = ingested
    again = ingest(tmp, landing=landing_zone)
    assert {f.status for f in again.files} == {"skipped_known"}
    assert len(again.files) == len(first.files)
    assert again.totals()["rows_read"] == 0
