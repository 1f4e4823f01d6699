"""The cross-mart identity tests of the programme marts (dbt_project/tests) pass on marts that add
up and fail on marts that do not: each runs with `dbt test` on a fixture warehouse holding only
the tables it reads, filled by hand."""

from __future__ import annotations

import duckdb
import pytest

from tests.test_lift_statistics import _dbt

CHANNEL_TEST = "mart_channel_daily_adds_up_to_the_mailings"
CUSTOMERS_TEST = "mart_customers_revenue_is_all_purchases"

FIXTURE = """
create schema marts; create schema intermediate;
create table marts.mart_channel_daily (channel varchar, date date, sent bigint, delivered bigint,
    soft_bounces bigint, hard_bounces bigint, cost decimal(38, 6), direct_purchases bigint);
insert into marts.mart_channel_daily values
    ('sms', '2026-11-01', 10, 8, 1, 1, 1.50, 2), ('sms', '2026-11-02', 5, 5, 0, 0, null, 1),
    ('email', '2026-11-01', 7, 6, 0, 1, 0.70, 3);
create table marts.mart_mailing_roi (mailing_id varchar, channel varchar, messages bigint,
    cost decimal(38, 6), direct_purchases bigint);
insert into marts.mart_mailing_roi values
    ('m1', 'sms', 12, 1.50, 2), ('m2', 'sms', 3, null, 2), ('m3', 'email', 7, 0.70, 4),
    ('m4', 'push', 0, null, 0);
create table marts.mart_sms_delivery (mailing_id varchar, delivered bigint, soft_bounces bigint,
    hard_bounces bigint);
insert into marts.mart_sms_delivery values ('m1', 10, 1, 1), ('m2', 3, 0, 0);
create table marts.mart_email_domains (mailing_id varchar, domain varchar, delivered bigint,
    soft_bounces bigint, hard_bounces bigint);
insert into marts.mart_email_domains values ('m3', 'gmail.com', 5, 0, 1), ('m3', 'other', 1, 0, 0);
create table marts.mart_customers (customer_id varchar, purchases bigint,
    revenue decimal(38, 2), direct_revenue decimal(38, 2), assisted_revenue decimal(38, 2),
    organic_revenue decimal(38, 2));
insert into marts.mart_customers values ('c1', 2, 90, 100, 0, -10), ('c2', 1, 50, 0, 50, 0);
create table intermediate.int_purchase_attribution (purchase_key varchar, customer_id varchar,
    is_purchase boolean, revenue decimal(18, 2), attribution varchar);
insert into intermediate.int_purchase_attribution values
    ('p1', 'c1', true, 100, 'direct'), ('r1', 'c1', false, -10, 'organic'),
    ('p2', 'c1', true, 0, 'organic'), ('p3', 'c2', true, 50, 'assisted'),
    ('p4', null, true, 999, 'organic');
"""


@pytest.fixture()
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(FIXTURE)
    return path


def _test(name, warehouse, work) -> bool:
    result = _dbt(["test", "--select", name], warehouse, work)
    assert "Compilation Error" not in result.stdout, result.stdout
    return result.returncode == 0


def test_identities_hold_on_marts_that_add_up(warehouse, tmp_path):
    assert _test(CHANNEL_TEST, warehouse, tmp_path)
    assert _test(CUSTOMERS_TEST, warehouse, tmp_path)


@pytest.mark.parametrize(
    "breakage",
    [
        "update marts.mart_channel_daily set sent = sent + 1 where channel = 'email'",
        "update marts.mart_channel_daily set cost = 0.60 where channel = 'email'",
        "update marts.mart_sms_delivery set hard_bounces = 2 where mailing_id = 'm1'",
        "update marts.mart_email_domains set delivered = 4 where domain = 'gmail.com'",
        "update marts.mart_channel_daily set direct_purchases = 5 where channel = 'email'",
    ],
)
def test_channel_daily_identity_fails_when_a_total_differs(warehouse, tmp_path, breakage):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(breakage)
    assert not _test(CHANNEL_TEST, warehouse, tmp_path)


@pytest.mark.parametrize(
    "breakage",
    [
        "delete from intermediate.int_purchase_attribution where purchase_key = 'r1'",
        "update marts.mart_customers set assisted_revenue = 40, organic_revenue = 10 "
        "where customer_id = 'c2'",
        "update marts.mart_customers set purchases = 3 where customer_id = 'c1'",
    ],
)
def test_customers_identity_fails_when_a_purchase_is_lost_or_moved(warehouse, tmp_path, breakage):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(breakage)
    assert not _test(CUSTOMERS_TEST, warehouse, tmp_path)
