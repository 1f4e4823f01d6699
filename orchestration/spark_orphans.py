"""Table folders a killed Spark build left behind, removed before the next build (CW_ENGINE=spark).

Spark writes a managed table's files first and records the table in its metastore last, so a dbt
process killed in between leaves `<warehouse>/<schema>.db/<table>/` holding files (or a
`_temporary/` folder) for a table the metastore does not know. The next `create table` of that
model then fails with `[LOCATION_ALREADY_EXISTS]`, and Spark 4 has no setting that allows it:
`spark.sql.legacy.allowNonEmptyLocationInCTAS` concerns tables with an explicit LOCATION only, and
since Spark 3.4 it appends to the files found there instead of replacing them (wrong results).

So before each dbt step on Spark, the folders of the project's tables (models and seeds dbt
writes as tables, from the manifest) that the metastore does not list are deleted: nothing else
under the warehouse is touched, and a table the metastore knows is never touched. The metastore
is the local session's Derby database (`<spark dir>/metastore_db`, the profile's), read with
Derby's own `ij` tool from pyspark's jars in a short JVM, because Derby lets one JVM open it at a
time and the dbt process that will open it has not started yet. Without a metastore (nothing built
yet) nothing is removed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

# Models and seeds that Spark writes as managed tables (views have no folder).
TABLE_MATERIALIZATIONS = ("table", "incremental", "seed")
# A line of ij's output naming one table of the metastore: `metastore-table:<schema>.<table>`.
TABLE_MARKER = "metastore-table:"
IJ_TIMEOUT_SECONDS = 120
# Derby's "another JVM has the database open": the JVM of a dbt process that just ended can hold
# the metastore for a few seconds more, so a read waits that long before it gives up.
DERBY_IN_USE = "XSDB6"
IN_USE_WAIT_SECONDS = 60


class MetastoreUnreadableError(RuntimeError):
    """The Derby metastore could not be read (e.g. another Spark process has it open)."""


def table_folders(warehouse_dir: Path, manifest_path: Path) -> dict[str, Path]:
    """`schema.table` -> its folder under Spark's warehouse, for every table dbt writes there."""
    manifest = json.loads(manifest_path.read_text())
    return {
        f"{node['schema']}.{node['alias']}".lower(): warehouse_dir
        / f"{node['schema']}.db"
        / node["alias"].lower()
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"]["materialized"] in TABLE_MATERIALIZATIONS
    }


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java:
        raise MetastoreUnreadableError("no java to read the Spark metastore with (make spark)")
    return java


def _derby_classpath() -> str:
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise MetastoreUnreadableError("pyspark is not installed (make spark)")
    jars = Path(next(iter(spec.submodule_search_locations))) / "jars"
    derby = sorted(jars.glob("derby*.jar"))  # derby, derbyshared, derbytools (ij)
    if not derby:
        raise MetastoreUnreadableError(f"no Derby jars in {jars}")
    return os.pathsep.join(str(jar) for jar in derby)


def metastore_tables(metastore: Path) -> set[str]:
    """`schema.table` of every table the Derby metastore at `metastore` lists (lower case)."""
    deadline = time.monotonic() + IN_USE_WAIT_SECONDS
    while True:
        try:
            return _read_metastore_tables(metastore)
        except MetastoreUnreadableError as error:
            if DERBY_IN_USE not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def _read_metastore_tables(metastore: Path) -> set[str]:
    script = (
        f"connect 'jdbc:derby:{metastore}';\n"
        f"select '{TABLE_MARKER}' || d.NAME || '.' || t.TBL_NAME "
        'from "TBLS" t join "DBS" d on t.DB_ID = d.DB_ID;\n'
        "exit;\n"
    )
    result = subprocess.run(
        [
            _java(),
            f"-Dderby.system.home={metastore.parent}",
            "-Dderby.stream.error.file=" + os.devnull,
            "-Dij.maximumDisplayWidth=2000",
            "-cp",
            _derby_classpath(),
            "org.apache.derby.tools.ij",
        ],
        input=script,
        capture_output=True,
        text=True,
        timeout=IJ_TIMEOUT_SECONDS,
    )
    # ij exits 0 even when a statement fails: its errors are `ERROR <SQLState>:` lines
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR ")]
    if result.returncode != 0 or errors:
        raise MetastoreUnreadableError(
            f"reading the Spark metastore {metastore} failed: "
            + ("; ".join(errors) or result.stderr.strip()[-2000:])
        )
    return {
        line.strip()[len(TABLE_MARKER) :].lower()
        for line in result.stdout.splitlines()
        if line.strip().startswith(TABLE_MARKER)
    }


def orphan_table_folders(spark_dir: Path, manifest_path: Path) -> list[Path]:
    """The project's table folders holding anything while the metastore lacks their table."""
    metastore = spark_dir / "metastore_db"
    candidates = {
        table: folder
        for table, folder in table_folders(spark_dir / "warehouse", manifest_path).items()
        if folder.is_dir() and any(folder.iterdir())
    }
    if not candidates or not metastore.is_dir():
        return []
    known = metastore_tables(metastore)
    return sorted(folder for table, folder in candidates.items() if table not in known)


def remove_orphan_table_folders(spark_dir: Path, manifest_path: Path) -> list[Path]:
    """Delete what `orphan_table_folders` finds; returns the folders deleted."""
    orphans = orphan_table_folders(spark_dir, manifest_path)
    for folder in orphans:
        shutil.rmtree(folder)
    return orphans
