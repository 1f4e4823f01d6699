"""Mistakes a user can make on the command line: exit 2, one line, never a traceback; --help of
every subcommand says what it does, its defaults and the exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, cli_env

SUBCOMMANDS = ("generate", "run", "backfill", "demo", "report", "quarantine")


def _cli(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = cli_env(tmp_path / "data", tmp_path / "landing")
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--out", "x", "--scale", "0"], "--scale: must be 1 or more, got 0"),
        (["generate", "--out", "x", "--days", "-1"], "--days: must be 1 or more, got -1"),
        (["generate", "--out", "x", "--days", "2"], "--days: must be 3 or more, got 2"),
        (["generate", "--out", "x", "--scale", "big"], "must be a whole number"),
        (["generate", "--out", "x", "--start", "2026-13-01"], "must be a date YYYY-MM-DD"),
        (["generate"], "the following arguments are required: --out"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["demo", "--scale", "0"], "--scale: must be 1 or more"),
        (["report", "--campaign", "a", "--mailing", "b"], "not allowed with argument"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, args, message):
    result = _cli(args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("campaign-warehouse")


def test_report_without_a_publication_says_so_in_one_line(tmp_path):
    result = _cli(["report", "--data", str(tmp_path / "data")], tmp_path)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "no publication at" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_says_what_defaults_and_exit_codes(tmp_path, command):
    result = _cli([command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "exit codes:" in text and "2  usage error" in text
    assert "default" in text
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 5  # a sentence saying what it does
