"""A SQL model's ``-- depends_on:`` line names exactly the tables its SQL reads.

A missing dependency would not fail: the model would silently read last run's table from the
persistent warehouse file. DuckDB's own parser (``json_serialize_sql``) lists the tables a SELECT
reads, without running it.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.core.sql_models import models

MODELS = [m for layer in ("staging", "published") for m in models(layer)]


def tables_read(sql: str) -> set[str]:
    """Base tables a SELECT reads (common table expressions excluded)."""
    tree = json.loads(duckdb.sql("SELECT json_serialize_sql(?)", params=[sql]).fetchall()[0][0])
    assert not tree["error"], tree
    tables: set[str] = set()
    ctes: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and "table_name" in node:
                tables.add(node["table_name"])
            cte_map = node.get("cte_map")
            if isinstance(cte_map, dict):
                ctes.update(entry["key"] for entry in cte_map.get("map", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return tables - ctes


def asset_of(table: str) -> str:
    """The asset that writes a warehouse table: ``seeds`` writes every ``seed_*`` table; a raw
    export's asset also writes its ingest tables (``raw_cybertipline_reports_groups``)."""
    if table.startswith("seed_"):
        return "seeds"
    if table.startswith("raw_") and table.endswith("_groups"):
        return table.removesuffix("_groups")
    return table


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_depends_on_names_exactly_the_tables_the_sql_reads(model) -> None:
    read = tables_read(model.select)
    if model.previous_year is not None:
        read.discard(model.previous_year.view)  # declared by its -- previous_year: line
    assert {asset_of(t) for t in read} == set(model.depends_on)


def test_a_missing_dependency_is_found() -> None:
    sql = "WITH x AS (SELECT * FROM stg_cases) SELECT * FROM x JOIN seed_races USING (race)"
    assert {asset_of(t) for t in tables_read(sql)} == {"stg_cases", "seeds"}
