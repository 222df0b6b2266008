"""Blocking asset checks of the raw exports: every rule of SPEC §2, on every row (SPEC §4).

One check per raw asset, named ``export_contract``, run per yearly partition right after the
asset is ingested. It is blocking: when a rule is broken, nothing downstream of the export is
built, so nothing wrong is published.

* The four CSV exports (tens of thousands of rows at most) are validated with Great Expectations 1.x: an
  expectation suite per export, built in code below, run on the all-text table of the warehouse
  loaded into pandas. ``unexpected_index_column_names=["source_row"]`` makes GX return the row
  numbers of the bad rows. Data Docs are rebuilt on each run under
  ``<warehouse_dir>/data_docs/<year>/<export>/index.html``; they show unexpected *values*, so
  they stay in the internal warehouse folder and never go to the published one.
* The CyberTipline Parquet export (21.75M rows) is validated without pandas: its column types
  from the Parquet schema, then every row rule as SQL in DuckDB, in one scan of the view
  (``sql/audits/cybertipline_reports_rules.sql``). GX 1.24's SQL datasource cannot run on DuckDB
  here: duckdb-engine returns no rows once GX has closed the connection it queried through
  (GX fetches after closing it), so every expectation errors with "list index out of range".

Errors name the file, the column, the rule, the number of bad rows and up to five example rows
(``source_row``: 1-based data rows, the header not counted) or report_ids. They never show a cell
value: the exports are confidential records about children.
"""

# No ``from __future__ import annotations`` here: Dagster reads the type of a check's ``context``
# parameter at definition time and rejects a string annotation.
import csv
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.config import SEEDS_DIR, SQL_DIR
from pipelines.contract import (
    CASES,
    CVIP_OFFENDER_RELATIONSHIPS,
    CVIP_REQUESTS,
    CYBERTIPLINE_REPORTS,
    PROGRAM_METRICS,
    RAW_EXPORTS,
    RawExport,
)
from pipelines.resources import ProjectFolders, Warehouse
from pipelines.seeds import countries, us_states

CHECK_NAME = "export_contract"
MAX_EXAMPLES = 5
AUDITS_DIR = SQL_DIR / "audits"
ROW_COLUMN = "source_row"
"""The 1-based data-row number that ingest adds to every CSV table (pipelines/ingest.py)."""

# Codes of SPEC §2 (the seeds in sql/seeds/ hold the same codes with their labels).
CASE_TYPES = ("ERU", "FA", "LIOM", "MYA", "NFA")
RACES = ("AI", "AS", "MR", "BL", "HI", "PI", "WH", "U")
AGENCY_TYPES = ("FEDERAL", "STATE_LOCAL_ICAC", "MILITARY", "INTERNATIONAL")
RELATIONSHIPS = (
    "PARENT_GUARDIAN",
    "OTHER_RELATIVE",
    "NEIGHBOR_FAMILY_FRIEND",
    "BABYSITTER_MENTOR_COACH",
    "GUARDIANS_PARTNER",
    "ONLINE_ENTICEMENT",
    "SELF_PRODUCTION",
    "CHILD_SEX_TRAFFICKER",
    "UNKNOWN_TO_CHILD",
)
PERIODS = ("year", "cumulative", "current", "prior_year")

ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NON_NEGATIVE_INTEGER = r"^[0-9]{1,18}$"  # 18 digits always fit the BIGINT staging casts to
AGE_0_TO_20 = r"^0*(?:1?[0-9]|20)$"


