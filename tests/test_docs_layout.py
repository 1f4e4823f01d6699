"""The README's layout table, docs/architecture.md's module map and both settings tables match the
tree: a folder, module or setting added without its line fails here, not in a reader's head."""

from __future__ import annotations

import re

from tests.conftest import REPO

# What the tree holds besides the project: tools' caches, the virtualenv, local data.
NOT_PROJECT = {".git", ".venv", ".pytest_cache", ".ruff_cache", "data", "tmp", "logs"}
PACKAGES = ("demo_data", "ingestion", "data_checks", "orchestration", "reporting", "benchmarks")


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _table_rows(section: str) -> dict[str, str]:
    """First cell (without backticks) -> the whole row, for every row of the section's tables."""
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1 and not set(cells[0]) <= {"-", " "}:
            rows[cells[0].strip("`")] = line
    return rows


def _top_level_folders() -> set[str]:
    return {
        f"{path.name}/"
        for path in REPO.iterdir()
        if path.is_dir() and path.name not in NOT_PROJECT and not path.name.endswith(".egg-info")
    }


def test_the_readme_layout_table_lists_every_top_level_folder_and_no_other():
    readme = (REPO / "README.md").read_text()
    rows = _table_rows(_section(readme, "## Layout"))
    listed = {name for name in rows if name != "folder"}
    assert listed == _top_level_folders()


def test_the_architecture_module_map_names_every_module():
    architecture = (REPO / "docs" / "architecture.md").read_text()
    rows = _table_rows(_section(architecture, "### Modules"))
    for package in PACKAGES:
        named = set(re.findall(r"`([\w./]+)`", rows[f"{package}/"]))
        folder = REPO / package
        modules = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
        modules |= {
            f"{path.name}/"
            for path in folder.iterdir()
            if path.is_dir() and not path.name.startswith(("_", "."))
        }
        for sub in folder.glob("*/*.py"):  # orchestration/assets/<module>.py
            if sub.stem != "__init__":
                modules.add(sub.stem)
        assert modules - named == set(), f"{package}/: modules missing from docs/architecture.md"


def _settings_read(module: str) -> set[str]:
    return set(re.findall(r'"(CW_[A-Z0-9_]+)"', (REPO / module).read_text()))


def test_every_setting_is_in_both_settings_tables():
    settings = _settings_read("orchestration/settings.py") | _settings_read(
        "data_checks/settings.py"
    )
    settings.discard("CW_DAGSTER_RUN_ID")  # set for dbt's processes, not a setting
    readme = _table_rows(_section((REPO / "README.md").read_text(), "## Configuration"))
    architecture = _table_rows(
        _section((REPO / "docs" / "architecture.md").read_text(), "## Configuration")
    )
    assert settings - set(readme) == set(), "settings missing from README's Configuration"
    assert settings - set(architecture) == set(), "settings missing from docs/architecture.md"
