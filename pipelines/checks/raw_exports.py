"""Blocking asset checks of the raw exports: every rule of raw/README.md, on every row (docs/published-tables.md).

One check per raw asset, named ``export_contract``, run per yearly partition right after the
asset is ingested. It is blocking: when a rule is broken, nothing downstream of the export is
built, so nothing wrong is published.

* The four CSV exports (tens of thousands of rows at most) are validated with Great Expectations 1.x: an
  expectation suite per export, built in code below, run on the all-text table of the warehouse
  loaded into pandas. ``unexpected_index_column_names=["source_row"]`` makes GX return the row
  numbers of the bad rows. Data Docs are rebuilt on each run under
  ``<warehouse_dir>/data_docs/<year>/<export>/index.html``; they show unexpected *values*, so
  they stay in the internal warehouse folder and never go to the published one. One GX context
  serves every check of a process, in a worker process started with the run (``GxSession``).
* The CyberTipline Parquet export (21.75M rows) is validated without pandas: its column types
  from the Parquet schema, then every row rule as SQL in DuckDB on the ingest's one scan of the
  export (``sql/audits/cybertipline_reports_scan.sql`` -> ``cybertipline_reports_rules.sql``),
  row by row only to count and name the bad rows of a broken rule, and report_id uniqueness with
  a bitmap over that one column. GX 1.24's SQL datasource cannot run on DuckDB
  here: duckdb-engine returns no rows once GX has closed the connection it queried through
  (GX fetches after closing it), so every expectation errors with "list index out of range".

Errors name the file, the column, the rule, the number of bad rows and up to five example rows
(``source_row``: 1-based data rows, the header not counted) or report_ids. They never show a cell
value: the exports are confidential records about children.
"""

# No ``from __future__ import annotations`` here: Dagster reads the type of a check's ``context``
# parameter at definition time and rejects a string annotation.
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.checks.gx_validation import (
    MAX_EXAMPLES,
    RuleOutcome,
    data_docs_dir,
    ingested_rows,
    validate_csv_export,
)
from pipelines.config import SQL_DIR
from pipelines.contract import CYBERTIPLINE_REPORTS, RAW_EXPORTS, RawExport
from pipelines.ingest import summary_table
from pipelines.partitions import yearly_partitions
from pipelines.resources import ProjectFolders, Warehouse
from pipelines.seeds import countries

CHECK_NAME = "export_contract"
AUDITS_DIR = SQL_DIR / "audits"


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
            f"{export.file_name}: {len(broken)} of {len(outcomes)} rules broken "
            f"(checked on all {rows:,} rows)"
        )
    else:
        description = f"{export.file_name}: all {len(outcomes)} rules hold on {rows:,} rows"
    return dg.AssetCheckResult(
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


# ---------------------------------------------------------------------------------------------
# The CSV exports: Great Expectations (pipelines/checks/gx_validation.py)

CSV_CHECK_PRIORITY = "-1"
"""``dagster/priority`` of the CSV checks. Among the steps ready to run, the in-process executor
runs those of higher priority first: the CyberTipline check, tables and their checks run before
the CSV checks, while the GX worker process starts and validates the CSV tables sent to it at
ingest."""


def _csv_check(export: RawExport) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=export.table,
        name=CHECK_NAME,
        blocking=True,
        partitions_def=yearly_partitions,
        description=(
            f"Every row of {export.file_name} against every rule of the raw export contract "
            "(raw/README.md), with Great Expectations (in a worker process, one GX context for every "
            "check). Blocking: nothing downstream is built when a rule is broken."
        ),
        op_tags={"dagster/priority": CSV_CHECK_PRIORITY},
    )
    def export_contract(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, folders: ProjectFolders
    ) -> dg.AssetCheckResult:
        year = int(context.partition_key)
        with warehouse.connect(year) as con:
            rows = ingested_rows(con, export)
        validation = validate_csv_export(
            export, year, rows, docs_dir=data_docs_dir(warehouse.directory, year, export)
        )
        metadata: dict[str, Any] = {
            "file": dg.MetadataValue.path(str(folders.raw_year_dir(year) / export.file_name)),
            "engine": "great_expectations (pandas)",
        }
        if validation.data_docs is not None:
            metadata["data_docs"] = dg.MetadataValue.path(str(validation.data_docs))
        result = check_result(export, validation.outcomes, rows.num_rows, metadata)
        context.log.info(result.description)
        return result

    return export_contract


