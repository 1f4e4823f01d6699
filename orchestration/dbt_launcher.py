"""`campaign-warehouse-dbt`: dbt, started in the warehouse's folder (the dbt the pipeline runs).

Why: dbt's partial parsing reuses a previous parse only when the rendered profile is unchanged
(dbt-core hashes the adapter's connection info, which for dbt-duckdb includes `path`). With the
warehouse's absolute path in the profile, every new data folder had a new profile, so its first
dbt run parsed the whole project (~19 s on a quiet machine) although `make prepare` had parsed it.

So dbt runs in the warehouse's folder and its profile names the warehouse by its file name
(`CW_WAREHOUSE_PATH=warehouse.duckdb`, relative to dbt's working directory): the same string for
every data folder, and `make prepare`'s parse (made through this launcher too) holds everywhere.
dagster-dbt starts dbt in the project folder (its `cwd`), hence this small step in between. Every
path dbt itself needs (project, profiles, target, logs) is absolute, so only the warehouse's
relative path depends on the working directory.

Any other argument goes to dbt as it is: `campaign-warehouse-dbt build --select ...` is `dbt build
--select ...` on the warehouse that CW_WAREHOUSE_PATH names.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

WAREHOUSE_VARIABLE = "CW_WAREHOUSE_PATH"


def enter_warehouse_folder(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """chdir into the warehouse's folder and name the warehouse by its file name in `environ`.

    `:memory:` and DuckDB URLs (`md:...`, `s3://...`) are not local files: left as they are. A
    relative path is taken from the current folder, as dbt would have.
    """
    value = environ.get(WAREHOUSE_VARIABLE)
    if not value or ":" in value:
        return
    warehouse = Path(value).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.chdir(warehouse.parent)
    environ[WAREHOUSE_VARIABLE] = warehouse.name


def main() -> None:
    enter_warehouse_folder()
    from dbt.cli.main import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
