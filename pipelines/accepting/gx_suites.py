"""Great Expectations validation of the CSV exports: the suites and one GX context per process.

The ``export_contract`` checks of the four CSV exports (pipelines/defs/accepting/export_contract.py)
call :func:`validate_csv_export` in the run's own process, on the export's all-text warehouse
table (``source_row`` names the bad rows). Every rule is a standard GX expectation.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.core.contract import (
    CASES,
    CVIP_OFFENDER_RELATIONSHIPS,
    CVIP_REQUESTS,
    MAX_EXAMPLES,
    PROGRAM_METRICS,
    RawExport,
)
from pipelines.core.seeds import metric_catalog, read_seed, us_state_rows

ROW_COLUMN = "source_row"
"""The 1-based data-row number that ingest adds to every CSV table (pipelines/accepting/ingest.py)."""


def seed_codes(name: str) -> tuple[str, ...]:
    """The codes of a category seed (sql/seeds/<name>.csv): one list of codes for the SQL models
    and the expectations alike."""
    return tuple(row["code"] for row in read_seed(name))


# Codes of raw/README.md.
CASE_TYPES = seed_codes("case_types")
RACES = seed_codes("races")
AGENCY_TYPES = seed_codes("agency_types")
RELATIONSHIPS = seed_codes("relationships")
PERIODS = ("year", "cumulative", "current", "prior_year")

ISO_DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""YYYY-MM-DD with two-digit month and day: strptime alone also reads 2020-4-1."""
NON_NEGATIVE_INTEGER = r"^[0-9]{1,18}$"  # 18 digits always fit the BIGINT staging casts to
AGE_0_TO_20 = r"^0*(?:1?[0-9]|20)$"


# ---------------------------------------------------------------------------------------------
# Outcome of one rule (also used by the CyberTipline check)


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


def years_up_to_regex(year: int) -> str:
    """A regex for the 4-digit years 0000..``year``: digit by digit below the year, or the year."""
    digits = f"{year:04d}"
    alternatives = [digits]
    for i, digit in enumerate(digits):
        if digit != "0":
            alternatives.append(digits[:i] + f"[0-{int(digit) - 1}]" + "[0-9]" * (3 - i))
    return f"^(?:{'|'.join(alternatives)})$"


def _gx() -> Any:
    """Great Expectations' expectations, imported when a suite is first built: importing GX
    takes seconds, and a process that validates nothing (the UI, the CLI's other commands)
    should not pay for it."""
    import great_expectations.expectations as gxe

    return gxe


def _required(column: str) -> CsvRule:
    return CsvRule(column, "required (non-empty)", (_gx().ExpectColumnValuesToNotBeNull(column=column),))


def _one_of(column: str, values: Iterable[str], text: str | None = None) -> CsvRule:
    values = list(values)
    return CsvRule(
        column,
        text or f"one of {', '.join(values)}",
        (_gx().ExpectColumnValuesToBeInSet(column=column, value_set=values),),
    )


def _matches(column: str, regex: str, text: str) -> CsvRule:
    return CsvRule(column, text, (_gx().ExpectColumnValuesToMatchRegex(column=column, regex=regex),))


def _iso_date(column: str, when: str = "") -> CsvRule:
    gxe = _gx()
    return CsvRule(
        column,
        f"a real calendar date as YYYY-MM-DD{when}",
        (
            gxe.ExpectColumnValuesToMatchRegex(column=column, regex=ISO_DATE_SHAPE),
            gxe.ExpectColumnValuesToMatchStrftimeFormat(column=column, strftime_format="%Y-%m-%d"),
        ),
    )


def _unique(columns: Sequence[str]) -> CsvRule:
    if len(columns) == 1:
        expectation = _gx().ExpectColumnValuesToBeUnique(column=columns[0])
    else:
        expectation = _gx().ExpectCompoundColumnsToBeUnique(column_list=list(columns))
    return CsvRule(", ".join(columns), "unique" if len(columns) == 1 else "unique together", (expectation,))


def _count(column: str) -> list[CsvRule]:
    return [_required(column), _matches(column, NON_NEGATIVE_INTEGER, "an integer >= 0")]


def _cases_rules(year: int) -> list[CsvRule]:
    states = [code for code, _ in us_state_rows()]  # 50 states, DC, PR and INTL
    resolved_after_intake = _gx().ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="resolved_date", column_B="intake_date", or_equal=True, ignore_row_if="either_value_is_missing"
    )
    return [
        _required("case_number"),
        _unique(["case_number"]),
        _required("intake_date"),
        _iso_date("intake_date"),
        _iso_date("resolved_date", " when present"),
        CsvRule("resolved_date", "resolved_date >= intake_date when present", (resolved_after_intake,)),
        _required("case_type"),
        _one_of("case_type", CASE_TYPES),
        _matches("age_at_missing", AGE_0_TO_20, "an integer 0..20 when present"),
        _one_of("race", RACES, f"one of {', '.join(RACES)}, or empty"),
        _required("missing_state"),
        _one_of("missing_state", states, "USPS code of the 50 states, DC or PR, or INTL"),
    ]


