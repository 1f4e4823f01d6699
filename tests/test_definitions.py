"""The Dagster definitions load, and are wired as the pipeline needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from tests.conftest import REPO


def _defs():
    from orchestration.definitions import defs

    return defs


def test_definitions_validate_with_the_dagster_cli():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "orchestration.definitions",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_pass_dg_check_defs():
    dg_cli = Path(sys.executable).parent / "dg"
    result = subprocess.run(
        [str(dg_cli), "check", "defs"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_every_raw_table_mart_and_the_publication_is_an_asset():
    keys = {key.to_user_string() for key in _defs().resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/sendgrid_events", "raw/order_lines", "audit/ingested_files"} <= keys
    assert {"marts/mart_mailing_volume", "marts/mart_mailing_funnel", "published/reports"} <= keys


def test_every_warehouse_writer_shares_the_single_writer_pool():
    from orchestration.resources import WAREHOUSE_WRITER_POOL

    graph = _defs().resolve_asset_graph()
    for assets_def in graph.assets_defs:
        if assets_def.is_executable:
            for node in assets_def.node_def.iterate_op_defs():
                assert node.pool == WAREHOUSE_WRITER_POOL, assets_def.keys


def test_dbt_tests_are_blocking_asset_checks_upstream_of_publication():
    from orchestration.run_checks import PUBLISHED_KEY, required_blocking_checks

    required = required_blocking_checks(_defs().resolve_asset_graph(), PUBLISHED_KEY)
    assert any(check.startswith("marts/mart_mailing_volume:") for check in required)
    assert any(check.startswith("staging/") for check in required)


def test_job_covers_the_whole_pipeline():
    job = _defs().resolve_job_def("campaign_warehouse")
    assert isinstance(job, dg.JobDefinition)
