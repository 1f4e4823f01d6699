"""Validate Great Expectations expectations inside DuckDB: one aggregate query per relation.

The suites are GX 1.x expectations (data_checks/suites.py); this module compiles each one to a
SQL `count(*) filter (...)` of its unexpected rows, with GX's column-map semantics (nulls are
skipped; a unique check counts every row of a duplicated value, as GX does), runs one query per
table, and fetches a few example values only for the expectations that fail. Nothing is pulled
into pandas: GX's own SQL execution engine does not support DuckDB (GX 1.24 reads column types
without the schema and fails on query assets; benchmarks/checks_profile.md).

GX is imported lazily (it takes seconds), so that loading the Dagster definitions, which only
need the static check declarations, does not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import duckdb

MAX_EXAMPLES = 5
RELATION = "<relation>"  # stands for the relation in compiled SQL (not str.format: regexes)


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str  # e.g. "expect_column_values_to_be_unique"
    target: str  # the column(s) it reads, e.g. "mailing_id" or "mailing_id,variant"
    success: bool
    unexpected_count: int
    examples: tuple[str, ...]
    error: str | None = None


def gxe():
    """`great_expectations.expectations`, imported on first use (GX analytics off)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations.expectations as expectations

    return expectations


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value) -> str:
    if isinstance(value, bool) or value is None:
        raise NotImplementedError(f"unsupported bound {value!r}")
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class _Compiled:
    """One expectation as SQL: the rows it rejects, and how to list a few of them."""

    columns: tuple[str, ...]
    unexpected: str  # a predicate on one row, or (grouped) a scalar subquery counting rows
    examples: str  # a select over RELATION returning example rows
    grouped: bool = False  # `unexpected` is a scalar subquery, not a row predicate
    format_example: Callable[[tuple], str] = lambda row: str(row[0])


def _not_null(kwargs) -> _Compiled:
    column = quote(kwargs["column"])
    return _Compiled(
        (kwargs["column"],),
        f"{column} is null",
        f"select {column} from {RELATION} where {column} is null limit 1",
    )