def _cvip_requests_rules(year: int) -> list[CsvRule]:
    return [
        _required("request_id"),
        _unique(["request_id"]),
        _required("received_date"),
        _iso_date("received_date"),
        _matches("received_date", f"^{year:04d}-", f"within {year}"),
        _required("agency_type"),
        _one_of("agency_type", AGENCY_TYPES),
        *_count("image_count"),
        *_count("video_count"),
    ]


def _relationships_rules(year: int) -> list[CsvRule]:
    return [
        _required("victim_id"),
        _required("relationship"),
        _one_of("relationship", RELATIONSHIPS),
        _unique(["victim_id", "relationship"]),
    ]


def _program_metrics_rules(year: int) -> list[CsvRule]:
    from great_expectations.expectations.row_conditions import Column

    gxe = _gx()
    catalog = metric_catalog().values()
    computed: dict[str, list[str]] = {}
    for m in catalog:
        if m.computed_from:
            computed.setdefault(m.period, []).append(m.metric_id)
    in_catalog = gxe.ExpectColumnPairValuesToBeInSet(
        column_A="metric_id",
        column_B="period",
        value_pairs_set=sorted({m.key for m in catalog}),
        ignore_row_if="either_value_is_missing",
    )
    not_computed = tuple(
        gxe.ExpectColumnValuesToNotBeInSet(
            column="metric_id", value_set=sorted(ids), row_condition=Column("period") == period
        )
        for period, ids in sorted(computed.items())
    )
    since_cumulative = gxe.ExpectColumnValuesToBeNull(column="since", row_condition=Column("period") != "cumulative")
    return [
        _required("metric_id"),
        _one_of(
            "metric_id", sorted({m.metric_id for m in catalog}), "in the metric catalog (sql/seeds/metric_catalog.csv)"
        ),
        _required("period"),
        _one_of("period", PERIODS),
        CsvRule("metric_id, period", "(metric_id, period) in the metric catalog", (in_catalog,)),
        CsvRule(
            "metric_id, period", "not a metric computed by the pipeline from the record-level exports", not_computed
        ),
        _unique(["metric_id", "period"]),
        *_count("value"),
        _matches("since", years_up_to_regex(year), f"a 4-digit year not after {year}, when present"),
        CsvRule("since", "empty unless period is cumulative", (since_cumulative,)),
    ]


_RULES = {
    CASES.name: _cases_rules,
    CVIP_REQUESTS.name: _cvip_requests_rules,
    CVIP_OFFENDER_RELATIONSHIPS.name: _relationships_rules,
    PROGRAM_METRICS.name: _program_metrics_rules,
}
"""The rules of each CSV export after its columns, by export."""


def csv_rules(export: RawExport, year: int) -> list[CsvRule]:
    """Every rule of raw/README.md for one CSV export, as GX expectations: its columns first."""
    if export.name not in _RULES:
        raise ValueError(f"{export.file_name} is not a CSV export")
    columns = _gx().ExpectTableColumnsToMatchSet(column_set=[ROW_COLUMN, *export.columns], exact_match=True)
    table = CsvRule("(all columns)", f"exactly the columns {', '.join(export.columns)}", (columns,))
    return [table, *_RULES[export.name](year)]


SITE_NAME = "raw_exports"


def ingested_rows(con: Any, export: RawExport) -> Any:
    """The export's all-text warehouse table (``raw_<name>`` with ``source_row``) as a pandas
    frame in file order: what its suite validates."""
    return con.sql(f"SELECT * FROM {export.table} ORDER BY {ROW_COLUMN}").df()


def data_docs_dir(warehouse_dir: str | Path, year: int, export: RawExport) -> Path:
    """Where the Data Docs of an export's validation go: ``<warehouse_dir>/data_docs/<year>/<export>``
    (internal, never published: they may show raw values)."""
    return Path(warehouse_dir).resolve() / "data_docs" / str(year) / export.name


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


def outcomes_of(export: RawExport, rules: Sequence[CsvRule], result: Any) -> list[RuleOutcome]:
    """The outcome of every rule from a GX suite validation result."""
    bad_rows: dict[int, set[int]] = {i: set() for i in range(len(rules))}
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
        if not rows:
            findings[index] = "the table breaks it"
            continue
        bad_rows[index] |= rows

    outcomes = []
    for index, rule in enumerate(rules):
        rows = bad_rows[index]
        outcomes.append(
            RuleOutcome(
                file=export.file_name,
                column=rule.column,
                rule=rule.rule,
                # The COMPLETE result format lists every bad row: a rule of several
                # expectations counts each row once.
                bad_rows=len(rows),
                examples=tuple(sorted(rows)[:MAX_EXAMPLES]),
                finding=findings.get(index),
                error=errors.get(index),
            )
        )
    return outcomes