# ---------------------------------------------------------------------------------------------
# Outcome of one rule, and how it is reported


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found in one export. Holds counts and row numbers/ids, never cell values."""

    file: str
    column: str
    rule: str
    bad_rows: int = 0
    examples: tuple[int, ...] = ()
    example_label: str = "row"  # "row" (source_row of a CSV) or "report_id"
    finding: str | None = None  # a broken rule that is not about rows (e.g. a column type)
    error: str | None = None  # the rule could not be evaluated

    @property
    def passed(self) -> bool:
        return self.error is None and self.finding is None and self.bad_rows == 0

    def failure_line(self) -> str:
        head = f'{self.file}: column {self.column}: rule "{self.rule}": '
        if self.error is not None:
            return head + f"could not be evaluated ({self.error})"
        if self.finding is not None:
            return head + self.finding
        text = f"{self.bad_rows:,} bad row{'' if self.bad_rows == 1 else 's'}"
        if self.examples:
            label = self.example_label + ("" if len(self.examples) == 1 else "s")
            text += f", e.g. {label} {', '.join(str(e) for e in self.examples)}"
        return head + text

    def status(self) -> str:
        if self.error is not None:
            return "not evaluated"
        if self.finding is not None:
            return "broken"
        return f"{self.bad_rows:,}"


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
# The CSV exports: Great Expectations suites built in code


@dataclass(frozen=True)
class CsvRule:
    """One contract rule of a CSV export and the GX expectation(s) that check it.

    A rule needs several expectations when GX has no single one for it (e.g. one per period);
    their bad rows are merged.
    """

    column: str
    rule: str
    expectations: tuple[Any, ...] = ()


def metric_catalog() -> list[dict[str, str]]:
    with (SEEDS_DIR / "metric_catalog.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def years_up_to_regex(year: int) -> str:
    """A regex for the 4-digit years 0000..``year``: digit by digit below the year, or the year."""
    digits = f"{year:04d}"
    alternatives = [digits]
    for i, digit in enumerate(digits):
        if digit != "0":
            alternatives.append(digits[:i] + f"[0-{int(digit) - 1}]" + "[0-9]" * (3 - i))
    return f"^(?:{'|'.join(alternatives)})$"


def csv_rules(export: RawExport, year: int) -> list[CsvRule]:
    """Every rule of SPEC §2 for one CSV export, as GX expectations."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    def required(column: str) -> CsvRule:
        return CsvRule(column, "required (non-empty)", (gxe.ExpectColumnValuesToNotBeNull(column=column),))

    def one_of(column: str, values: Iterable[str], text: str | None = None) -> CsvRule:
        values = list(values)
        return CsvRule(
            column,
            text or f"one of {', '.join(values)}",
            (gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values),),
        )

    def matches(column: str, regex: str, text: str) -> CsvRule:
        return CsvRule(column, text, (gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex),))

    def iso_date(column: str, when: str = "") -> list[CsvRule]:
        return [
            matches(column, ISO_DATE, f"ISO date YYYY-MM-DD{when}"),
            CsvRule(
                column,
                f"a real calendar date{when}",
                (gxe.ExpectColumnValuesToMatchStrftimeFormat(column=column, strftime_format="%Y-%m-%d"),),
            ),
        ]

    def unique(columns: Sequence[str]) -> CsvRule:
        if len(columns) == 1:
            expectation = gxe.ExpectColumnValuesToBeUnique(column=columns[0])
        else:
            expectation = gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))
        return CsvRule(", ".join(columns), "unique" if len(columns) == 1 else "unique together", (expectation,))

    def count(column: str) -> list[CsvRule]:
        return [required(column), matches(column, NON_NEGATIVE_INTEGER, "an integer >= 0")]

    table = CsvRule(
        "(all columns)",
        f"exactly the columns {', '.join(export.columns)}",
        (gxe.ExpectTableColumnsToMatchSet(column_set=[ROW_COLUMN, *export.columns], exact_match=True),),
    )

    if export is CASES:
        states = us_states()["code"].to_list()  # 50 states, DC, PR and INTL
        return [
            table,
            required("case_number"),
            unique(["case_number"]),
            required("intake_date"),
            *iso_date("intake_date"),
            *iso_date("resolved_date", " when present"),
            CsvRule(
                "resolved_date",
                "resolved_date >= intake_date when present",
                (
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="resolved_date",
                        column_B="intake_date",
                        or_equal=True,
                        ignore_row_if="either_value_is_missing",
                    ),
                ),
            ),
            required("case_type"),
            one_of("case_type", CASE_TYPES),
            matches("age_at_missing", AGE_0_TO_20, "an integer 0..20 when present"),
            one_of("race", RACES, f"one of {', '.join(RACES)}, or empty"),
            required("missing_state"),
            one_of("missing_state", states, "USPS code of the 50 states, DC or PR, or INTL"),
        ]
    if export is CVIP_REQUESTS:
        return [
            table,
            required("request_id"),
            unique(["request_id"]),
            required("received_date"),
            *iso_date("received_date"),
            matches("received_date", f"^{year:04d}-", f"within {year}"),
            required("agency_type"),
            one_of("agency_type", AGENCY_TYPES),
            *count("image_count"),
            *count("video_count"),
        ]
    if export is CVIP_OFFENDER_RELATIONSHIPS:
        return [
            table,
            required("victim_id"),
            required("relationship"),
            one_of("relationship", RELATIONSHIPS),
            unique(["victim_id", "relationship"]),
        ]
    if export is PROGRAM_METRICS:
        catalog = metric_catalog()
        metric_ids = sorted({m["metric_id"] for m in catalog})
        pairs = sorted({(m["metric_id"], m["period"]) for m in catalog})
        computed: dict[str, list[str]] = {}
        for m in catalog:
            if m["computed_from"]:
                computed.setdefault(m["period"], []).append(m["metric_id"])
        return [
            table,
            required("metric_id"),
            one_of("metric_id", metric_ids, "in the metric catalog (sql/seeds/metric_catalog.csv)"),
            required("period"),
            one_of("period", PERIODS),
            CsvRule(
                "metric_id, period",
                "(metric_id, period) in the metric catalog",
                (
                    gxe.ExpectColumnPairValuesToBeInSet(
                        column_A="metric_id",
                        column_B="period",
                        value_pairs_set=pairs,
                        ignore_row_if="either_value_is_missing",
                    ),
                ),
            ),
            CsvRule(
                "metric_id, period",
                "not a metric computed by the pipeline from the record-level exports",
                tuple(
                    gxe.ExpectColumnValuesToNotBeInSet(
                        column="metric_id",
                        value_set=sorted(ids),
                        row_condition=Column("period") == period,
                    )
                    for period, ids in sorted(computed.items())
                ),
            ),
            unique(["metric_id", "period"]),
            *count("value"),
            matches("since", years_up_to_regex(year), f"a 4-digit year not after {year}, when present"),
            CsvRule(
                "since",
                "empty unless period is cumulative",
                (
                    gxe.ExpectColumnValuesToBeNull(
                        column="since", row_condition=Column("period") != "cumulative"
                    ),
                ),
            ),
        ]
    raise ValueError(f"{export.file_name} is not a CSV export")


