"""The cells two tables share hold one figure in the exact published tables (the specs' ``shares``:
the population in every missing-children table and the headline figures, the CyberTipline
reports in every table of them), checked by ``shared_cells`` on the tables as the SQL models
build them (pipelines/proving/shared_cells.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.defs.proving.shared_cells import shared_cells
from pipelines.proving.schemas import load_published_table
from pipelines.proving.shared_cells import shared_cell_problems
from pipelines.tables import SharedCell, spec, specs
from tests.exports import YearExports
from tests.harness import build_tables

YEAR = 2020
SHARES = [(name, share) for name, table in specs().items() for share in table.shares]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    year_dir = YearExports.small(YEAR).write(tmp_path_factory.mktemp("shared") / "raw")
    with duckdb.connect() as con:
        build_tables(con, year_dir)
        return {name: load_published_table(con, name)[0] for name in specs()}


def plus_one(frame: pl.DataFrame, table: str, row: str, column: str) -> pl.DataFrame:
    """The table with one more in its cell (row by label, column by name)."""
    labels = spec(table).row_labels(frame)
    index = labels.index(row)
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == index).then(pl.col(column) + 1).otherwise(pl.col(column)).alias(column)
    )


def value(frames: dict[str, pl.DataFrame], table: str, row: str, column: str) -> int:
    return frames[table][column][spec(table).row_labels(frames[table]).index(row)]


def test_the_tables_the_sql_models_build_share_their_cells(tables: dict[str, pl.DataFrame]) -> None:
    assert SHARES
    assert [problem for name in specs() for problem in shared_cell_problems(name, tables)] == []


@pytest.mark.guard("shared_cells")
@pytest.mark.parametrize(("table", "share"), SHARES, ids=[f"{t}[{s.row},{s.column}]={s.table}" for t, s in SHARES])
def test_a_shared_cell_that_differs_is_named_with_both_figures(
    tables: dict[str, pl.DataFrame], table: str, share: SharedCell
) -> None:
    tampered = {**tables, table: plus_one(tables[table], table, share.row, share.column)}
    this = value(tampered, table, share.row, share.column)
    other = value(tampered, share.table, share.other_row, share.other_column)

    assert shared_cell_problems(table, tampered) == [
        f"{table}[{share.row}, {share.column}] = {this:,}, but {share.table}[{share.other_row}, "
        f"{share.other_column}] = {other:,} (rule: a cell the tables share holds one figure)"
    ]


def test_a_shared_cell_of_a_missing_row_is_named() -> None:
    share = spec("missing_children_by_state").shares[0]
    frames = {
        "missing_children_by_state": pl.DataFrame({"year": [YEAR], "missing_state": ["Total"], share.column: [3]}),
        share.table: pl.DataFrame({"year": [YEAR], "case_type": ["Endangered Runaway"], share.other_column: [3]}),
    }
    assert shared_cell_problems("missing_children_by_state", frames)[0] == (
        f"{share.table}[{share.other_row}, {share.other_column}]: no such cell, so "
        f"missing_children_by_state[{share.row}, {share.column}] cannot be compared with it "
        "(rule: a cell the tables share holds one figure)"
    )


def test_the_check_reads_the_exact_tables_of_the_warehouse(tmp_path: Path) -> None:
    year_dir = YearExports.small(YEAR).write(tmp_path / "raw")
    with duckdb.connect() as con:
        build_tables(con, year_dir)
        assert shared_cells(con, "missing_children_by_state").passed
        con.sql("UPDATE missing_children_by_case_type SET total = total + 1 WHERE case_type = 'Total'")
        result = shared_cells(con, "missing_children_by_state")
    assert not result.passed
    assert result.metadata["failure"].value.startswith("missing_children_by_state[Total, total] = ")
