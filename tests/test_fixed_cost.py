"""A run's fixed cost: two dbt processes, and dbt parses the project once, not once per run.

Two real `campaign-warehouse run`s on the smallest landing zone (`--scale 1 --days 3`) in one data
folder: the second has nothing new. The run's window reaches dbt through `audit.run_window`, not
through vars, so the second run's dbt re-parses nothing (dbt's own log says so); dbt's target and
logs are under the data folder. Then the window macros, run by dbt on that warehouse, read the
table.
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


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from demo_data import generate

    landing = tmp_path_factory.mktemp("small_landing")
    generate(landing, scale=1, seed=11, start=date(2026, 10, 1), days=3)
    data = tmp_path_factory.mktemp("small_data")
    env = cli_env(data, landing)
    first = run_cli(["run", "--json"], env)
    assert first.returncode == 0, first.stderr[-5000:]
    first_marts = marts(data / "warehouse.duckdb")
    second_started = time.time()
    second = run_cli(["run", "--json"], env)
    assert second.returncode == 0, second.stderr[-5000:]
    second_dbt = dbt_log_events(data / "dbt" / "logs", second_started)
    return data, env, first, second, first_marts, second_dbt


def dbt_commands(data: Path, result) -> list[tuple[str, str]]:
    """(step, dbt command line) of the run whose record `result` printed, from its event log."""
    import dagster as dg

    run_id = json.loads(result.stdout[result.stdout.index("{") :])["run_id"]
    with dg.DagsterInstance.from_config(str(data / "dagster_home")) as instance:
        return [
            (entry.step_key, entry.user_message.removeprefix(RUNNING))
            for entry in instance.all_logs(run_id)
            if entry.user_message.startswith(RUNNING)
        ]


def test_a_run_has_two_dbt_processes_with_the_same_vars_every_time(two_runs):
    data, first, second = two_runs[0], two_runs[2], two_runs[3]
    commands = [dbt_commands(data, result) for result in (first, second)]
    steps = ["dbt_staging_and_facts", "dbt_models"]
    assert [[step for step, _ in run] for run in commands] == [steps, steps]
    vars_of = {
        command.split("--vars ", 1)[1].split("} ")[0] for run in commands for _, command in run
    }
    assert len(vars_of) == 1, vars_of  # one set of vars for every dbt process of every run
    assert "window_start" not in vars_of.pop()


def test_the_second_run_re_parses_nothing(two_runs):
    second_dbt = two_runs[5]
    assert len(second_dbt) == 2, second_dbt.keys()  # two dbt invocations
    for events in second_dbt.values():
        assert "PartialParsingSkipParsing" in events
        assert "UnableToPartialParse" not in events


def test_dbt_output_is_under_the_data_folder_and_the_window_is_gone(two_runs):
    data, second, first_marts = two_runs[0], two_runs[3], two_runs[4]
    assert (data / "dbt" / "target" / "partial_parse.msgpack").exists()
    assert (data / "dbt" / "logs" / "dbt.log").exists()
    run_id = json.loads(second.stdout[second.stdout.index("{") :])["run_id"]
    assert not list((REPO / "dbt_project" / "target").glob(f"*{run_id[:7]}*"))
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from audit.run_window").fetchone() == (0,)
    # nothing new landed: the second run's marts are the first run's
    assert marts(data / "warehouse.duckdb") == first_marts


def dbt_show(env: dict[str, str], data: Path, sql: str) -> dict:
    """`dbt show --inline` on the run's warehouse with the run's vars and target (no re-parse)."""
    from orchestration.dbt_project import find_dbt_executable
    from orchestration.settings import Settings

    dbt_vars = json.dumps(Settings(landing_dir=data, data_dir=data).dbt_vars())
    result = subprocess.run(
        [
            find_dbt_executable(),
            "show",
            "--inline",
            sql,
            "--vars",
            dbt_vars,
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


def test_the_facts_read_the_window_from_audit_run_window(two_runs):
    data, env = two_runs[0], two_runs[1]
    warehouse = data / "warehouse.duckdb"
    sql = (
        "-- depends_on: {{ ref('stg_marketing__mailings') }}\n"  # the default lookback reads it
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