SITE_NAME = "raw_exports"


def _gx_context(root: Path, docs_dir: Path):
    """A fresh file-mode GX context whose one Data Docs site is ``docs_dir``."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(docs_dir, ignore_errors=True)
    root.mkdir(parents=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    for site in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(site)
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.variables.save()
    return context


def _raised(exception_info: Any) -> str | None:
    """The type of the exception GX caught while evaluating an expectation, if any. Not its
    message, which may quote a value; the Data Docs (internal) show it."""
    if not exception_info:
        return None
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            lines = str(info.get("exception_traceback") or "").strip().splitlines()
            kind = lines[-1].split(":", 1)[0].strip() if lines else ""
            return f"Great Expectations raised {kind or 'an exception'}; see the Data Docs"
    return None


@dataclass
class CsvValidation:
    outcomes: list[RuleOutcome]
    data_docs: Path | None


def validate_csv_export(
    export: RawExport, year: int, frame: pd.DataFrame, gx_root: Path, docs_dir: Path
) -> CsvValidation:
    """Run the export's suite on ``frame`` (the text table with ``source_row``)."""
    import great_expectations as gx

    rules = csv_rules(export, year)
    context = _gx_context(gx_root, docs_dir)
    expectations = []
    for index, rule in enumerate(rules):
        for expectation in rule.expectations:
            expectation.meta = {"rule_index": index, "column": rule.column, "rule": rule.rule}
            expectation.description = f"{export.file_name}: column {rule.column}: rule \"{rule.rule}\""
            expectations.append(expectation)
    suite = context.suites.add(gx.ExpectationSuite(name=f"{export.name}_contract", expectations=expectations))
    batch = (
        context.data_sources.add_pandas(name="raw_exports")
        .add_dataframe_asset(name=export.name)
        .add_batch_definition_whole_dataframe(name=f"{export.name}_{year}")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{export.name}_{year}", data=batch, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]},
    )

    bad_rows: dict[int, set[int]] = {i: set() for i in range(len(rules))}
    counts: dict[int, int] = {i: 0 for i in range(len(rules))}
    findings: dict[int, str] = {}
    errors: dict[int, str] = {}
    for expectation_result in result.results:
        index = int(expectation_result.expectation_config.meta["rule_index"])
        error = _raised(expectation_result.exception_info)
        if error is not None:
            errors[index] = error
            continue
        if expectation_result.success:
            continue
        details = expectation_result.result or {}
        rows = {int(item[ROW_COLUMN]) for item in details.get("unexpected_index_list") or []}
        if details.get("unexpected_count") is None and not rows:
            findings[index] = "the table breaks it"
            continue
        bad_rows[index] |= rows
        counts[index] += int(details.get("unexpected_count") or len(rows))

    outcomes = []
    for index, rule in enumerate(rules):
        rows = bad_rows[index]
        outcomes.append(
            RuleOutcome(
                file=export.file_name,
                column=rule.column,
                rule=rule.rule,
                # Several expectations of one rule never flag one row twice (disjoint row
                # conditions), so their counts add up; the set is exact when GX lists every row.
                bad_rows=max(counts[index], len(rows)),
                examples=tuple(sorted(rows)[:MAX_EXAMPLES]),
                finding=findings.get(index),
                error=errors.get(index),
            )
        )

    docs: Path | None = None
    try:
        context.build_data_docs(site_names=[SITE_NAME])
        index_html = docs_dir / "index.html"
        docs = index_html if index_html.is_file() else None
    except Exception:  # Data Docs are a convenience: their failure must not hide the findings
        docs = None
    return CsvValidation(outcomes=outcomes, data_docs=docs)


