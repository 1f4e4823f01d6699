"""mart_group_lift's statistics, computed by the model's own SQL, match statsmodels and scipy.

A fixture warehouse holds only the two intermediates the mart reads, filled with chosen counts;
`dbt run --select mart_group_lift` then runs the real model on it. The erfc macro is also
compiled on its own and evaluated in DuckDB against scipy over the whole real line.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import duckdb
import pytest
from scipy.special import erfc
from scipy.stats import beta, norm
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from tests.conftest import REPO

DBT = Path(sys.executable).parent / "dbt"
PROJECT = REPO / "dbt_project"
Z_95 = 1.959963984540054

# mailing_id -> {group: (members, buyers)}; "treatment" is the sum of its variants.
CASES: dict[str, dict[str, tuple[int, int]]] = {
    "typical": {"A": (1000, 123), "control": (1000, 98)},
    "p_about_1e-8": {"A": (2000, 553), "control": (2000, 400)},
    "far_tail": {"A": (100, 90), "control": (100, 10)},
    "equal_rates": {"A": (100, 10), "control": (200, 20)},
    "tiny_groups": {"A": (2, 1), "control": (1, 0)},
    "two_variants": {"A": (37, 5), "B": (41, 12), "control": (29, 3)},
    "control_worse": {"A": (500, 20), "control": (450, 45)},
    "no_buyers": {"A": (50, 0), "control": (40, 0)},
}


def _dbt(args: list[str], warehouse: Path, work: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CW_WAREHOUSE_PATH": str(warehouse)}
    return subprocess.run(
        [
            str(DBT),
            *args,
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _fixture_rows():
    recipients, purchases = [], []
    for mailing, groups in CASES.items():
        for grp, (members, buyers) in groups.items():
            for i in range(members):
                customer = f"{mailing}-{grp}-{i}"
                in_treatment = grp != "control"
                recipients.append(
                    (
                        mailing,
                        customer,
                        "treatment" if in_treatment else "control",
                        grp if in_treatment else None,
                        "good",
                        True,
                    )
                )
                if i < buyers:
                    purchases.append((mailing, customer, f"pos:{customer}", True, 10.0))
        # An ineligible member never counts (intent to treat covers only `good` members).
        recipients.append((mailing, f"{mailing}-blocked", "control", None, "policy_blocked", True))
    return recipients, purchases


@pytest.fixture(scope="module")
def lift_rows(tmp_path_factory) -> dict[tuple[str, str], dict]:
    work = tmp_path_factory.mktemp("lift")
    warehouse = work / "warehouse.duckdb"
    recipients, purchases = _fixture_rows()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_mailing_recipients (mailing_id varchar, "
            "customer_id varchar, grp varchar, variant varchar, eligibility varchar, "
            "is_audience_member boolean)"
        )
        con.executemany(
            "insert into intermediate.int_mailing_recipients values (?, ?, ?, ?, ?, ?)", recipients
        )
        con.execute(
            "create table intermediate.int_mailing_purchases (mailing_id varchar, "
            "customer_id varchar, purchase_key varchar, is_purchase boolean, "
            "revenue decimal(18, 2))"
        )
        con.executemany(
            "insert into intermediate.int_mailing_purchases values (?, ?, ?, ?, ?)", purchases
        )
        con.execute(
            "create table intermediate.int_mailing_names as select distinct mailing_id, "
            "'Mailing ' || mailing_id as mailing_name, null::varchar as campaign_name "
            "from intermediate.int_mailing_recipients"
        )
    result = _dbt(["run", "--select", "int_group_outcomes", "mart_group_lift"], warehouse, work)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.mart_group_lift")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return {(row["mailing_id"], row["grp"]): row for row in rows}


def _counts(mailing: str, grp: str) -> tuple[int, int]:
    groups = CASES[mailing]
    if grp == "treatment":
        variants = [v for g, v in groups.items() if g != "control"]
        return sum(v[0] for v in variants), sum(v[1] for v in variants)
    return groups[grp]


def _compared_groups():
    for mailing, groups in CASES.items():
        for grp in [*(g for g in groups if g != "control"), "treatment"]:
            yield mailing, grp


@pytest.mark.parametrize(("mailing", "grp"), list(_compared_groups()))
def test_interval_and_p_value_match_statsmodels(lift_rows, mailing, grp):
    row = lift_rows[(mailing, grp)]
    n1, x1 = _counts(mailing, grp)
    n0, x0 = CASES[mailing]["control"]
    assert (row["members"], row["buyers"]) == (n1, x1)

    low, high = confint_proportions_2indep(x1, n1, x0, n0, method="wald", compare="diff")
    assert math.isclose(row["lift_ci_low"], low, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(row["lift_ci_high"], high, rel_tol=1e-9, abs_tol=1e-12)
    # statsmodels' Wald interval is the unpooled one with z = 1.959963984540054.
    p1, p0 = x1 / n1, x0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert math.isclose(row["lift_ci_low"], p1 - p0 - Z_95 * se, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(row["lift_abs"], p1 - p0, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(row["incremental_buyers"], (p1 - p0) * n1, rel_tol=1e-9, abs_tol=1e-9)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, expected_p = proportions_ztest([x1, x0], [n1, n0])
    if math.isnan(expected_p):
        # No variance in the pooled rate (nobody, or everybody, bought): no test possible.
        assert row["p_value"] is None
    else:
        assert math.isclose(row["p_value"], expected_p, rel_tol=1e-9, abs_tol=1e-300)


def test_cases_cover_the_interesting_regimes(lift_rows):
    assert 5e-9 < lift_rows[("p_about_1e-8", "A")]["p_value"] < 2e-8
    assert lift_rows[("far_tail", "A")]["p_value"] < 1e-20
    assert lift_rows[("equal_rates", "A")]["p_value"] == pytest.approx(1.0, abs=1e-15)
    assert lift_rows[("no_buyers", "A")]["lift_rel"] is None


def test_control_row_has_no_lift(lift_rows):
    for mailing in CASES:
        row = lift_rows[(mailing, "control")]
        assert row["members"] == CASES[mailing]["control"][0]
        assert row["lift_abs"] is None and row["p_value"] is None
        assert row["lift_ci_low"] is None and row["incremental_revenue"] is None


def test_erfc_macro_is_accurate_to_1e_12_relative(tmp_path):
    warehouse = tmp_path / "empty.duckdb"
    duckdb.connect(str(warehouse)).close()
    result = _dbt(
        ["compile", "--quiet", "--output", "text", "--inline", "select x, {{ erfc('x') }} as v"],
        warehouse,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    expression = result.stdout.strip()
    assert expression.lower().startswith("select")
    xs = [i / 64 for i in range(-64 * 8, 64 * 8 + 1)]
    xs += [0.46875, 0.46876, 3.999999, 4.0, 4.000001, 5.7, 9.5, 20.0, 26.0, 27.5, 1e-9, -1e-9]
    with duckdb.connect() as con:
        con.execute("create table t as select unnest(?::double[]) as x", [xs])
        rows = con.execute(f"select x, v from ({expression} from t)").fetchall()
    assert len(rows) == len(xs)
    for x, value in rows:
        expected = float(erfc(x))
        if expected < 1e-300:
            # Below the normal doubles (x > 26.54): Cody's XBIG, the macro returns 0.
            assert 0.0 <= value < 1e-300
        else:
            assert abs(value - expected) <= 1e-12 * expected, (x, value, expected)
    # The two-sided normal p-value it serves: erfc(|z| / sqrt 2) = 2 * norm.sf(|z|).
    assert math.isclose(float(erfc(5.7 / math.sqrt(2))), 2 * norm.sf(5.7), rel_tol=1e-12)


# mailing_id -> {variant: (members, buyers)}; mart_variant_tests compares every pair.
VARIANT_CASES: dict[str, dict[str, tuple[int, int]]] = {
    "three_variants": {"A": (1000, 123), "B": (1000, 98), "C": (950, 160)},
    "far_tail": {"A": (100, 90), "B": (100, 10)},
    "equal_rates": {"A": (100, 10), "B": (200, 20)},
    "tiny": {"A": (2, 1), "B": (1, 0)},
    "near_threshold": {"A": (1000, 100), "B": (1000, 127)},
    "no_buyers": {"A": (50, 0), "B": (40, 0)},
}


@pytest.fixture(scope="module")
def variant_rows(tmp_path_factory) -> dict[tuple[str, str, str], dict]:
    work = tmp_path_factory.mktemp("variants")
    warehouse = work / "warehouse.duckdb"
    outcomes = [
        (mailing, variant, members, buyers, buyers, 10.0 * buyers)
        for mailing, variants in VARIANT_CASES.items()
        for variant, (members, buyers) in variants.items()
    ]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_group_outcomes (mailing_id varchar, grp varchar, "
            "members bigint, buyers bigint, purchases bigint, revenue decimal(38, 2))"
        )
        con.executemany(
            "insert into intermediate.int_group_outcomes values (?, ?, ?, ?, ?, ?)", outcomes
        )
        # treatment and control rows are no variants: they never pair
        con.execute(
            "insert into intermediate.int_group_outcomes values "
            "('three_variants', 'treatment', 2950, 381, 381, 0), "
            "('three_variants', 'control', 500, 40, 40, 0)"
        )
        con.execute(
            "create table intermediate.int_mailing_names as select distinct mailing_id, "
            "'Mailing ' || mailing_id as mailing_name, null::varchar as campaign_name "
            "from intermediate.int_group_outcomes"
        )
    result = _dbt(["run", "--select", "mart_variant_tests"], warehouse, work)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from marts.mart_variant_tests")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        return {(row["mailing_id"], row["variant_a"], row["variant_b"]): row for row in rows}


def _variant_pairs():
    for mailing, variants in VARIANT_CASES.items():
        names = sorted(variants)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                yield mailing, a, b


def test_every_pair_of_variants_once(variant_rows):
    assert set(variant_rows) == set(_variant_pairs())


@pytest.mark.parametrize(("mailing", "a", "b"), list(_variant_pairs()))
def test_variant_statistics_match_statsmodels_and_scipy(variant_rows, mailing, a, b):
    row = variant_rows[(mailing, a, b)]
    (na, xa), (nb, xb) = VARIANT_CASES[mailing][a], VARIANT_CASES[mailing][b]
    assert (row["members_a"], row["members_b"]) == (na, nb)
    assert math.isclose(row["diff"], xb / nb - xa / na, rel_tol=1e-12, abs_tol=1e-15)

    low, high = confint_proportions_2indep(xb, nb, xa, na, method="wald", compare="diff")
    assert math.isclose(row["diff_ci_low"], low, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(row["diff_ci_high"], high, rel_tol=1e-9, abs_tol=1e-12)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, expected_p = proportions_ztest([xb, xa], [nb, na])
    if math.isnan(expected_p):
        assert row["p_value"] is None and row["winner"] is None
    else:
        assert math.isclose(row["p_value"], expected_p, rel_tol=1e-9, abs_tol=1e-300)
        expected_winner = (b if xb / nb > xa / na else a) if expected_p < 0.05 else None
        assert row["winner"] == expected_winner

    # Beta(1 + buyers, 1 + members - buyers) posteriors, normal approximation of P(B > A).
    post_a, post_b = beta(1 + xa, 1 + na - xa), beta(1 + xb, 1 + nb - xb)
    z = (post_b.mean() - post_a.mean()) / math.sqrt(post_a.var() + post_b.var())
    assert math.isclose(row["prob_b_beats_a"], norm.cdf(z), rel_tol=1e-9, abs_tol=1e-300)


def test_variant_cases_cover_winners_both_ways_and_none(variant_rows):
    assert variant_rows[("three_variants", "A", "C")]["winner"] == "C"
    assert variant_rows[("far_tail", "A", "B")]["winner"] == "A"
    assert variant_rows[("far_tail", "A", "B")]["prob_b_beats_a"] < 1e-20
    assert variant_rows[("equal_rates", "A", "B")]["winner"] is None
    assert variant_rows[("near_threshold", "A", "B")]["p_value"] < 0.1
    # No buyers on either side: no test, yet the smaller group's posterior sits higher (1/42>1/52).
    no_buyers = variant_rows[("no_buyers", "A", "B")]
    assert no_buyers["p_value"] is None and no_buyers["winner"] is None
    assert 0.5 < no_buyers["prob_b_beats_a"] < 0.6
