"""Every published mart of the demo landing zone is row for row what it was (tests/marts_golden.py).

Speed and layout work must not move a number. When a definition or the generator changes on
purpose, regenerate the golden in a commit of its own that says why.
"""

from __future__ import annotations

import json

import pytest

from tests.marts_golden import GOLDEN, differences, fingerprints

pytestmark = pytest.mark.slow


def test_published_marts_match_the_golden(pipeline_run):
    data_dir, result = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    got = fingerprints(data_dir / "reports.duckdb")
    assert differences(got, json.loads(GOLDEN.read_text())) == []
