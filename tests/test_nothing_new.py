"""The build fingerprint a nothing-new run compares (orchestration/nothing_new.py): it changes with
the code and the settings a build depends on, not with paths or the PII key."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from data_checks.settings import CheckSettings
from orchestration.nothing_new import build_fingerprint
from orchestration.settings import Settings
from tests.conftest import REPO


def code_copy(tmp_path: Path) -> Path:
    """A copy of the dbt project and the orchestration package: real code, changed at will."""
    root = tmp_path / "repo"
    for folder in ("dbt_project", "orchestration"):
        shutil.copytree(
            REPO / folder, root / folder, ignore=shutil.ignore_patterns("target", "logs", ".*")
        )
    return root


def test_the_fingerprint_follows_code_and_settings_only(tmp_path):
    root = code_copy(tmp_path)
    settings = Settings(landing_dir=tmp_path / "landing", data_dir=tmp_path / "data")
    checks = CheckSettings()
    base = build_fingerprint(settings, checks, root)
    assert build_fingerprint(settings, checks, root) == base

    moved = dataclasses.replace(
        settings, landing_dir=tmp_path / "x", data_dir=tmp_path / "y", pii_hash_key="other"
    )
    assert build_fingerprint(moved, checks, root) == base  # paths and the key build nothing else

    threshold = dataclasses.replace(settings, hard_bounce_threshold=4)
    assert build_fingerprint(threshold, checks, root) != base
    stricter = dataclasses.replace(checks, max_unmatched_event_share=0.01)
    assert build_fingerprint(settings, stricter, root) != base
    fresher = dataclasses.replace(checks, freshness_max_age_hours=1.0)
    assert build_fingerprint(settings, fresher, root) == base  # evaluated by the skip itself

    model = root / "dbt_project" / "models" / "marts" / "mart_campaigns.sql"
    model.write_text(model.read_text() + "\n-- a comment is a code change too\n")
    assert build_fingerprint(settings, checks, root) != base

    (root / "dbt_project" / "target").mkdir(exist_ok=True)
    (root / "dbt_project" / "target" / "manifest.json").write_text("{}")  # build output, not code
    changed = build_fingerprint(settings, checks, root)
    (root / "dbt_project" / "target" / "manifest.json").write_text('{"other": 1}')
    assert build_fingerprint(settings, checks, root) == changed
