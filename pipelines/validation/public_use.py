"""The public-use tables of a year in the warehouse: the published tables with small counts of
children suppressed (pipelines/validation/disclosure.py), and the list of suppressed cells.

Warehouse tables written (each keeps the ``sort_order`` column of its published table):

* ``public_<table>`` for every table that takes part in suppression (``LAYOUTS``): suppressed
  cells are NULL, the columns keep their types; a suppressed headline value empties its
  ``display_text`` too. Every other published table goes to ``public/`` as it is.
* ``public_suppressed_cells``: one row per suppressed cell — table, row label, column and its
  SDMX CONF_STATUS (``C`` primary, ``D`` secondary), in table, row and column order.

The release (pipelines/publishing/release.py) writes them under ``published/<year>/public/`` once the
blocking audit (pipelines/validation/disclosure_audit.py) has passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import polars as pl

from pipelines.core.sql_models import ORDER_COLUMN
from pipelines.tables import Column, TableSpec
from pipelines.validation.disclosure import (
    LAYOUTS,
    CellKey,
    LinkedTables,
    Pattern,
    apply_pattern,
    suppress,
    suppressed_cells,
)
from pipelines.validation.disclosure_audit import AuditResult, audit

PUBLIC_PREFIX = "public_"
SUPPRESSED_CELLS = "suppressed_cells"
"""Name of the list of suppressed cells in ``public/`` (warehouse: ``public_suppressed_cells``)."""
SUPPRESSED_SPEC = TableSpec(
    name=SUPPRESSED_CELLS,
    title="Suppressed cells of the public-use tables",
    columns=(
        Column(
            "table_name",
            "Table",
            "The public-use table of the suppressed cell (its CSV file has the same name).",
            pl.String,
        ),
        Column(
            "row_label",
            "Row",
            "The row of the cell: its category, or metric_id/period for headline figures.",
            pl.String,
        ),
        Column("column_name", "Column", "The column of the cell.", pl.String),
        Column(
            "conf_status",
            "Confidentiality status",
            "SDMX CONF_STATUS: C = primary (a count from 1 to K-1 of children), D = secondary "
            "(suppressed so that no primary cell can be derived).",
            pl.String,
        ),
    ),
    primary_key=("year", "table_name", "row_label", "column_name"),
    counts_children=False,
    total=None,
)
"""The columns of the list (its data package resource)."""


def public_name(table: str) -> str:
    return PUBLIC_PREFIX + table


def read_tables(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, pl.DataFrame]:
    """Warehouse tables in published order, ``sort_order`` kept."""
    return {table: con.sql(f"SELECT * FROM {table} ORDER BY {ORDER_COLUMN}").pl() for table in tables}


@dataclass(frozen=True)
class PublicTables:
    tables: dict[str, pl.DataFrame]
    listed: dict[CellKey, str]
    pattern: Pattern


def public_tables(exact: Mapping[str, pl.DataFrame], k: int) -> PublicTables:
    """The suppressed copies of the exact tables and the list of suppressed cells."""
    model = LinkedTables.from_tables(exact)
    pattern = suppress(model, k)
    listed = suppressed_cells(model, pattern.status)
    public = apply_pattern(exact, listed)
    headline = public.get("headline_metrics")
    if headline is not None:
        public["headline_metrics"] = headline.with_columns(
            pl.when(pl.col("value").is_null()).then(None).otherwise(pl.col("display_text")).alias("display_text")
        )
    return PublicTables(public, listed, pattern)


def suppressed_frame(listed: Mapping[CellKey, str], year: int) -> pl.DataFrame:
    rows = list(listed.items())
    return pl.DataFrame(
        {
            "year": [year] * len(rows),
            "table_name": [cell[0] for cell, _ in rows],
            "row_label": [cell[1] for cell, _ in rows],
            "column_name": [cell[2] for cell, _ in rows],
            "conf_status": [code for _, code in rows],
            ORDER_COLUMN: list(range(len(rows))),
        },
        schema={
            "year": pl.Int32,
            "table_name": pl.String,
            "row_label": pl.String,
            "column_name": pl.String,
            "conf_status": pl.String,
            ORDER_COLUMN: pl.Int64,
        },
    )


def build_public_tables(con: duckdb.DuckDBPyConnection, year: int, k: int) -> PublicTables:
    """Compute and store the year's public-use tables in the warehouse."""
    built = public_tables(read_tables(con, list(LAYOUTS)), k)
    for table, frame in built.tables.items():
        con.register("public_frame", frame.to_arrow())
        con.sql(f"CREATE OR REPLACE TABLE {public_name(table)} AS SELECT * FROM public_frame")
        con.unregister("public_frame")
    listed = suppressed_frame(built.listed, year).to_arrow()
    con.register("listed_frame", listed)
    con.sql(f"CREATE OR REPLACE TABLE {public_name(SUPPRESSED_CELLS)} AS SELECT * FROM listed_frame")
    con.unregister("listed_frame")
    return built


def audit_warehouse(con: duckdb.DuckDBPyConnection, k: int) -> AuditResult:
    """The audit of the stored public-use tables, from them and the stored list alone."""
    tables = {
        table: frame.drop(ORDER_COLUMN) for table, frame in read_tables(con, [public_name(t) for t in LAYOUTS]).items()
    }
    tables = {name.removeprefix(PUBLIC_PREFIX): frame for name, frame in tables.items()}
    listed = {
        (table, row, column): code
        for table, row, column, code in con.sql(
            f"SELECT table_name, row_label, column_name, conf_status FROM {public_name(SUPPRESSED_CELLS)} "
            f"ORDER BY {ORDER_COLUMN}"
        ).fetchall()
    }
    return audit(tables, listed, k)
