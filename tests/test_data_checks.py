"""The Great Expectations checks (data_checks/) on a small hand-built warehouse, and as Dagster
asset checks read back the way the publish step reads them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_checks.runner import CheckResult, run_suites
from data_checks.settings import CheckSettings

NOW = datetime(2026, 11, 23, 12, 0, 0)
SETTINGS = CheckSettings(now=NOW)
EMAIL = "jane.doe@example.com"

SCHEMA = """
create schema marts; create schema facts; create schema intermediate; create schema audit;
create table marts.mart_mailing_funnel (
    mailing_id varchar, variant varchar, channel varchar, sent bigint,
    delivery_rate double, open_rate double, conversion_rate double, click_to_open_rate double,
    click_rate double, unsubscribe_rate double, spam_rate double);
create table marts.mart_mailing_volume (
    mailing_id varchar, campaign_id varchar, channel varchar, audience_total bigint,
    address_issue bigint);
create table marts.mart_suppressions (contact_hash varchar, channel varchar, hard_bounces bigint);
create table facts.fct_dispatches (
    dispatch_id varchar, mailing_id varchar, provider varchar, provider_message_id varchar);
create table facts.fct_purchases (
    purchase_key varchar, purchase_source varchar, source_id varchar, gross_amount decimal(18, 2));
create table facts.fct_purchase_lines (
    purchase_line_key varchar, purchase_key varchar, line_number bigint,
    gross_amount decimal(18, 2));
create table intermediate.int_provider_events (
    provider_event_key varchar, source_feed varchar, source_event_name varchar,
    provider varchar, provider_message_id varchar, is_matched_to_dispatch boolean);
create table audit.ingested_files (
    file_hash varchar, feed varchar, path varchar, status varchar, ingested_at timestamp);
"""

GOOD_DATA = """
insert into marts.mart_mailing_funnel values
    ('mlg-1', 'all', 'email', 100, 0.9, 0.5, 0.1, 0.2, 0.1, 0.01, 0.0),
    ('mlg-1', 'A', 'email', 50, 0.8, 0.4, null, 0.2, 0.1, 0.0, 0.0),
    ('mlg-2', 'all', 'sms', 10, 1.0, null, 0.0, null, 0.3, 0.0, 0.0);
insert into marts.mart_mailing_volume values
    ('mlg-1', 'cmp-1', 'email', 120, 3), ('mlg-2', null, 'sms', 12, 0);
insert into marts.mart_suppressions values (repeat('ab', 32), 'email', 3);
insert into facts.fct_dispatches
    select 'd' || i, 'mlg-1', 'sendgrid', case when i % 10 = 0 then null else 'm' || i end
    from range(200) t(i);
-- 100 receipts of two lines each, summing to the total
insert into facts.fct_purchases select 'pos:R' || i, 'pos', 'R' || i, 30.00 from range(100) t(i);
insert into facts.fct_purchase_lines
    select 'R' || i || '-' || n, 'pos:R' || i, n, case n when 1 then 10.00 else 20.00 end
    from range(100) t(i), range(1, 3) s(n);
-- 100 provider events matched to a dispatch, and 20 Twilio inbound opt-outs (no dispatch)
insert into intermediate.int_provider_events
    select 'e' || i, 'sendgrid_events', 'delivered', 'sendgrid', 'm' || i, true
    from range(100) t(i);
insert into intermediate.int_provider_events
    select 'o' || i, 'twilio_messages', 'inbound_opt_out', 'twilio', null, false
    from range(20) t(i);
insert into audit.ingested_files values
    ('h1', 'sendgrid', 'sendgrid/a.json', 'loaded', timestamp '2026-11-23 06:00:00'),
    ('h2', 'receipts', 'receipts/a.csv', 'loaded', timestamp '2026-11-22 20:00:00'),
    ('h3', 'receipts', 'receipts/b.csv', 'rejected', timestamp '2026-11-23 11:00:00');
"""

BREAKAGE = f"""
insert into marts.mart_mailing_funnel
    select * from marts.mart_mailing_funnel where mailing_id = 'mlg-1' and variant = 'all';
