"""The Dagster check ``second_computation`` of every published table, run in the
published tables' step: the SQL model's table against the same table computed again from the raw exports
(pipelines/proving/second_computation.py)."""

from __future__ import annotations

import dagster as dg
import duckdb
import polars as pl

from pipelines.defs.checks import check_spec
from pipelines.defs.proving.schema_and_totals import check_result
from pipelines.proving.second_computation import compare
from pipelines.tables.raw_year import RawYear

CHECK_NAME = "second_computation"


def second_computation_spec(table: str, partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """Run in the published tables' step right after the table's Pandera check."""
    return check_spec(CHECK_NAME, table, partitions)


class SecondComputationError(RuntimeError):
    """The second computation itself broke: a product error (``impact run`` exits 2), not bad
    input. The exports it reads have passed their contract in the same run, so a polars or I/O
    error here is a bug in a spec's computation or in its reading of the exports."""


def second_computation(con: duckdb.DuckDBPyConnection, table: str, raw: RawYear) -> dg.AssetCheckResult:
    from pipelines.proving.schemas import load_published_table  # pandera, imported by the step that validates

    built, problems = load_published_table(con, table)
    if built is not None:
        try:
            problems += compare(table, built, raw)
        except (OSError, pl.exceptions.PolarsError) as error:
            # The error's type only, and not chained: a parser's message may quote a raw value,
            # and Dagster records a failed step's exception in its event log.
            message = f"{table}: the second computation failed ({type(error).__name__})"
            raise SecondComputationError(message) from None
    return check_result(
        CHECK_NAME,
        table,
        problems,
        f"{table}: every cell equals the second computation from the raw exports",
        {},
    )