def _csv_check(export: RawExport) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=export.table,
        name=CHECK_NAME,
        blocking=True,
            description=(
            f"Every row of {export.file_name} against every rule of the raw export contract "
            "(SPEC §2), with Great Expectations. Blocking: nothing downstream is built when a "
            "rule is broken."
        ),
    )
    def export_contract(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, folders: ProjectFolders
    ) -> dg.AssetCheckResult:
        year = int(context.partition_key)
        with warehouse.connect(year) as con:
            frame = con.sql(f"SELECT * FROM {export.table} ORDER BY {ROW_COLUMN}").df()
        internal = Path(warehouse.directory).resolve()
        validation = validate_csv_export(
            export,
            year,
            frame,
            gx_root=internal / "gx" / str(year) / export.name,
            docs_dir=internal / "data_docs" / str(year) / export.name,
        )
        metadata: dict[str, Any] = {
            "file": dg.MetadataValue.path(str(folders.raw_year_dir(year) / export.file_name)),
            "engine": "great_expectations (pandas)",
        }
        if validation.data_docs is not None:
            metadata["data_docs"] = dg.MetadataValue.path(str(validation.data_docs))
        result = check_result(export, validation.outcomes, len(frame), metadata)
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


def parquet_row_outcomes(
    con: duckdb.DuckDBPyConnection, export: RawExport = CYBERTIPLINE_REPORTS
) -> tuple[list[RuleOutcome], int]:
    """Every row rule in one scan of the view (sql/audits/cybertipline_reports_rules.sql), then
    the uniqueness of report_id."""
    codes = pd.DataFrame({"code": countries()["code"].to_list()})
    con.register("audit_country_codes", codes)
    try:
        rows = con.sql(_audit_sql("cybertipline_reports_rules.sql")).fetchall()
    finally:
        con.unregister("audit_country_codes")
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
        row_outcomes, rows = parquet_row_outcomes(con, export)
    except duckdb.Error as error:
        # The message may quote a value, so only its kind is reported.
        cause = type(error).__name__
        if any(not o.passed for o in outcomes):
            cause += ", most likely because of the column types above"
        outcomes.append(
            RuleOutcome(
                file=export.file_name,
                column="(all columns)",
                rule="row rules of SPEC §2 (sql/audits/cybertipline_reports_rules.sql)",
                error=cause,
            )
        )
        return outcomes, 0
    return outcomes + row_outcomes, rows


@dg.asset_check(
    asset=CYBERTIPLINE_REPORTS.table,
    name=CHECK_NAME,
    blocking=True,
    description=(
        f"Every row of {CYBERTIPLINE_REPORTS.file_name} against every rule of the raw export "
        "contract (SPEC §2): column types from the Parquet schema, row rules as SQL in one DuckDB "
        "scan (sql/audits/cybertipline_reports_rules.sql). Blocking."
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
            "engine": "duckdb (sql/audits/cybertipline_reports_rules.sql)",
        },
    )
    context.log.info(result.description)
    return result


raw_export_checks: list[dg.AssetChecksDefinition] = [
    cybertipline_reports_contract if export is CYBERTIPLINE_REPORTS else _csv_check(export)
    for export in RAW_EXPORTS
]