class GxSession:
    """One Great Expectations context per process, reused by every CSV check of every run.

    Building a file-mode context, its datasource and its Data Docs site for each export cost
    about 0.15 s each, and a new Data Docs site builder compiles GX's Jinja templates again
    (0.3 s per build). Here one ephemeral context holds one pandas datasource (a dataframe asset
    and batch definition per export, created once) and a site builder per year folder, whose
    compiled templates serve the four exports of the year. Each validation starts from an empty
    context (no suite, validation definition or result of an earlier export), so the Data Docs of
    an export show that export's suite and validation only, as a fresh context did, in
    ``<warehouse_dir>/data_docs/<year>/<export>/``.
    """

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._lock = threading.Lock()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self._datasource = self.context.data_sources.add_pandas(name="raw_exports")
        self._batches: dict[str, Any] = {}
        self._sites: dict[Path, Any] = {}

    def _batch_definition(self, export: RawExport) -> Any:
        if export.name not in self._batches:
            self._batches[export.name] = self._datasource.add_dataframe_asset(
                name=export.name
            ).add_batch_definition_whole_dataframe(name=export.name)
        return self._batches[export.name]

    def _clear(self) -> None:
        """Remove the suites, validation definitions and results of earlier validations."""
        context = self.context
        for definition in list(context.validation_definitions.all()):
            context.validation_definitions.delete(definition.name)
        for suite in list(context.suites.all()):
            context.suites.delete(suite.name)
        store = context.validation_results_store
        for key in list(store.list_keys()):
            store.remove_key(key)

    def validate(self, export: RawExport, year: int, frame: Any, docs_dir: Path) -> CsvValidation:
        """Run the export's suite on ``frame`` (the text table with ``source_row``) and build its
        Data Docs in ``docs_dir``."""
        gx = self._gx
        rules = csv_rules(export, year)
        expectations = []
        for index, rule in enumerate(rules):
            for expectation in rule.expectations:
                expectation.meta = {"rule_index": index, "column": rule.column, "rule": rule.rule}
                expectation.description = f'{export.file_name}: column {rule.column}: rule "{rule.rule}"'
                expectations.append(expectation)
        with self._lock:
            self._clear()
            suite = self.context.suites.add(
                gx.ExpectationSuite(name=f"{export.name}_contract", expectations=expectations)
            )
            definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{export.name}_{year}", data=self._batch_definition(export), suite=suite)
            )
            result = definition.run(
                batch_parameters={"dataframe": frame},
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]},
            )
            outcomes = outcomes_of(export, rules, result)
            docs = self._build_docs(docs_dir)
        return CsvValidation(outcomes=outcomes, data_docs=docs)

    def _site_builder(self, folder: Path) -> Any:
        """The Data Docs site builder writing to ``folder`` (one per year folder, kept: it holds
        the compiled templates)."""
        if folder not in self._sites:
            from great_expectations.render.renderer.site_builder import SiteBuilder

            self._sites.clear()  # one year at a time is the common case; do not hoard builders
            self._sites[folder] = SiteBuilder(
                data_context=self.context,
                site_name=SITE_NAME,
                show_how_to_buttons=False,
                store_backend={
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(folder),
                },
                site_index_builder={"class_name": "DefaultSiteIndexBuilder"},
            )
        return self._sites[folder]

    def _build_docs(self, docs_dir: Path) -> Path | None:
        """Build the Data Docs of the current validation in ``docs_dir``: in a folder beside it,
        then renamed, so ``docs_dir`` holds this validation's pages only."""
        building = docs_dir.parent / ".building"
        shutil.rmtree(docs_dir, ignore_errors=True)
        shutil.rmtree(building, ignore_errors=True)
        try:
            building.mkdir(parents=True)
            self._site_builder(building).build()
            building.rename(docs_dir)
        except Exception:  # Data Docs are a convenience: their failure must not hide the findings
            shutil.rmtree(building, ignore_errors=True)
            return None
        index_html = docs_dir / "index.html"
        return index_html if index_html.is_file() else None


_session: GxSession | None = None
_session_lock = threading.Lock()


def validate_csv_export(export: RawExport, year: int, frame: Any, docs_dir: Path) -> CsvValidation:
    """Validate one CSV export's table with GX, in this process (one GX context per process)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = GxSession()
    return _session.validate(export, year, frame, docs_dir)
