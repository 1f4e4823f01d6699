"""Fixtures and helpers of the run-level fault tests: real `campaign-warehouse run` processes on a
small landing zone, stopped at a chosen step, the Dagster instance read to find that step."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CLI, REPO, built_once, cli_env, completed, run_record

LANDING_START = date(2026, 11, 1)
LANDING_DAYS = 3  # the generator's minimum
# Generous: the suite shares a 2-core machine. A run that waits on a dead run's pool slot never
# ends; one that recovered it finishes in a few minutes.
RERUN_TIMEOUT_SECONDS = 600


def day_folders(landing: Path) -> list[str]:
    """The landed days (`<feed>/<YYYY-MM-DD>/`) of a generated landing zone, in order."""
    return sorted({path.name for path in landing.glob("*/*") if path.is_dir()})


def land_days(source: Path, target: Path, days: list[str]) -> None:
    """Land the files of `days` from a generated zone, as a provider would: new folders."""
    for day_dir in source.glob("*/*"):
        if day_dir.is_dir() and day_dir.name in days:
            destination = target / day_dir.parent.name / day_dir.name
            if not destination.exists():
                shutil.copytree(day_dir, destination)


@dataclass
class Pipeline:
    """One data directory and landing zone, and the CLI runs on them."""

    data: Path
    landing: Path
    env: dict[str, str] = field(init=False)
    started: int = 0

    def __post_init__(self):
        self.env = cli_env(self.data, self.landing)
        # Landed day by day, events arrive before the dispatches they match (those land later):
        # that blocking share is not under test here.
        self.env["CW_MAX_UNMATCHED_EVENT_SHARE"] = "0.5"

    @property
    def reports(self) -> Path:
        return self.data / "reports.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    def run(self, *args: str, timeout: float = RERUN_TIMEOUT_SECONDS):
        started = time.monotonic()
        result = subprocess.run(
            [*CLI, "run", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result.seconds = time.monotonic() - started
        return result

    def start(self, *args: str) -> subprocess.Popen:
        """A CLI run in the background; its output goes to files (a full pipe would stall it)."""
        self.started += 1
        logs = self.data.parent / f"run-{self.started}"
        process = subprocess.Popen(
            [*CLI, "run", *args],
            cwd=REPO,
            env=self.env,
            stdout=open(f"{logs}.out", "w"),  # noqa: SIM115 - closed by the child's exit
            stderr=open(f"{logs}.err", "w"),  # noqa: SIM115
        )
        process.stdout_path, process.stderr_path = Path(f"{logs}.out"), Path(f"{logs}.err")
        return process

    def instance(self):
        from dagster import DagsterInstance
        from dagster._core.instance.ref import InstanceRef

        return DagsterInstance.from_ref(InstanceRef.from_dir(str(self.data / "dagster_home")))

    def run_of(self, process: subprocess.Popen, instance):
        """The Dagster run that `process` (a CLI run) executes, once it exists."""
        from orchestration.recovery import PID_TAG

        for run in instance.get_runs(limit=5):
            if run.tags.get(PID_TAG) == str(process.pid):
                return run
        return None

    def wait_for_step(self, process: subprocess.Popen, step: str, timeout: float = 600):
        """Block until the run of `process` started `step`; return the run id."""
        from dagster import DagsterEventType

        deadline = time.monotonic() + timeout
        with self.instance() as instance:
            while time.monotonic() < deadline:
                assert process.poll() is None, (
                    f"the run ended (exit {process.returncode}) before step {step} started:\n"
                    + process.stderr_path.read_text()[-3000:]
                )
                run = self.run_of(process, instance)
                if run is not None:
                    started = instance.get_records_for_run(
                        run.run_id, of_type=DagsterEventType.STEP_START, limit=100
                    ).records
                    if any(r.event_log_entry.step_key == step for r in started):
                        return run.run_id
                time.sleep(0.05)
        raise AssertionError(f"step {step} did not start within {timeout}s")


def kill(process: subprocess.Popen, signum: int = signal.SIGKILL) -> str:
    """Send `signum`, wait for the end; the run's stderr."""
    process.send_signal(signum)
    process.wait(timeout=60)
    return process.stderr_path.read_text()