update marts.mart_mailing_funnel set open_rate = 1.2 where mailing_id = 'mlg-2';
update marts.mart_mailing_volume set campaign_id = 'write to {EMAIL}' where mailing_id = 'mlg-2';
insert into facts.fct_dispatches values ('d1', 'mlg-1', 'sendgrid', 'm1');
-- 10 of 100 events (opt-outs aside) match no dispatch
update intermediate.int_provider_events set is_matched_to_dispatch = false
    where source_feed = 'sendgrid_events' and provider_message_id in
        (select 'm' || i from range(90, 100) t(i));
-- 2 of 100 receipts whose lines do not sum to the total
update facts.fct_purchase_lines set gross_amount = 25.00
    where purchase_key in ('pos:R7', 'pos:R42')
    and line_number = 2;
"""


def build_warehouse(path: Path, broken: bool = False) -> Path:
    with duckdb.connect(str(path)) as conn:
        conn.execute(SCHEMA)
        conn.execute(GOOD_DATA)
        if broken:
            conn.execute(BREAKAGE)
    return path


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("good") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def broken_warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("broken") / "warehouse.duckdb", broken=True)


def by_key(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {f"{'/'.join(r.asset_key)}:{r.check_name}": r for r in results}


def test_good_warehouse_passes_every_check(good_warehouse):
    results = by_key(run_suites(good_warehouse, SETTINGS))
    failed = {k: (r.failing_rows, r.examples) for k, r in results.items() if not r.passed}
    assert not failed
    assert {
        "marts/mart_mailing_funnel:gx_unique_key",
        "marts/mart_mailing_funnel:gx_keys_not_null",
        "marts/mart_mailing_funnel:gx_rates_in_range",
        "marts/mart_mailing_volume:gx_no_personal_data",
        "marts/mart_suppressions:gx_no_personal_data",  # contact_hash is the allowed exception
        "facts/fct_dispatches:gx_unique_key",
        "facts/fct_purchases:gx_receipt_lines_sum_to_total",
        "intermediate/int_provider_events:gx_events_matched_to_dispatches",
        "audit/ingested_files:gx_feed_freshness",
    } <= set(results)
    assert results["marts/mart_mailing_funnel:gx_unique_key"].blocking
    assert results["audit/ingested_files:gx_feed_freshness"].severity == "WARN"
    assert not results["audit/ingested_files:gx_feed_freshness"].blocking


def test_broken_warehouse_fails_the_right_checks(broken_warehouse):
    results = by_key(run_suites(broken_warehouse, SETTINGS))
    failed = {k for k, r in results.items() if not r.passed}
    assert failed == {
        "marts/mart_mailing_funnel:gx_unique_key",
        "marts/mart_mailing_funnel:gx_rates_in_range",
        "marts/mart_mailing_volume:gx_no_personal_data",
        "facts/fct_dispatches:gx_unique_key",
        "intermediate/int_provider_events:gx_events_matched_to_dispatches",
        "facts/fct_purchases:gx_receipt_lines_sum_to_total",
    }

    duplicate = results["marts/mart_mailing_funnel:gx_unique_key"]
    assert duplicate.failing_rows == 2
    assert "mailing_id=mlg-1, variant=all" in duplicate.examples
    assert duplicate.severity == "ERROR" and duplicate.blocking

    rate = results["marts/mart_mailing_funnel:gx_rates_in_range"]
    assert (rate.failing_rows, rate.examples) == (1, "open_rate: 1.2")

    pii = results["marts/mart_mailing_volume:gx_no_personal_data"]
    assert pii.failing_rows == 1
    assert "campaign_id: write to <email>" in pii.examples
    assert EMAIL not in pii.examples  # the examples never repeat the personal data

    dispatches = results["facts/fct_dispatches:gx_unique_key"]
    assert dispatches.failing_rows == 4  # d1 twice, and (sendgrid, m1) twice
    assert "dispatch_id: d1" in dispatches.examples

    events = results["intermediate/int_provider_events:gx_events_matched_to_dispatches"]
    assert events.failing_rows == 10  # 10 %: the 20 inbound opt-outs do not count
    assert "sendgrid/sendgrid_events delivered message=m90" in events.examples

    receipts = results["facts/fct_purchases:gx_receipt_lines_sum_to_total"]
    assert receipts.failing_rows == 2
    assert receipts.examples == "R42 total=30.00 lines=35.00; R7 total=30.00 lines=35.00"


def test_personal_data_columns_are_refused(tmp_path):
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as conn:
        conn.execute("alter table marts.mart_mailing_volume add column email_hash varchar")
        conn.execute("alter table marts.mart_mailing_funnel add column phone varchar")
        conn.execute("update marts.mart_mailing_funnel set phone = '+7 (912) 345-67-89'")
    results = by_key(run_suites(path, SETTINGS))
    volume = results["marts/mart_mailing_volume:gx_no_personal_data"]
    assert not volume.passed and "column_name: email_hash" in volume.examples
    funnel = results["marts/mart_mailing_funnel:gx_no_personal_data"]
    assert not funnel.passed
    assert funnel.failing_rows == 4  # the column name, and its value in 3 rows
    assert "912" not in funnel.examples and "<phone>" in funnel.examples


def test_programme_marts_rules_and_a_count_named_after_email(tmp_path):
    """reports.md's rules of a mart's own columns (a channel it knows, delivered never above sent)
    fail on the rows that break them; `messages_email` is a count, not personal data."""
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "create table marts.mart_channel_daily (channel varchar, date date, mailings bigint, "
            "sent bigint, delivered bigint, unique_clickers bigint, delivery_rate double); "
            "insert into marts.mart_channel_daily values "
            "('email', '2026-11-01', 1, 10, 9, 2, 0.9), ('fax', '2026-11-01', 1, 5, 5, 0, 1.0), "
            "('sms', '2026-11-01', 1, 5, 6, null, null); "
            "create table marts.mart_customers (customer_id varchar, messages_email bigint); "
            "insert into marts.mart_customers values ('c1', 3)"
        )
    results = by_key(run_suites(path, SETTINGS))
    rules = results["marts/mart_channel_daily:gx_column_rules"]
    assert (rules.passed, rules.failing_rows) == (False, 2)
    assert "fax" in rules.examples and "(5, 6)" in rules.examples
    assert results["marts/mart_customers:gx_no_personal_data"].passed
    assert results["marts/mart_customers:gx_unique_key"].passed


def test_a_pii_hash_under_another_column_name_is_refused(tmp_path):
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as conn:
        conn.execute("update marts.mart_mailing_volume set campaign_id = repeat('cd', 32)")
    result = by_key(run_suites(path, SETTINGS))["marts/mart_mailing_volume:gx_no_personal_data"]
    assert (result.passed, result.failing_rows) == (False, 2)
    assert result.examples == "campaign_id: <hash>"


def test_thresholds_are_strictly_more_than(tmp_path):
    """5 % unmatched events and 1 % unbalanced receipts still pass; one more fails."""
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "update intermediate.int_provider_events set is_matched_to_dispatch = false "
            "where provider_event_key in ('e1', 'e2', 'e3', 'e4', 'e5')"
        )
        conn.execute("update facts.fct_purchases set gross_amount = 30.01 where source_id = 'R1'")
        conn.execute("update facts.fct_purchases set gross_amount = 31.00 where source_id = 'R2'")
    results = by_key(run_suites(path, SETTINGS))
    assert results["intermediate/int_provider_events:gx_events_matched_to_dispatches"].passed
    receipts = results["facts/fct_purchases:gx_receipt_lines_sum_to_total"]
    assert receipts.passed and receipts.failing_rows == 1  # R1 is within 0.01
    strict = CheckSettings(now=NOW, max_unmatched_event_share=0.04)
    assert not by_key(run_suites(path, strict))[
        "intermediate/int_provider_events:gx_events_matched_to_dispatches"
    ].passed


def test_stale_feeds_warn_by_default_and_block_when_configured(good_warehouse):
    later = NOW + timedelta(hours=40)  # receipts' newest loaded file is then 56 h old
    settings = CheckSettings(now=later, freshness_limits={"push": 24})
    (warning,) = [
        r for r in run_suites(good_warehouse, settings) if r.check_name == "gx_feed_freshness"
    ]
    assert not warning.passed and warning.severity == "WARN" and not warning.blocking
    assert warning.failing_rows == 2  # receipts too old, push never loaded
    assert warning.examples.startswith("push: never loaded; receipts: newest file 56.0 h old")

    blocking = CheckSettings(now=later, freshness_blocking=True)
    (error,) = [
        r for r in run_suites(good_warehouse, blocking) if r.check_name == "gx_feed_freshness"
    ]
    assert not error.passed and error.severity == "ERROR" and error.blocking


def test_a_requested_check_on_a_missing_table_fails(good_warehouse):
    wanted = [(("marts", "mart_campaigns"), "gx_unique_key")]
    (result,) = run_suites(good_warehouse, SETTINGS, checks=wanted)
    assert not result.passed and result.blocking
    assert "not in the warehouse" in result.description


def _run_dagster_checks(warehouse_path: Path, monkeypatch):
    from orchestration.assets.checks import build_data_quality_checks
    from orchestration.publication_gate import check_outcomes
    from orchestration.resources import Warehouse
    from orchestration.settings import Settings

    monkeypatch.delenv("CW_WAREHOUSE_PATH", raising=False)
    keys = [
        dg.AssetKey(path)
        for path in (
            ["marts", "mart_mailing_funnel"],
            ["marts", "mart_mailing_volume"],
            ["marts", "mart_suppressions"],
            ["facts", "fct_dispatches"],
            ["facts", "fct_purchases"],
            ["intermediate", "int_provider_events"],
            ["audit", "ingested_files"],
        )
    ]
    checks = build_data_quality_checks(keys, SETTINGS)
    defs = dg.Definitions(
        assets=[dg.AssetSpec(key) for key in keys],  # external upstream assets
        asset_checks=[checks],
        jobs=[dg.define_asset_job("gx_checks", selection=dg.AssetSelection.all_asset_checks())],
        resources={
            "warehouse": Warehouse(
                Settings(
                    landing_dir=warehouse_path.parent / "landing",
                    data_dir=warehouse_path.parent,
                    pii_hash_key="test-key",
                )
            )
        },
    )
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("gx_checks")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    evaluations = {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }
    outcomes = {o.check: o for o in check_outcomes(instance, result.run_id)}
    return result, checks, evaluations, outcomes


def test_dagster_checks_pass_on_a_good_warehouse(good_warehouse, monkeypatch):
    result, checks, evaluations, outcomes = _run_dagster_checks(good_warehouse, monkeypatch)
    assert result.success
    assert len(evaluations) == len(checks.check_specs) == len(outcomes) > 10
    assert all(outcome.passed for outcome in outcomes.values())


def test_dagster_multi_asset_check_reports_every_check(broken_warehouse, monkeypatch):
    result, checks, evaluations, outcomes = _run_dagster_checks(broken_warehouse, monkeypatch)
    # Dagster fails the step when a blocking check fails with ERROR severity, after recording
    # every evaluation
    assert not result.success
    specs = {f"{s.asset_key.to_user_string()}:{s.name}": s for s in checks.check_specs}
    assert set(evaluations) == set(specs) == set(outcomes)
    assert specs["marts/mart_mailing_funnel:gx_unique_key"].blocking
    assert not specs["audit/ingested_files:gx_feed_freshness"].blocking

    duplicate = evaluations["marts/mart_mailing_funnel:gx_unique_key"]
    assert not duplicate.passed and duplicate.severity == dg.AssetCheckSeverity.ERROR
    assert duplicate.metadata["failing_rows"].value == 2

    # what the publish step reads (orchestration/publication_gate.py)
    receipts = outcomes["facts/fct_purchases:gx_receipt_lines_sum_to_total"]
    assert (receipts.passed, receipts.blocking, receipts.failing_rows) == (False, True, 2)
    assert receipts.examples.startswith("R42 total=30.00")
    assert outcomes["marts/mart_suppressions:gx_no_personal_data"].passed


def test_the_registered_checks_cover_every_mart_of_the_manifest():
    from orchestration.assets.checks import GREAT_EXPECTATIONS_CHECKS, great_expectations_checks
    from orchestration.assets.publish import MART_KEYS

    # the marts' checks are in the step after the marts; all stages together have every check
    assert set(MART_KEYS) <= {key.asset_key for key in great_expectations_checks.check_keys}
    all_keys = [key for checks in GREAT_EXPECTATIONS_CHECKS for key in checks.check_keys]
    assert len(all_keys) == len(set(all_keys))
    names = {key.name for key in all_keys}
    assert {"gx_unique_key", "gx_no_personal_data", "gx_feed_freshness"} <= names


def test_a_declared_rate_column_missing_from_the_mart_fails(tmp_path):
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(path)) as conn:
        conn.execute("alter table marts.mart_mailing_funnel drop column spam_rate")
    result = by_key(run_suites(path, SETTINGS))["marts/mart_mailing_funnel:gx_rates_in_range"]
    assert not result.passed
    assert "spam_rate: expect_column_values_to_be_between raised" in result.examples
    assert "does not exist" in result.examples


def test_publication_waits_for_the_checks_once_registered():
    from dagster._core.execution.api import create_execution_plan

    from orchestration.assets.checks import great_expectations_checks
    from orchestration.definitions import defs
    from orchestration.publication_gate import PUBLISHED_KEY, required_blocking_checks

    merged = dg.Definitions.merge(defs, dg.Definitions(asset_checks=[great_expectations_checks]))
    required = required_blocking_checks(merged.resolve_asset_graph(), PUBLISHED_KEY)
    assert "marts/mart_mailing_funnel:gx_no_personal_data" in required
    assert "facts/fct_purchases:gx_receipt_lines_sum_to_total" in required
    assert "audit/ingested_files:gx_feed_freshness" not in required  # a warning by default
    plan = create_execution_plan(merged.resolve_job_def("campaign_warehouse"))
    publish = next(s for s in plan.get_all_steps_in_topo_order() if s.key.startswith("published"))
    assert "great_expectations_checks" in publish.get_execution_dependency_keys()


EDGE_CASES = """
create table edge (k varchar, k2 varchar, rate double, txt varchar, a double, b double);
insert into edge values
    ('a', 'x', 0.5, 'plain text', 2, 1),
    ('a', 'x', 1.5, 'mail jane.doe@example.com', 1, 1),
    ('b', null, -0.1, 'call +7 (912) 345-67-89', 0, 1),
    ('b', null, 'nan'::double, null, null, null),
    (null, null, null, 'abc', null, 3),
    (null, null, 1.0, 'ABC', 4, null),
    ('c', 'y', 0.0, repeat('ab', 32), 1, 1);