# ---------------------------------------------------------------------------------------------
# The CyberTipline Parquet export: column types from the schema, row rules as SQL in DuckDB

UTC_NAMES = {"UTC", "Etc/UTC", "+00:00", "Z", "utc"}


def _is_utc_timestamp(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) and t.tz in UTC_NAMES


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


PARQUET_TYPES: dict[str, tuple[str, Any]] = {
    "report_id": ("int64", lambda t: t == pa.int64()),
    "received_at": ("timestamp (UTC)", _is_utc_timestamp),
    "reporter_type": ("string", _is_string),
    "esp_name": ("string", _is_string),
    "incident_type": ("string", _is_string),
    "incident_country": ("string", _is_string),
    "image_count": ("int32", lambda t: t == pa.int32()),
    "video_count": ("int32", lambda t: t == pa.int32()),
    "other_file_count": ("int32", lambda t: t == pa.int32()),
}


def parquet_type_outcomes(path: Path, export: RawExport = CYBERTIPLINE_REPORTS) -> list[RuleOutcome]:
    schema = pq.read_schema(path)
    outcomes = []
    for column, (type_name, accepts) in PARQUET_TYPES.items():
        found = schema.field(column).type if column in schema.names else None
        finding = None
        if found is None:
            finding = "the column is missing"
        elif not accepts(found):
            finding = f"the file has type {found}"
        outcomes.append(
            RuleOutcome(file=export.file_name, column=column, rule=f"type {type_name}", finding=finding)
        )
    return outcomes


def _audit_sql(name: str) -> str:
    return (AUDITS_DIR / name).read_text(encoding="utf-8")


MAX_BITMAP_IDS = 1 << 27
"""Largest report_id range checked for uniqueness with a bitmap (16 MiB per thread)."""


SUMMARY_TABLE = summary_table(CYBERTIPLINE_REPORTS)
"""The ingest's one scan of the export (sql/audits/cybertipline_reports_scan.sql)."""


def _summary_is_current(con: duckdb.DuckDBPyConnection, path: Path | None) -> bool:
    """Whether the ingest's summary exists and describes the file as it is now (the file has
    not been replaced or modified since it was ingested)."""
    if path is None:
        return False
    found = con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
        params=[SUMMARY_TABLE],
    ).fetchall()[0][0]
    if not found:
        return False
    logged = con.sql(
        "SELECT bytes, mtime_ns FROM ingest_log WHERE file_name = ?", params=[path.name]
    ).fetchall()
    if not logged or not path.is_file():
        return False
    stat = path.stat()
    return (stat.st_size, stat.st_mtime_ns) == tuple(logged[0])


def parquet_row_outcomes(
    con: duckdb.DuckDBPyConnection, export: RawExport = CYBERTIPLINE_REPORTS, path: Path | None = None
) -> tuple[list[RuleOutcome], int]:
    """Every row rule, decided from the ingest's summary of the export
    (sql/audits/cybertipline_reports_rules.sql); when a rule is broken, or the summary is
    missing or older than the file, the row-by-row audit counts and names the bad rows
    (sql/audits/cybertipline_reports_rules_by_row.sql). Then the uniqueness of report_id."""
    con.sql(
        "CREATE OR REPLACE TEMP TABLE audit_country_codes AS SELECT unnest($codes::VARCHAR[]) AS code",
        params={"codes": countries()["code"].to_list()},
    )
    con.sql(
        "CREATE OR REPLACE TEMP VIEW audit_cybertipline_rules AS\n"
        + _audit_sql("cybertipline_reports_rule_list.sql").strip().rstrip(";")
    )
    rows = None
    if _summary_is_current(con, path):
        verdicts = con.sql(_audit_sql("cybertipline_reports_rules.sql")).fetchall()
        if not any(broken for _, _, broken, *_ in verdicts):
            rows = [(column, rule, 0, [], *facts) for column, rule, _, *facts in verdicts]
    if rows is None:
        rows = con.sql(_audit_sql("cybertipline_reports_rules_by_row.sql")).fetchall()
    outcomes = [
        RuleOutcome(
            file=export.file_name,
            column=column,
            rule=rule,
            bad_rows=int(bad_rows),
            examples=tuple(int(e) for e in examples[:MAX_EXAMPLES]),
            example_label="report_id",
        )
        for column, rule, bad_rows, examples, *_ in rows
    ]
    _, _, _, _, row_count, ids, id_min, id_max = rows[0]
    outcomes.insert(1, _unique_report_ids(con, export, ids, id_min, id_max))
    return outcomes, int(row_count)


