"""Great Expectations 1.x plumbing: an ephemeral context, one pandas asset, validate a frame.

GX is imported lazily (it takes seconds), so that loading the Dagster definitions, which only
need the static check declarations, does not pay for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str  # e.g. "expect_column_values_to_be_unique"
    target: str  # the column(s) it reads, e.g. "mailing_id" or "mailing_id,variant"
    success: bool
    unexpected_count: int
    examples: tuple[str, ...]
    error: str | None = None


def gxe():
    """`great_expectations.expectations`, imported on first use (GX analytics off)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations.expectations as expectations

    return expectations


@lru_cache(maxsize=1)
def _batch_definition():
    gxe()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("warehouse").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _format(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _target(config) -> str:
    kwargs = config.kwargs
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return kwargs.get("column") or ",".join(kwargs.get("column_list") or ())


def _error(info) -> str | None:
    """The exception message GX recorded: flat, or nested per metric."""
    if not info:
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    messages = [_error(value) for value in info.values() if isinstance(value, dict)]
    return next((message for message in messages if message), None)


def validate(frame: pd.DataFrame, expectations) -> list[ExpectationOutcome]:
    """Validate GX expectations on a pandas frame; one outcome per expectation, in order."""
    if not expectations:
        return []
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="check", expectations=[e.copy() for e in expectations])
    result = batch.validate(suite, result_format="SUMMARY")
    outcomes = []
    for item in result.results:
        error = _error(item.exception_info)
        details = item.result or {}
        examples = tuple(
            dict.fromkeys(_format(v) for v in details.get("partial_unexpected_list") or [])
        )[:MAX_EXAMPLES]
        outcomes.append(
            ExpectationOutcome(
                expectation=item.expectation_config.type,
                target=_target(item.expectation_config),
                success=bool(item.success) and error is None,
                unexpected_count=int(details.get("unexpected_count") or 0),
                examples=examples,
                error=error,
            )
        )
    return outcomes
