"""The two year-over-year rules of the headline figures, run on any DuckDB connection that holds
the tables they read: the checks of ``headline_metrics`` (pipelines/defs/proving/across_years.py)
run them on the year's warehouse, and the demo generator on the figures it is about to write, so
that it can say before writing whether they will publish beside the years already published.

``sql/audits/headline_metrics_previous_year.sql`` (consistent_with_previous_year) reads
``stg_program_metrics``, ``headline_metrics`` and ``previous_year_headline_metrics``;
``sql/audits/previous_year_band.sql`` (within_previous_year_band) reads ``ingest_log``,
``headline_metrics``, ``seed_metric_catalog``, ``previous_year_export_rows`` and
``previous_year_headline_metrics``. Each returns one row per violation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.core.config import SQL_DIR

if TYPE_CHECKING:
    import duckdb

CONSISTENCY_AUDIT = SQL_DIR / "audits" / "headline_metrics_previous_year.sql"
BAND_AUDIT = SQL_DIR / "audits" / "previous_year_band.sql"


def inconsistent(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, int, int]]:
    """(metric_id, period, rule, this year's value, last year's) of every figure that breaks a
    consistency rule: a prior-year figure differing from last year's release, a cumulative one
    below last year's."""
    return con.sql(CONSISTENCY_AUDIT.read_text(encoding="utf-8")).fetchall()


def outside_band(con: duckdb.DuckDBPyConnection, band: float) -> list[tuple[str, int, int]]:
    """(figure, this year's value, last year's) of every figure more than ``band`` (a fraction of
    last year's value) away from last year's release."""
    return con.sql(BAND_AUDIT.read_text(encoding="utf-8"), params={"band": band}).fetchall()


def manifest_export_rows(manifest: Path) -> dict[str, int]:
    """Each export's row count as a release's ``manifest.json`` records it (empty: no manifest)."""
    if not manifest.is_file():
        return {}
    inputs = json.loads(manifest.read_text(encoding="utf-8")).get("inputs", [])
    return {Path(i["path"]).name: int(i["rows"]) for i in inputs if i.get("rows") is not None}


def load_previous_export_rows(con: duckdb.DuckDBPyConnection, rows: dict[str, int]) -> None:
    """``previous_year_export_rows`` (figure, rows), which the band rule compares ``ingest_log`` with."""
    con.sql("CREATE OR REPLACE TEMP TABLE previous_year_export_rows (figure VARCHAR, rows BIGINT)")
    if rows:
        con.executemany("INSERT INTO previous_year_export_rows VALUES (?, ?)", sorted(rows.items()))