def _unique_report_ids(
    con: duckdb.DuckDBPyConnection, export: RawExport, ids: int, id_min: int | None, id_max: int | None
) -> RuleOutcome:
    bad_rows, examples = 0, []
    if ids > 1:
        dense = id_max - id_min < MAX_BITMAP_IDS
        surplus = (
            con.sql(
                _audit_sql("cybertipline_reports_unique_ids.sql"),
                params={"id_min": id_min, "id_max": id_max},
            ).fetchall()[0][0]
            if dense
            else None
        )
        if surplus is None or surplus > 0:
            # Name the ids that repeat and count every row that carries one.
            bad_rows, examples = con.sql(_audit_sql("cybertipline_reports_duplicate_ids.sql")).fetchall()[0]
    return RuleOutcome(
        file=export.file_name,
        column="report_id",
        rule="unique",
        bad_rows=int(bad_rows),
        examples=tuple(int(e) for e in examples[:MAX_EXAMPLES]),
        example_label="report_id",
    )


def validate_parquet_export(
    con: duckdb.DuckDBPyConnection, path: Path, export: RawExport = CYBERTIPLINE_REPORTS
) -> tuple[list[RuleOutcome], int]:
    outcomes = parquet_type_outcomes(path, export)
    try:
        row_outcomes, rows = parquet_row_outcomes(con, export, path)
    except duckdb.Error as error:
        # The message may quote a value, so only its kind is reported.
        cause = type(error).__name__
        if any(not o.passed for o in outcomes):
            cause += ", most likely because of the column types above"
        outcomes.append(
            RuleOutcome(
                file=export.file_name,
                column="(all columns)",
                rule="row rules of raw/README.md (sql/audits/cybertipline_reports_rules_by_row.sql)",
                error=cause,
            )
        )
        return outcomes, 0
    return outcomes + row_outcomes, rows


@dg.asset_check(
    asset=CYBERTIPLINE_REPORTS.table,
    name=CHECK_NAME,
    blocking=True,
    partitions_def=yearly_partitions,
    description=(
        f"Every row of {CYBERTIPLINE_REPORTS.file_name} against every rule of the raw export "
        "contract (raw/README.md): column types from the Parquet schema; row rules as SQL on the ingest's "
        "one scan of the export (sql/audits/cybertipline_reports_rules.sql), and row by row to "
        "count and name the bad rows when one is broken; report_id uniqueness with a bitmap. "
        "Blocking."
    ),
)
def cybertipline_reports_contract(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, folders: ProjectFolders
) -> dg.AssetCheckResult:
    year = int(context.partition_key)
    path = folders.raw_year_dir(year) / CYBERTIPLINE_REPORTS.file_name
    with warehouse.connect(year) as con:
        con.sql("SET enable_progress_bar = false")  # a run log, not a terminal
        outcomes, rows = validate_parquet_export(con, path)
    result = check_result(
        CYBERTIPLINE_REPORTS,
        outcomes,
        rows,
        {
            "file": dg.MetadataValue.path(str(path)),
            "engine": "duckdb (sql/audits/cybertipline_reports_rules.sql on the ingest's one scan)",
        },
    )
    context.log.info(result.description)
    return result


raw_export_checks: list[dg.AssetChecksDefinition] = [
    cybertipline_reports_contract if export is CYBERTIPLINE_REPORTS else _csv_check(export)
    for export in RAW_EXPORTS
]
