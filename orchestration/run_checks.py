"""Read what a Dagster run actually did: the asset check outcomes and the failed steps."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

from data_checks.gate import CheckOutcome, GateDecision, decide

PUBLISHED_KEY = dg.AssetKey(["published", "reports"])


def check_name(key: dg.AssetCheckKey) -> str:
    return f"{key.asset_key.to_user_string()}:{key.name}"


def required_blocking_checks(asset_graph: BaseAssetGraph, target: dg.AssetKey) -> set[str]:
    """Every blocking check defined on an asset upstream of `target`."""
    upstream = set(asset_graph.get_ancestor_asset_keys(target))
    required = set()
    for key in asset_graph.asset_check_keys:
        if key.asset_key in upstream and asset_graph.get_check_spec(key).blocking:
            required.add(check_name(key))
    return required


def _metadata_value(metadata, name):
    value = metadata.get(name)
    return getattr(value, "value", value)


def check_outcomes(instance: dg.DagsterInstance, run_id: str) -> list[CheckOutcome]:
    """The asset check evaluations recorded in this run, in order."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    outcomes = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        metadata = evaluation.metadata or {}
        failing = _metadata_value(metadata, "failing_rows") or _metadata_value(
            metadata, "dagster_dbt/failed_row_count"
        )
        outcomes.append(
            CheckOutcome(
                check=check_name(evaluation.asset_check_key),
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                blocking=bool(evaluation.blocking),
                description=evaluation.description,
                failing_rows=int(failing) if failing is not None else None,
                examples=_metadata_value(metadata, "examples"),
            )
        )
    return outcomes


def decide_for_run(
    instance: dg.DagsterInstance, run_id: str, asset_graph: BaseAssetGraph
) -> GateDecision:
    """The gate's decision for `run_id`: every blocking check upstream of the publication."""
    required = required_blocking_checks(asset_graph, PUBLISHED_KEY)
    return decide(required, check_outcomes(instance, run_id))
