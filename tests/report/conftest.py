"""One small published warehouse for the report tests: 3 demo days, one `campaign-warehouse run`.

Package-scoped: the browser test and the quiet-output test read the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli


@dataclass
class SmallRun:
    data_dir: Path
    landing_dir: Path
    env: dict[str, str]
    result: object  # subprocess.CompletedProcess of `campaign-warehouse run`


@pytest.fixture(scope="package")
def small_run(tmp_path_factory) -> SmallRun:
    from demo_data import generate

    landing = tmp_path_factory.mktemp("report-landing")
    generate(landing, scale=1, days=3)  # ends yesterday
    data_dir = tmp_path_factory.mktemp("report-data")
    env = cli_env(data_dir, landing)
    result = run_cli(["run"], env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return SmallRun(data_dir, landing, env, result)
