"""One small published warehouse for the report tests: 3 demo days, one `campaign-warehouse run`.

Built once per session (`built_once`): the browser test and the quiet-output test read the same
run, on whichever xdist worker each lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import built_once, cli_env, completed, run_cli, run_record


@dataclass
class SmallRun:
    data_dir: Path
    landing_dir: Path
    env: dict[str, str]
    result: object  # subprocess.CompletedProcess of `campaign-warehouse run`


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> SmallRun:
    from demo_data import generate

    def build(root: Path) -> dict:
        (root / "data").mkdir()
        generate(root / "landing", scale=1, days=3)  # ends yesterday
        return run_record(run_cli(["run"], cli_env(root / "data", root / "landing")))

    root, record = built_once(tmp_path_factory, "report-run", build)
    result = completed(record)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data_dir, landing = root / "data", root / "landing"
    return SmallRun(data_dir, landing, cli_env(data_dir, landing), result)
