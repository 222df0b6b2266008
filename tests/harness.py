"""Building a year's published tables straight from the SQL models, without Dagster.

For property tests that run hundreds of examples: the same ingest, seeds and SQL files as the
Dagster assets, in dependency order, on one connection.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from pipelines.core.contract import RAW_EXPORTS
from pipelines.core.seeds import load_seeds
from pipelines.core.sql_models import models
from pipelines.validation.ingest import ingest


def build_tables(con: duckdb.DuckDBPyConnection, raw_year_dir: Path, previous_release: Path | None = None) -> None:
    """Every staging and published table of the year; last year's release when given."""
    for export in RAW_EXPORTS:
        ingest(con, export, raw_year_dir)
    load_seeds(con)
    by_name = {m.name: m for layer in ("staging", "published") for m in models(layer)}
    graph = {name: [d for d in m.depends_on if d in by_name] for name, m in by_name.items()}
    for name in TopologicalSorter(graph).static_order():
        model = by_name[name]
        if model.previous_year is not None:
            model.previous_year.create_view(con, previous_release or raw_year_dir / "no-release")
        model.materialize(con)
