"""The Dagster definitions load, and are wired as the pipeline needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

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


def test_definitions_pass_dg_check_defs(tmp_path):
    dg_cli = Path(sys.executable).parent / "dg"
    # without DAGSTER_HOME, dg makes a `.tmp_dagster_home_*` folder in the repository, which the
    # layout test (another xdist worker) would find beside the files the README names
    env = os.environ | {"DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(dg_cli), "check", "defs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
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
    from orchestration.publication_gate import PUBLISHED_KEY, required_blocking_checks

    required = required_blocking_checks(_defs().resolve_asset_graph(), PUBLISHED_KEY)
    assert any(check.startswith("marts/mart_mailing_volume:") for check in required)
    assert any(check.startswith("staging/") for check in required)


def test_job_covers_the_whole_pipeline():
    defs = _defs()
    job = defs.resolve_job_def("campaign_warehouse")
    assert isinstance(job, dg.JobDefinition)
    assert set(job.asset_layer.executable_asset_keys) == set(
        defs.resolve_asset_graph().executable_asset_keys
    )


def _dbt_nodes_by_asset_key() -> dict[dg.AssetKey, str]:
    from orchestration.assets.dbt import dbt_project, translator

    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return {
        translator.get_asset_spec(manifest, unique_id, dbt_project).key: unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and node["config"].get("enabled", True)
    }


def test_every_dbt_model_is_in_exactly_one_dbt_definition():
    from orchestration.assets.dbt import dbt_models, dbt_staging_and_facts

    nodes = _dbt_nodes_by_asset_key()
    definitions = {"staging_and_facts": dbt_staging_and_facts, "models": dbt_models}
    owners = {
        node: [name for name, d in definitions.items() if key in d.keys]
        for key, node in nodes.items()
    }
    assert {node: names for node, names in owners.items() if len(names) != 1} == {}
    # and no definition holds anything that is not a dbt model or seed of the manifest
    assert set().union(*(d.keys for d in definitions.values())) == set(nodes)


def test_a_marts_uniqueness_is_its_primary_key_and_its_great_expectations_check():
    """Every mart declares an enforced primary_key (DuckDB refuses a duplicate key at build) whose
    columns are the key of its blocking `gx_unique_key` check (both engines), so no dbt data test
    restates it (one dbt node and one asset check less per mart)."""
    from data_checks.suites import MART_SPECS
    from orchestration.assets.dbt import dbt_project

    nodes = json.loads(Path(dbt_project.manifest_path).read_text())["nodes"].values()
    marts = {
        n["unique_id"]: n for n in nodes if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    primary_keys = {
        mart["name"]: sorted(constraint["columns"])
        for mart in marts.values()
        for constraint in mart["constraints"]
        if constraint["type"] == "primary_key"
    }
    assert len(primary_keys) == len(marts) == len(MART_SPECS)
    assert primary_keys == {name: sorted(spec.keys) for name, spec in MART_SPECS.items()}
    restating = [
        test["name"]
        for test in nodes
        if test["resource_type"] == "test"
        and test["depends_on"]["nodes"] == [test.get("attached_node")]
        and test.get("attached_node") in marts
        and (test.get("test_metadata") or {}).get("name") in ("unique", "unique_combination")
        and sorted(test["test_metadata"]["kwargs"].get("columns") or [test.get("column_name")])
        == primary_keys[marts[test["attached_node"]]["name"]]
    ]
    assert restating == []


def test_dbt_definitions_split_by_folder_into_two_steps():
    from orchestration.assets.dbt import (
        DBT_ASSETS,
        dbt_models,
        dbt_project,
        dbt_staging_and_facts,
    )
    from orchestration.partitions import daily_partitions

    assert [dbt_staging_and_facts, dbt_models] == DBT_ASSETS
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    nodes = _dbt_nodes_by_asset_key()
    upstream_folders = ("models/staging/", "models/facts/")
    for key in dbt_staging_and_facts.keys:
        node = manifest["nodes"][nodes[key]]
        assert node["resource_type"] == "seed" or node["original_file_path"].startswith(
            upstream_folders
        )
        if node["original_file_path"].startswith("models/facts/"):
            assert node["config"]["materialized"] == "incremental"
            assert key.path[0] == "facts"
    for key in dbt_models.keys:
        node = manifest["nodes"][nodes[key]]
        assert not node["original_file_path"].startswith(upstream_folders)
    assert dbt_models.partitions_def is None
    assert dbt_staging_and_facts.partitions_def == daily_partitions
    assert dbt_staging_and_facts.backfill_policy == dg.BackfillPolicy.single_run()
    job = _defs().resolve_job_def("campaign_warehouse")
    assert job.partitions_def == daily_partitions


def test_groups_follow_the_flow_of_data():
    graph = _defs().resolve_asset_graph()

    def group(key: str) -> str | None:
        return graph.get(dg.AssetKey.from_user_string(key)).group_name

    assert group("raw/sendgrid_events") == "raw"
    assert group("audit/ingested_files") == group("audit/quarantine") == "audit"
    assert group("staging/stg_sendgrid__events") == "staging"
    assert group("facts/fct_provider_events") == "facts"
    assert group("intermediate/int_messages") == "intermediate"
    assert group("marts/mart_mailing_funnel") == "marts"


def test_each_source_system_reads_the_raw_tables_that_ingestion_loads():
    """dbt declares a source per system; in Dagster each table is the ingestion's `raw/<table>`."""
    from orchestration.assets.dbt import dbt_project

    graph = _defs().resolve_asset_graph()
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    for source in manifest["sources"].values():
        key = dg.AssetKey(["raw", source["identifier"]])
        assert source["schema"] == "raw"
        assert graph.get(key).is_executable, f"{key.to_user_string()}: no asset loads it"
        readers = [manifest["nodes"][child] for child in manifest["child_map"][source["unique_id"]]]
        staging = [node for node in readers if node["resource_type"] == "model"]
        assert staging, f"{source['unique_id']} is read by no model"
        for node in staging:  # stg_<source>__<entity> reads its own system only
            assert node["name"].startswith(f"stg_{source['source_name']}__"), node["name"]
            assert key in graph.get(dg.AssetKey(["staging", node["name"]])).parent_keys


