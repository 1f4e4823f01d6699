"""Storage failures and a lost landing zone (issue 10, items 7 and 8): the CLI says what happened
and what to do, exits non-zero, and the published marts stay as they were."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLI, REPO, cli_env
from tests.faults.conftest import copy_of, day_folders, land_days, marts_fingerprint

EXIT_USAGE, EXIT_STORAGE = 2, 4


def assert_guidance_only(stderr: str) -> None:
    assert "Traceback (most recent call last)" not in stderr, stderr[-3000:]


@pytest.mark.parametrize("command", ["run", "backfill"])
def test_missing_landing_folder_is_a_usage_error(tmp_path, command):
    missing = tmp_path / "no" / "such" / "dir"
    args = [command, "--landing", str(missing), "--data", str(tmp_path / "data")]
    if command == "backfill":
        args += ["--start", "2026-11-01", "--end", "2026-11-02"]
    result = subprocess.run(
        CLI + args,
        cwd=REPO,
        env=cli_env(tmp_path / "data", missing),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == EXIT_USAGE
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and str(missing) in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "reports.duckdb").exists()


@pytest.mark.slow
def test_damaged_warehouse_says_how_to_rebuild_it(published, tmp_path):
    copy = copy_of(published, tmp_path)
    before = marts_fingerprint(copy.reports)
    os.truncate(copy.warehouse, copy.warehouse.stat().st_size // 3)

    result = copy.run()

    assert result.returncode == EXIT_STORAGE, result.stderr[-3000:]
    assert_guidance_only(result.stderr)
    message = result.stderr.strip().splitlines()[-1]
    assert f"the warehouse file {copy.warehouse} is damaged" in message
    assert f"mv {copy.warehouse} {copy.warehouse}.damaged" in message
    assert f"campaign-warehouse run --data {copy.data} --landing {copy.landing}" in message
    assert "--full-refresh" in message and "unchanged" in message
    assert marts_fingerprint(copy.reports) == before


@pytest.fixture
def tiny_disk(tmp_path):
    """A real file system of 128 MiB (tmpfs; mounting needs root, as in CI)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave_bytes: int) -> None:
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as filler:
        filler.truncate(0)
        chunk = b"\0" * (1 << 20)
        remaining = free - leave_bytes
        while remaining > 0:
            remaining -= filler.write(chunk[: min(len(chunk), remaining)])


@pytest.mark.slow
def test_full_disk_gives_guidance_and_keeps_the_publication(
    published, generated_landing, tmp_path, tiny_disk
):
    # The landing zone gains the third day; the data folder lives on the tiny disk, full.
    landing = tmp_path / "landing"
    shutil.copytree(published.landing, landing)
    land_days(generated_landing, landing, day_folders(generated_landing)[2:])
    copy = copy_of(published, tiny_disk, landing=landing)
    copy.env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")  # Dagster's own files elsewhere
    before = marts_fingerprint(copy.reports)
    fill(tiny_disk, leave_bytes=256 * 1024)

    result = copy.run()

    assert result.returncode == EXIT_STORAGE, result.stdout[-2000:] + result.stderr[-3000:]
    assert_guidance_only(result.stderr)
    message = result.stderr.strip().splitlines()[-1]
    assert f"the disk holding {copy.data} is full" in message
    assert f"campaign-warehouse run --data {copy.data}" in message
    assert marts_fingerprint(copy.reports) == before


@pytest.mark.slow
def test_all_empty_marts_never_replace_a_publication_with_rows(published, tmp_path):
    # A wiped warehouse and an empty landing zone: the build is empty, the reports are not.
    empty_landing = tmp_path / "landing"
    empty_landing.mkdir()
    copy = copy_of(published, tmp_path, landing=empty_landing)
    copy.warehouse.unlink()
    before = marts_fingerprint(copy.reports)

    result = copy.run()

    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    assert "published/reports:not_all_marts_emptied failed" in result.stdout
    assert marts_fingerprint(copy.reports) == before
