"""The Dagster check ``shared_cells`` of a published table that shares cells with others, run in
the published tables' step: its shared cells against the other tables' (pipelines/proving/shared_cells.py),
all read from the year's warehouse. The table depends on the tables its shares name, so they are
built before it (pipelines/defs/proving/assets.py)."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.defs.checks import check_spec
from pipelines.defs.proving.schema_and_totals import check_result
from pipelines.proving.shared_cells import shared_cell_problems
from pipelines.tables import spec

CHECK_NAME = "shared_cells"


def shared_tables(table: str) -> list[str]:
    """The other tables whose cells ``table`` shares."""
    return list(dict.fromkeys(share.table for share in spec(table).shares))


def shared_cells_spec(table: str, partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    return check_spec(CHECK_NAME, table, partitions)


def shared_cells(con: duckdb.DuckDBPyConnection, table: str) -> dg.AssetCheckResult:
    from pipelines.proving.schemas import load_published_table  # pandera, imported by the step that validates

    frames, problems = {}, []
    for name in [table, *shared_tables(table)]:
        frames[name], unreadable = load_published_table(con, name)
        problems += unreadable
    if not problems:
        problems = shared_cell_problems(table, frames)
    passed = f"{table}: its {len(spec(table).shares)} shared cell(s) hold the other tables' figures"
    return check_result(CHECK_NAME, table, problems, passed, {})
