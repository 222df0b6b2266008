"""The Dagster check ``schema_and_totals`` of every published table, run in the
published tables' step: the table read from the year's warehouse and validated against the Pandera schema
generated from its spec (pipelines/proving/schemas.py)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb

from pipelines.defs.checks import check_spec

CHECK_NAME = "schema_and_totals"


def check_result(
    name: str, table: str, problems: list[str], passed_text: str, metadata: dict[str, Any]
) -> dg.AssetCheckResult:
    """The result of check ``name`` of ``table`` (named: the step builds several tables): passed
    when there is no problem; otherwise a summary and every problem, one per line, under the
    metadata key ``failure`` (read by pipelines.runner)."""
    if not problems:
        return dg.AssetCheckResult(
            asset_key=table, check_name=name, passed=True, description=passed_text, metadata=metadata
        )
    return dg.AssetCheckResult(
        asset_key=table,
        check_name=name,
        passed=False,
        description=f"{len(problems)} invariant(s) broken, nothing is published:",
        metadata={**metadata, "failure": dg.MetadataValue.text("\n".join(problems))},
    )


def schema_and_totals_spec(table: str, partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """Run in the published tables' step, right after the SQL model built the table
    (pipelines/defs/proving/assets.py): a failure keeps ``release`` from running
    (pipelines/defs/gate.py)."""
    return check_spec(CHECK_NAME, table, partitions)


def schema_and_totals(con: duckdb.DuckDBPyConnection, table: str, year: int) -> dg.AssetCheckResult:
    """Validate a published table of the year's warehouse against its Pandera model."""
    from pipelines.proving.schemas import check_published_table  # pandera, imported by the step that validates

    rows, problems = check_published_table(con, table, year)
    return check_result(CHECK_NAME, table, problems, f"{table}: all {rows} rows pass", {"rows": rows})