def test_full_refresh_is_run_config_of_every_dbt_step():
    from orchestration.assets.dbt import DBT_STEP_NAMES, dbt_run_config

    job = _defs().resolve_job_def("campaign_warehouse")
    for full_refresh in (False, True):
        assert dg.validate_run_config(job, dbt_run_config(full_refresh=full_refresh))
    assert set(dbt_run_config()["ops"]) == set(DBT_STEP_NAMES)
    assert len(DBT_STEP_NAMES) == 2


def test_job_runs_queue_one_at_a_time_by_their_writer_tag(tmp_path, monkeypatch):
    from orchestration.instance import ensure_dagster_home, limits_writer_runs
    from orchestration.jobs import WRITER_TAG_KEY

    job = _defs().resolve_job_def("campaign_warehouse")
    assert job.tags[WRITER_TAG_KEY] == "1"

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(tmp_path)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert limits_writer_runs(config)
    assert config["concurrency"]["pools"]["default_limit"] == 1
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": WRITER_TAG_KEY, "limit": 1} in limits
    finally:
        instance.dispose()


def test_an_existing_dagster_yaml_is_upgraded_only_when_we_wrote_it(tmp_path, monkeypatch, caplog):
    from orchestration.instance import PREVIOUS_DAGSTER_YAMLS, ensure_dagster_yaml

    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "dagster.yaml").write_text(PREVIOUS_DAGSTER_YAMLS[0])
    ensure_dagster_yaml(ours)
    assert "campaign_warehouse/writer" in (ours / "dagster.yaml").read_text()

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    custom = "# hand-written\ntelemetry:\n  enabled: false\n"
    (theirs / "dagster.yaml").write_text(custom)
    ensure_dagster_yaml(theirs)
    assert (theirs / "dagster.yaml").read_text() == custom  # never rewritten
    assert "does not limit runs tagged campaign_warehouse/writer" in caplog.text


def test_the_dbt_resource_builds_no_dbt_adapter_in_dagsters_process():
    """dagster-dbt builds a dbt adapter before every dbt command (2-3 s a step) only for row
    counts and column metadata, which our assets never fetch: ours skips it. If dagster-dbt
    renames the hook, this says so instead of the cost coming back unnoticed."""
    import inspect

    from dagster_dbt import DbtCliResource

    from orchestration.resources import WarehouseDbtCliResource

    assert "self._initialize_dbt_core_adapter(" in inspect.getsource(DbtCliResource.cli)
    resource = WarehouseDbtCliResource(project_dir=str(REPO / "dbt_project"))
    assert resource._initialize_dbt_core_adapter(["build"]) is None