"""


def test_sql_validation_agrees_with_great_expectations_on_pandas(tmp_path):
    """Each compiled expectation counts exactly the rows GX's own (pandas) validation rejects:
    nulls, NaN, duplicated keys with missing parts, regex search."""
    import great_expectations as gx

    from data_checks.suites import EMAIL_PATTERN, HASH_PATTERN, PHONE_PATTERN
    from data_checks.validation import gxe, validate_relation

    e = gxe()
    expectations = [
        e.ExpectColumnValuesToBeUnique(column="k"),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["k", "k2"], ignore_row_if="all_values_are_missing"
        ),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["k", "k2"], ignore_row_if="any_value_is_missing"
        ),
        e.ExpectColumnValuesToNotBeNull(column="k2"),
        e.ExpectColumnValuesToBeBetween(column="rate", min_value=0, max_value=1),
        *(
            e.ExpectColumnValuesToNotMatchRegex(column="txt", regex=pattern)
            for pattern in (EMAIL_PATTERN, PHONE_PATTERN, HASH_PATTERN)
        ),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="a", column_B="b", or_equal=True),
        e.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="a", column_B="b", or_equal=True, ignore_row_if="either_value_is_missing"
        ),
        e.ExpectColumnValuesToBeInSet(column="k", value_set=["a", "c"]),
    ]
    with duckdb.connect(str(tmp_path / "edge.duckdb")) as conn:
        conn.execute(EDGE_CASES)
        ours = validate_relation(conn, "edge", expectations, ["k", "k2", "rate", "txt", "a", "b"])
        frame = conn.sql("select * from edge").df()

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("edge")
        .add_dataframe_asset("edge")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name="edge", expectations=[x.copy() for x in expectations])
    results = batch.validate(suite, result_format="SUMMARY").results

    def result_of(expectation):  # GX orders results its own way: find each by its config
        config = expectation.configuration
        found = [
            r
            for r in results
            if r.expectation_config.type == config.type
            and {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"}
            == dict(config.kwargs)
        ]
        (result,) = found
        return result

    theirs = [result_of(x) for x in expectations]

    assert [o.error for o in ours] == [None] * len(expectations)
    assert [(o.success, o.unexpected_count) for o in ours] == [
        (bool(r.success), int(r.result.get("unexpected_count") or 0)) for r in theirs
    ]
    assert sum(not o.success for o in ours) >= 9  # the edge cases do fail