def _between(kwargs) -> _Compiled:
    if kwargs.get("strict_min") or kwargs.get("strict_max"):
        raise NotImplementedError("strict bounds are not compiled")
    column = quote(kwargs["column"])
    outside = []
    if kwargs.get("min_value") is not None:
        outside.append(f"{column} < {_literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        outside.append(f"{column} > {_literal(kwargs['max_value'])}")
    if not outside:
        raise NotImplementedError("a range needs at least one bound")
    # GX (pandas) treats NaN as missing, like null
    present = f"{column} is not null and not coalesce(isnan(try_cast({column} as double)), false)"
    predicate = f"{present} and ({' or '.join(outside)})"
    return _Compiled(
        (kwargs["column"],),
        predicate,
        f"select distinct {column} from {RELATION} where {predicate} order by 1 limit "
        f"{MAX_EXAMPLES}",
    )


def _not_match_regex(kwargs) -> _Compiled:
    column = quote(kwargs["column"])
    matches = f"regexp_matches(cast({column} as varchar), {_literal(kwargs['regex'])})"
    # match each distinct value once (text columns repeat few values), then count its rows
    values = (
        f"select {column}, count(*) as n from {RELATION} where {column} is not null group by all"
    )
    return _Compiled(
        (kwargs["column"],),
        f"(select coalesce(sum(n), 0) from ({values}) where {matches})",
        f"select {column} from ({values}) where {matches} order by 1 limit {MAX_EXAMPLES}",
        grouped=True,
    )


def _duplicates(columns: Sequence[str], skip: str) -> _Compiled:
    """Rows whose key value occurs more than once (every copy counts, as in GX)."""
    keys = ", ".join(quote(c) for c in columns)
    duplicated = (
        f"select {keys}, count(*) as n from {RELATION} where {skip} group by all having n > 1"
    )
    return _Compiled(
        tuple(columns),
        f"(select coalesce(sum(n), 0) from ({duplicated}))",
        f"select {keys} from ({duplicated}) order by {keys} limit {MAX_EXAMPLES}",
        grouped=True,
        format_example=(
            (lambda row: str(row[0]))
            if len(columns) == 1
            else (lambda row: ", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)))
        ),
    )


def _unique(kwargs) -> _Compiled:
    return _duplicates([kwargs["column"]], f"{quote(kwargs['column'])} is not null")


def _compound_unique(kwargs) -> _Compiled:
    columns = list(kwargs["column_list"])
    nulls = [f"{quote(c)} is null" for c in columns]
    ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
    if ignore == "all_values_are_missing":
        skip = f"not ({' and '.join(nulls)})"
    elif ignore == "any_value_is_missing":
        skip = f"not ({' or '.join(nulls)})"
    else:  # "never"
        skip = "true"
    return _duplicates(columns, skip)


def _in_set(kwargs) -> _Compiled:
    column = quote(kwargs["column"])
    values = ", ".join(_literal(v) for v in kwargs["value_set"])
    predicate = f"{column} is not null and {column} not in ({values})"
    return _Compiled(
        (kwargs["column"],),
        predicate,
        f"select distinct {column} from {RELATION} where {predicate} order by 1 limit "
        f"{MAX_EXAMPLES}",
    )


def _pair_greater(kwargs) -> _Compiled:
    a, b = quote(kwargs["column_A"]), quote(kwargs["column_B"])
    operator = ">=" if kwargs.get("or_equal") else ">"
    # GX's ignore_row_if: rows where both values (default) or either value are missing are skipped
    if kwargs.get("ignore_row_if") == "either_value_is_missing":
        skip = f"({a} is null or {b} is null)"
    else:
        skip = f"({a} is null and {b} is null)"
    predicate = f"not {skip} and not coalesce({a} {operator} {b}, false)"
    return _Compiled(
        (kwargs["column_A"], kwargs["column_B"]),
        predicate,
        f"select {a}, {b} from {RELATION} where {predicate} order by 1, 2 limit {MAX_EXAMPLES}",
        format_example=lambda row: f"({row[0]}, {row[1]})",
    )


_COMPILERS: dict[str, Callable[[Mapping], _Compiled]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_match_regex": _not_match_regex,
    "expect_column_values_to_be_unique": _unique,
    "expect_compound_columns_to_be_unique": _compound_unique,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_greater,
}


def _target(kwargs) -> str:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return kwargs.get("column") or ",".join(kwargs.get("column_list") or ())


def _config(expectation) -> tuple[str, dict]:
    config = expectation.configuration
    return config.type, dict(config.kwargs)


def _compile(expectation, columns: Sequence[str] | None) -> _Compiled:
    kind, kwargs = _config(expectation)
    compiler = _COMPILERS.get(kind)
    if compiler is None:
        raise NotImplementedError(f"{kind} has no SQL compilation")
    compiled = compiler(kwargs)
    missing = [c for c in compiled.columns if columns is not None and c not in columns]
    if missing:
        raise LookupError(f'The column "{missing[0]}" in the table does not exist.')
    return compiled


def _count_expression(compiled: _Compiled) -> str:
    if compiled.grouped:
        return compiled.unexpected
    return f"count(*) filter (where {compiled.unexpected})"


def _counts(conn: duckdb.DuckDBPyConnection, relation: str, compiled: list[_Compiled]) -> list[int]:
    """Every unexpected count of one relation, in one query."""
    if not compiled:
        return []
    select = ",\n    ".join(_count_expression(c).replace(RELATION, relation) for c in compiled)
    return [int(n or 0) for n in conn.sql(f"select\n    {select}\nfrom {relation}").fetchall()[0]]


def validate_relation(
    conn: duckdb.DuckDBPyConnection,
    relation: str,
    expectations: Sequence,
    columns: Sequence[str] | None = None,
) -> list[ExpectationOutcome]:
    """Validate GX expectations on a DuckDB relation (a quoted table name or a parenthesised
    query); one outcome per expectation, in order. `columns` (when known) are the relation's
    columns: an expectation on another column fails with an error, as in GX."""
    compiled: list[_Compiled | None] = []
    errors: list[str | None] = []
    for expectation in expectations:
        try:
            compiled.append(_compile(expectation, columns))
            errors.append(None)
        except (NotImplementedError, LookupError) as exc:
            compiled.append(None)
            errors.append(str(exc))

    runnable = [(i, c) for i, c in enumerate(compiled) if c is not None]
    counts: dict[int, int] = {}
    try:
        found = _counts(conn, relation, [c for _, c in runnable])
        counts = dict(zip((i for i, _ in runnable), found, strict=True))
    except duckdb.Error:
        # one of them does not run: count each alone to tell which
        for i, c in runnable:
            try:
                counts[i] = _counts(conn, relation, [c])[0]
            except duckdb.Error as exc:
                errors[i] = str(exc).splitlines()[0]

    outcomes = []
    for i, expectation in enumerate(expectations):
        kind, kwargs = _config(expectation)
        unexpected = counts.get(i, 0)
        examples: tuple[str, ...] = ()
        if unexpected and errors[i] is None:
            rows = conn.sql(compiled[i].examples.replace(RELATION, relation)).fetchall()
            examples = tuple(dict.fromkeys(compiled[i].format_example(r) for r in rows))
        outcomes.append(
            ExpectationOutcome(
                expectation=kind,
                target=_target(kwargs),
                success=errors[i] is None and unexpected == 0,
                unexpected_count=unexpected,
                examples=examples[:MAX_EXAMPLES],
                error=errors[i],
            )
        )
    return outcomes
