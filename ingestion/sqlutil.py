"""Small SQL text helpers shared by the modules that generate DuckDB SQL."""

from __future__ import annotations

import duckdb


def ident(name: str) -> str:
    """A quoted identifier (field names such as ``group``, ``from``, ``to`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def lit_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def json_path(key: str) -> str:
    """A JSONPath literal selecting one top-level key, whatever characters it holds."""
    return lit('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')


def drop_temp_relations(
    con: duckdb.DuckDBPyConnection,
    names: list[str] | tuple[str, ...] = (),
    prefix: str | None = None,
) -> None:
    """Drop those of the temporary tables/views ``names`` that exist, in the given order, then
    (``prefix``) every temporary view and table whose name starts with it, views first."""
    existing = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = 'temp'"
        ).fetchall()
    )
    names = list(names)
    if prefix:
        matching = sorted(n for n in existing if n.startswith(prefix) and n not in names)
        names += sorted(matching, key=lambda n: existing[n] != "VIEW")  # views first
    for name in names:
        if name in existing:
            kind = "VIEW" if existing[name] == "VIEW" else "TABLE"
            con.execute(f"DROP {kind} temp.main.{ident(name)}")
