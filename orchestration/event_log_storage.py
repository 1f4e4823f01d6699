"""Dagster's SQLite event log with a connection pool per database file.

Dagster's `SqliteEventLogStorage` creates an SQLAlchemy engine, opens a connection and disposes
of both for every write: a run of this pipeline writes ~1,350 events in ~2,200 transactions (each
asset check alone is a "planned" and an evaluation event, each mirrored into the index shard), and
that set-up and tear-down was the largest part of the run process's CPU outside dbt
(benchmarks/fixed_cost_profile.md). This subclass keeps one engine per shard (the index and the
few most recent runs) and changes nothing else: same files, same tables, same queries.

Dagster's webserver follows a running run by watching its shard's `.db` file for changes. A
pooled connection that stays open leaves writes in the WAL file, so after each write to a run
shard it checkpoints the WAL into the `.db` file (PASSIVE: never waits for readers), which is
what closing the last connection did before.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

# Run shards whose engine stays open: the run being written, and a few a webserver reads.
RUN_ENGINES_KEPT = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` under `<instance home>/history/runs`, one engine per shard.

    Configured in dagster.yaml (orchestration/instance.py writes it), without settings:

        event_log_storage:
          module: orchestration.event_log_storage
          class: PooledSqliteEventLogStorage

    Its folder is the instance's, like Dagster's default SQLite storage's, so existing history
    stays readable and an instance opened with `DagsterInstance.from_config(folder)` writes under
    that folder whatever DAGSTER_HOME says. The folder is known when the instance registers
    itself, right after building its storages; `dagster_home` gives it up front (tests, tools).
    """

    def __init__(
        self, inst_data: ConfigurableClassData | None = None, dagster_home: str | None = None
    ):
        self._inst_data = inst_data
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._instance_weakref = None
        if dagster_home is not None:
            self._open_folder(dagster_home)

    def _open_folder(self, dagster_home: str) -> None:
        super().__init__(
            os.path.join(dagster_home, "history", "runs", ""), inst_data=self._inst_data
        )

    def register_instance(self, instance) -> None:
        if not hasattr(self, "_base_dir"):
            self._open_folder(instance.root_directory)
        super().register_instance(instance)

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # ty: ignore[invalid-method-override]
        return cls(inst_data=inst_data)

    def _engine_for_shard(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for oldest in run_shards[:-RUN_ENGINES_KEPT]:
                self._engines.pop(oldest).dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine_for_shard(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # wipe deletes the run shards' files
        super().wipe()

    def dispose(self) -> None:
        if not hasattr(self, "_base_dir"):  # never opened: nothing to release
            return
        self._dispose_engines()
        super().dispose()
