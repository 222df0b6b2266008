"""What the Dagster UI shows about a warehouse table: row count, column schema and a preview.

Only published tables (aggregates) get a preview: raw and staging rows are record-level data
about children and must not be copied into Dagster's event log.
"""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.core.sql_models import ORDER_COLUMN
from pipelines.tables import specs

PREVIEW_ROWS = 60
"""Published models carry their row order in this column; it is not part of the release."""


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    """The warehouse table's columns and types; a published table's column descriptions come from
    its spec (pipelines/tables/)."""

    published = specs().get(table)
    described = con.sql(f"DESCRIBE {table}").fetchall()
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=column_type,
                description=published.column(name).description if published else None,
                constraints=dg.TableColumnConstraints(nullable=nullable == "YES"),
            )
            for name, column_type, nullable, *_ in described
            if name != ORDER_COLUMN
        ]
    )


def markdown_preview(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The first rows of a published table, in published order, as a markdown table."""
    relation = con.sql(f"SELECT * EXCLUDE ({ORDER_COLUMN}) FROM {table} ORDER BY {ORDER_COLUMN} LIMIT {PREVIEW_ROWS}")
    lines = ["| " + " | ".join(relation.columns) + " |", "|" + "---|" * len(relation.columns)]
    for row in relation.fetchall():
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines)


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, *, preview: bool = False) -> dict:
    metadata = {
        "dagster/row_count": dg.MetadataValue.int(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]),
        "dagster/column_schema": column_schema(con, table),
    }
    if preview:
        metadata["preview"] = dg.MetadataValue.md(markdown_preview(con, table))
    return metadata
