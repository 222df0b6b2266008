"""The asset checks of the raw exports: every row rule of raw/README.md, on every row.

One check per raw asset, named ``export_contract``, evaluated per yearly partition in the asset's
own step, right after the export is ingested (ingest has already proved the file whole, its
columns and its Parquet types; a file it cannot read fails the check with ingest's lines). When a
rule is broken, the year's raw asset is not materialized and nothing downstream of the export is
built (pipelines/defs/gate.py).

* The four CSV exports (tens of thousands of rows at most) are validated with Great Expectations
  1.x in the run's process (pipelines/accepting/gx_suites.py). Data Docs go to
  ``<warehouse_dir>/data_docs/<year>/<export>/index.html``: they show unexpected *values*, so they
  stay in the internal warehouse folder, and GX results never reach Dagster metadata.
* The CyberTipline Parquet export (21.75M rows) is validated in DuckDB by SQL audits, one file
  per rule (pipelines/accepting/audits.py, sql/audits/cybertipline_reports_<rule>.sql).

Errors name the file, the column, the rule, the number of bad rows and up to five example rows
(``source_row``: 1-based data rows) or report_ids. Never a cell value.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import duckdb

from pipelines.accepting.audits import run_audits
from pipelines.accepting.gx_suites import (
    RuleOutcome,
    data_docs_dir,
    ingested_rows,
    validate_csv_export,
)
from pipelines.accepting.ingest import RawExportError
from pipelines.core.contract import CYBERTIPLINE_REPORTS, RawExport
from pipelines.defs.checks import check_spec
from pipelines.defs.resources import ProjectFolders, Warehouse

CHECK_NAME = "export_contract"


# ---------------------------------------------------------------------------------------------
# How the outcome of the rules is reported


def failure_text(outcomes: Sequence[RuleOutcome]) -> str:
    return "\n".join(o.failure_line() for o in outcomes if not o.passed)


def rules_markdown(outcomes: Sequence[RuleOutcome]) -> str:
    lines = ["| column | rule | bad rows | examples |", "|---|---|---|---|"]
    for o in outcomes:
        examples = ", ".join(str(e) for e in o.examples)
        rule = o.rule.replace("|", "\\|")
        lines.append(f"| {o.column} | {rule} | {o.status()} | {examples} |")
    return "\n".join(lines)


def check_result(
    export: RawExport, outcomes: Sequence[RuleOutcome], rows: int, metadata: dict[str, Any]
) -> dg.AssetCheckResult:
    broken = [o for o in outcomes if not o.passed]
    if broken:
        description = (
            f"{export.file_name}: {len(broken)} of {len(outcomes)} rules broken (checked on all {rows:,} rows)"
        )
    else:
        description = f"{export.file_name}: all {len(outcomes)} rules hold on {rows:,} rows"
    return dg.AssetCheckResult(
        asset_key=export.table,
        passed=not broken,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "failure": dg.MetadataValue.text(failure_text(outcomes)),
            "rules": dg.MetadataValue.md(rules_markdown(outcomes)),
            "rows": dg.MetadataValue.int(rows),
            "broken_rules": dg.MetadataValue.int(len(broken)),
            **metadata,
        },
    )


def unreadable_export(export: RawExport, error: RawExportError) -> dg.AssetCheckResult:
    """The check of an export that ingest refused (missing, malformed, wrong columns or types):
    no rule could run; ingest's lines say why, each naming the file and the cause."""
    return dg.AssetCheckResult(
        asset_key=export.table,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{export.file_name}: not ingested, so no rule could be checked",
        metadata={"failure": dg.MetadataValue.text(str(error)), "rows": dg.MetadataValue.int(0)},
    )


# ---------------------------------------------------------------------------------------------
# The CSV exports: Great Expectations (pipelines/accepting/gx_suites.py)


def csv_contract(
    con: duckdb.DuckDBPyConnection, export: RawExport, year: int, folders: ProjectFolders, warehouse: Warehouse
) -> dg.AssetCheckResult:
    rows = ingested_rows(con, export)
    validation = validate_csv_export(export, year, rows, docs_dir=data_docs_dir(str(warehouse.root()), year, export))
    metadata: dict[str, Any] = {
        "file": dg.MetadataValue.path(str(folders.raw_year_dir(year) / export.file_name)),
        "engine": "great_expectations (pandas)",
    }
    if validation.data_docs is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(validation.data_docs))
    return check_result(export, validation.outcomes, len(rows), metadata)


# ---------------------------------------------------------------------------------------------
# The CyberTipline Parquet export: one SQL audit per rule (pipelines/accepting/audits.py)


def cybertipline_reports_contract(
    con: duckdb.DuckDBPyConnection, year: int, folders: ProjectFolders
) -> dg.AssetCheckResult:
    con.sql("SET enable_progress_bar = false")  # a run log, not a terminal
    outcomes = run_audits(con, CYBERTIPLINE_REPORTS, year)
    rows = con.sql(f"SELECT count(*) FROM {CYBERTIPLINE_REPORTS.table}").fetchall()[0][0]
    return check_result(
        CYBERTIPLINE_REPORTS,
        outcomes,
        rows,
        {
            "file": dg.MetadataValue.path(str(folders.raw_year_dir(year) / CYBERTIPLINE_REPORTS.file_name)),
            "engine": "duckdb (sql/audits/cybertipline_reports_RULE.sql)",
        },
    )


# ---------------------------------------------------------------------------------------------
# The check as the raw asset declares and evaluates it (pipelines/defs/accepting/assets.py)


def export_contract_spec(export: RawExport, partitions: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    return check_spec(CHECK_NAME, export.table, partitions)


def export_contract(
    con: duckdb.DuckDBPyConnection, export: RawExport, year: int, folders: ProjectFolders, warehouse: Warehouse
) -> dg.AssetCheckResult:
    """The ``export_contract`` check of one export, on the rows the step just ingested."""
    if export is CYBERTIPLINE_REPORTS:
        return cybertipline_reports_contract(con, year, folders)
    return csv_contract(con, export, year, folders, warehouse)
