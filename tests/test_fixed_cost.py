"""A run's fixed cost: nothing new skips the build; a build is two dbt processes parsed once.

Real `campaign-warehouse run`s on the smallest landing zone (`--scale 1 --days 3`) in one data
folder. The second has nothing new, the same code and settings, and a current publication: it
builds nothing (no Dagster run, no dbt) and says that the published version stays. The third (a
new file landed, all of its rows replays) builds again, and `--full-refresh` would too. The
run's window reaches dbt through `audit.run_window`, not through vars, and dbt's profile is the
same in every data folder (orchestration/dbt_launcher.py), so no build's dbt re-parses the
project, not even the first one in a new data folder: `make prepare`'s parse holds (dbt's own log
says so); dbt's target and logs are under the data folder. Then the window macros, run by dbt on
that warehouse, read the table.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, cli_env, run_cli

pytestmark = pytest.mark.slow

RUNNING = "Running dbt command: "


def dbt_log_events(log_dir: Path, since: float) -> dict[str, list[str]]:
    """dbt invocation id -> names of the events it logged (dbt's JSON file log) since `since`."""
    logs = sorted(log_dir.glob("dbt.log.*"), reverse=True) + [log_dir / "dbt.log"]
    events: dict[str, list[str]] = {}
    for line in (line for log in logs if log.exists() for line in log.read_text().splitlines()):
        info = json.loads(line)["info"]
        if datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp() >= since:
            events.setdefault(info["invocation_id"], []).append(info["name"])
    return events


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            n: sorted(con.execute(f"select * from marts.{n}").fetchall(), key=repr) for n in names
        }


def run_record(result) -> dict:
    return json.loads(result.stdout[result.stdout.index("{") :])


def dagster_run_count(data: Path) -> int:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        return len(instance.get_runs())


BUILD_TIMEOUT = 1800  # seconds; generous: the suite shares a 2-core machine


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three runs' CLI results and what each left, by name."""
    from demo_data import generate

    landing = tmp_path_factory.mktemp("small_landing")
    generate(landing, scale=1, seed=11, start=date(2026, 10, 1), days=3)
    data = tmp_path_factory.mktemp("small_data")
    env = cli_env(data, landing)
    out: dict = {"data": data, "env": env, "landing": landing}
    since = time.time()
    out["first"] = run_cli(["run", "--json"], env, timeout=BUILD_TIMEOUT)
    out["first_dbt"] = dbt_log_events(data / "dbt" / "logs", since)
    assert out["first"].returncode == 0, out["first"].stderr[-5000:]
    out["first_marts"] = marts(data / "warehouse.duckdb")
    out["reports_bytes"] = (data / "reports.duckdb").read_bytes()
    out["dagster_runs"] = dagster_run_count(data)

    out["nothing_new"] = run_cli(["run", "--json"], env)
    # a stale feed is still reported (freshness reads the clock, not the build)
    out["nothing_new_plain"] = run_cli(["run"], env | {"CW_FRESHNESS_MAX_AGE_HOURS": "0.0001"})
    out["reports_bytes_after"] = (data / "reports.duckdb").read_bytes()
    out["dagster_runs_after"] = dagster_run_count(data)

    # a new file whose every row was loaded before: new bytes (one more line), nothing new inside
    known = sorted((landing / "campaigns").rglob("*.jsonl"))[0]  # a blank line is no record
    (known.parent / "campaigns-again.jsonl").write_bytes(known.read_bytes() + b"\n")
    since = time.time()
    out["replayed_file"] = run_cli(["run", "--json"], env, timeout=BUILD_TIMEOUT)
    out["replayed_file_dbt"] = dbt_log_events(data / "dbt" / "logs", since)
    return out


def test_nothing_new_builds_nothing_and_keeps_the_publication(runs):
    first, again = run_record(runs["first"]), runs["nothing_new"]
    assert again.returncode == 0, again.stderr[-5000:]
    record = run_record(again)
    assert record["status"] == "unchanged"
    assert record["version"] == first["version"]
    assert record["row_counts"] == first["row_counts"]
    assert runs["dagster_runs_after"] == runs["dagster_runs"]  # no Dagster run, so no dbt
    assert runs["reports_bytes_after"] == runs["reports_bytes"]  # the published file untouched
    plain = runs["nothing_new_plain"]
    assert plain.returncode == 0, plain.stderr[-5000:]
    assert f"Nothing new: published version {first['version']} stays current" in plain.stdout
    assert "stale feed sendgrid: newest file" in plain.stdout


