"""Downstream readers: the Parquet files of several years read as one table by DuckDB, polars
and pandas, exactly as the README shows. The releases are written by the SQL models and the
release writer (tests/harness.py), without Dagster, from small hand-made years (tests/exports.py)
with a different count of cases each, so a reader that mixes up the years shows."""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from tests.exports import YearExports, resolved_cases
from tests.harness import publish_year

CASES = {2019: 5, 2020: 2}
"""The cases of each year: the Total of missing_children_by_state."""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readers")
    for year, cases in CASES.items():
        exports = YearExports.small(year)
        exports.cases += resolved_cases("R", cases - len(exports.cases), year)
        exports.write(root / "raw")
        publish_year(root / "raw", root / "published", year)
    return root / "published"


def test_duckdb_reads_every_year_as_one_table(published: Path) -> None:
    pattern = str(published / "*" / "missing_children_by_state.parquet")
    rows = duckdb.sql(
        f"SELECT year, total FROM read_parquet('{pattern}') WHERE missing_state = 'Total' ORDER BY year"
    ).fetchall()
    assert rows == list(CASES.items())


def test_polars_reads_every_year_as_one_table(published: Path) -> None:
    frame = pl.scan_parquet(published / "*" / "missing_children_by_state.parquet").collect()
    assert frame.height == 2 * 54
    assert frame.schema["total"] == pl.Int64 and frame.schema["year"] == pl.Int32
    assert sorted(frame["year"].unique().to_list()) == [2019, 2020]


def test_pandas_reads_every_year_as_one_table(published: Path) -> None:
    paths = sorted(glob.glob(str(published / "*" / "missing_children_by_state.parquet")))
    frame = pd.concat([pd.read_parquet(path) for path in paths], ignore_index=True)
    assert len(frame) == 2 * 54
    assert str(frame["total"].dtype) == "int64"
    totals = frame[frame["missing_state"] == "Total"].set_index("year")["total"]
    assert totals.to_dict() == CASES


def test_csv_and_parquet_hold_the_same_rows(published: Path) -> None:
    for year in (2019, 2020):
        folder = published / str(year)
        parquet = pl.read_parquet(folder / "headline_metrics.parquet")
        csv = pl.read_csv(folder / "headline_metrics.csv", schema=parquet.schema)
        assert parquet.equals(csv, null_equal=True)