def marts_fingerprint(reports: Path) -> dict[str, str]:
    """A digest of every published mart's content: equal digests, the same marts published.

    `publications` is left out: a refusal adds its row there and leaves the marts alone."""
    digests = {}
    with duckdb.connect(str(reports), read_only=True) as conn:
        tables = [
            name for (name,) in conn.execute("show tables").fetchall() if name != "publications"
        ]
        for table in tables:
            rows = conn.execute(f"select * from {table} order by all").fetchall()
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def assert_exact_accounting(
    warehouse: Path, landing: Path, ignore_files: frozenset[str] = frozenset()
) -> None:
    """Every landed file registered once; per file, rows read = loaded + replayed + quarantined,
    its raw rows are exactly `rows_loaded` (no row loaded twice) and its quarantine rows exactly
    `rows_quarantined`."""
    landed = {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.relative_to(landing).as_posix()
        for path in landing.rglob("*")
        if path.is_file() and not path.name.startswith((".", "_"))
    }
    landed = {h: p for h, p in landed.items() if "/" in p}  # files inside a feed folder
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        registry = conn.execute(
            "select file_hash, feed, status, rows_read, rows_loaded, rows_replayed, "
            "rows_quarantined from audit.ingested_files"
        ).fetchall()
        hashes = [row[0] for row in registry]
        assert len(hashes) == len(set(hashes)), "a file is registered twice"
        assert set(hashes) == set(landed), (
            f"files landed but not registered: {sorted(set(landed) - set(hashes))[:5]}"
        )
        raw_counts: dict[str, int] = {}
        tables = [
            name
            for (name,) in conn.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw' "
                "and table_name != 'order_lines'"
            ).fetchall()
        ]
        for table in tables:
            for file_hash, count, distinct_rows in conn.execute(
                f"select _file_hash, count(*), count(distinct _row_number) from raw.{table} "
                "group by all"
            ).fetchall():
                if file_hash in ignore_files:
                    continue
                assert count == distinct_rows, f"raw.{table}: a row of a file loaded twice"
                raw_counts[file_hash] = raw_counts.get(file_hash, 0) + count
        quarantined = dict(
            conn.execute(
                "select file_hash, count(*) from audit.quarantine where row_number is not null "
                "group by all"
            ).fetchall()
        )
    for file_hash, _feed, status, read, loaded, replayed, quarantine in registry:
        path = landed[file_hash]
        assert read == loaded + replayed + quarantine, path
        assert raw_counts.get(file_hash, 0) == loaded, f"{path}: raw rows != rows_loaded"
        assert quarantined.get(file_hash, 0) == quarantine, f"{path}: quarantine != rows"
        if status == "rejected":
            assert read == 0, path


@pytest.fixture(scope="session")
def generated_landing(tmp_path_factory) -> Path:
    """A small generated landing zone (scale 1, the minimum of days), the source of landings."""
    from demo_data import generate

    def build(out: Path) -> dict:
        generate(out, scale=1, seed=11, start=LANDING_START, days=LANDING_DAYS)
        return {}

    return built_once(tmp_path_factory, "faults-landing", build)[0]


@pytest.fixture(scope="session")
def published(tmp_path_factory, generated_landing) -> Pipeline:
    """A pipeline that published the first two landed days (the third is left to land later).

    Shared by the modules of tests/faults (and by xdist workers), read only: they work on copies
    of its files (`copy_of`).
    """

    def build(root: Path) -> dict:
        (root / "landing").mkdir()
        pipeline = Pipeline(data=root / "data", landing=root / "landing")
        land_days(generated_landing, pipeline.landing, day_folders(generated_landing)[:2])
        return run_record(pipeline.run(timeout=900))  # beside the other worker's builds

    root, record = built_once(tmp_path_factory, "faults-published", build)
    result = completed(record)
    assert result.returncode == 0, result.stderr[-3000:]
    return Pipeline(data=root / "data", landing=root / "landing")


def copy_of(pipeline: Pipeline, root: Path, landing: Path | None = None) -> Pipeline:
    """A new data folder holding copies of `pipeline`'s warehouse and publication."""
    copy = Pipeline(data=root / "data", landing=landing or pipeline.landing)
    copy.data.mkdir(parents=True, exist_ok=True)
    for name in ("warehouse.duckdb", "reports.duckdb"):
        shutil.copy2(pipeline.data / name, copy.data / name)
    return copy


def continued_from(pipeline: Pipeline, root: Path) -> Pipeline:
    """A pipeline that goes on from `pipeline`: copies of its whole data folder (Dagster's run
    history and dbt's target included) and of its landing zone, which it may land more days in."""
    copy = Pipeline(data=root / "data", landing=root / "landing")
    shutil.copytree(pipeline.data, copy.data)
    shutil.copytree(pipeline.landing, copy.landing)
    return copy