def test_a_new_file_and_full_refresh_build_again(runs):
    from orchestration.nothing_new import unchanged_publication
    from orchestration.settings import Settings

    first, result = run_record(runs["first"]), runs["replayed_file"]
    assert result.returncode == 0, result.stderr[-5000:]
    record = run_record(result)
    assert record["status"] == "published"
    assert record["version"] != first["version"]
    assert record["ingest"]["rows_replayed"] > 0 and record["ingest"]["rows_loaded"] == 0
    assert marts(runs["data"] / "warehouse.duckdb") == runs["first_marts"]
    # nothing new since that build: a run would skip, unless it is asked for a full refresh
    settings = Settings.from_env(runs["env"])
    assert unchanged_publication(settings).version == record["version"]
    assert unchanged_publication(settings, full_refresh=True) is None


def test_a_build_has_two_dbt_processes_with_the_same_vars_every_time(runs):
    commands = [dbt_commands(runs["data"], runs[name]) for name in ("first", "replayed_file")]
    steps = ["dbt_staging_and_facts", "dbt_models"]
    assert [[step for step, _ in run] for run in commands] == [steps, steps]
    vars_of = {
        command.split("--vars ", 1)[1].split("} ")[0] for run in commands for _, command in run
    }
    assert len(vars_of) == 1, vars_of  # one set of vars for every dbt process of every run
    assert "window_start" not in vars_of.pop()


def test_a_later_build_re_parses_nothing(runs):
    later_dbt = runs["replayed_file_dbt"]
    assert len(later_dbt) == 2, later_dbt.keys()  # two dbt invocations
    for events in later_dbt.values():
        assert "PartialParsingSkipParsing" in events
        assert "UnableToPartialParse" not in events


def test_the_first_build_of_a_new_data_folder_parses_no_more_than_make_prepare_did(runs):
    """`make prepare`'s parse holds in a new data folder: its profile is the same there."""
    first_dbt = runs["first_dbt"]
    assert len(first_dbt) == 2, first_dbt.keys()
    for events in first_dbt.values():
        assert "UnableToPartialParse" not in events  # e.g. "because profile has changed"
        assert "PartialParsingEnabled" in events or "PartialParsingSkipParsing" in events


def test_dbt_output_is_under_the_data_folder_and_the_window_is_gone(runs):
    data = runs["data"]
    assert (data / "dbt" / "target" / "partial_parse.msgpack").exists()
    assert (data / "dbt" / "logs" / "dbt.log").exists()
    run_id = run_record(runs["replayed_file"])["run_id"]
    assert not list((REPO / "dbt_project" / "target").glob(f"*{run_id[:7]}*"))
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from audit.run_window").fetchone() == (0,)


def dbt_commands(data: Path, result) -> list[tuple[str, str]]:
    """(step, dbt command line) of the run whose record `result` printed, from its event log."""
    import dagster as dg

    run_id = run_record(result)["run_id"]
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        return [
            (entry.step_key, entry.user_message.removeprefix(RUNNING))
            for entry in instance.all_logs(run_id)
            if entry.user_message.startswith(RUNNING)
        ]


def dbt_show(env: dict[str, str], data: Path, sql: str) -> dict:
    """`dbt show --inline` on the run's warehouse with the run's dbt, vars and target."""
    from orchestration.dbt_project import dbt_executable
    from orchestration.settings import Settings

    dbt_vars = json.dumps(Settings(landing_dir=data, data_dir=data).dbt_vars())
    result = subprocess.run(
        [
            dbt_executable,
            "show",
            "--inline",
            sql,
            "--vars",
            dbt_vars,
            "--target",
            "dev",
            "--output",
            "json",
            "--log-format",
            "json",
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO / "dbt_project"),
            "--target-path",
            str(data / "dbt" / "target"),
            "--log-path",
            str(data / "dbt" / "logs"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for line in result.stdout.splitlines():
        event = json.loads(line)
        if event["info"]["name"] == "ShowNode":
            return json.loads(event["data"]["preview"])[0]
    raise AssertionError(f"no dbt show output: {result.stdout[-2000:]}")


def test_the_facts_read_the_window_from_audit_run_window(runs):
    data, env = runs["data"], runs["env"]
    warehouse = data / "warehouse.duckdb"
    sql = (
        "select {{ in_run_window(\"cast('2026-10-12' as date)\") }} as inside, "
        "{{ in_run_window(\"cast('2026-10-13' as date)\") }} as at_end, "
        "{{ in_run_window(\"cast('2000-01-01' as date)\") }} as long_before"
    )
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into audit.run_window values ('t', '2026-10-10', '2026-10-13', now())")
    try:
        assert dbt_show(env, data, sql) == {"inside": True, "at_end": False, "long_before": False}
    finally:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("delete from audit.run_window")
    # no row: no window
    assert dbt_show(env, data, sql) == {"inside": False, "at_end": False, "long_before": False}
