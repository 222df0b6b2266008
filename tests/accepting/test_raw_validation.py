"""The raw export checks (raw/README.md): a corpus of bad exports, one defect each.

Every export starts from ``YearExports.small()`` (valid) and gets one defect. Each test ingests
the file as the raw asset's step does (``pipelines.accepting.ingest.ingest``) and evaluates the
rules with the function its blocking ``export_contract`` check calls, without a Dagster run; it
asserts the exact error line that ``impact run`` prints (the check's metadata "failure", one line
per broken rule): the file, the column, the rule, the count of bad rows and the example rows
(``source_row``, 1-based data rows) or report_ids. A malformed file is refused by the ingest,
before any rule runs, with one line per problem. The defect values are distinctive strings that
must never appear in what a check records: the exports are confidential records about children.

Two tests run the raw assets through the real Dagster definitions in-process (the accepting
job): a valid export passes every check, and a broken rule's line and a malformed file's line
reach the run's failures.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipelines.accepting.ingest as ingest_module
from pipelines.accepting.gx_suites import years_up_to_regex
from pipelines.accepting.ingest import (
    ID_BITMAP_MAX_RANGE,
    ID_BLOCK_BITS,
    RawExportError,
    count_report_ids,
    id_block_bits,
    id_range,
    ingest,
    load_parquet,
)
from pipelines.core.config import SQL_DIR, Folders
from pipelines.core.contract import CYBERTIPLINE_REPORTS, RAW_EXPORTS, RawExport
from pipelines.defs.accepting.export_contract import export_contract
from pipelines.defs.alerts import failure_messages
from pipelines.defs.jobs import accepting_job
from pipelines.defs.resources import ProjectFolders, Warehouse
from pipelines.runner import job_for, run_config
from pipelines.tables import define_macros
from tests.exports import REPORT_SCHEMA, YearExports, case, report

YEAR = 2020
EXPORTS = {export.table: export for export in RAW_EXPORTS}
"""The raw exports by the name of their asset."""


def _without_root(text: str, *roots: Path) -> str:
    """``text`` with the run's folder paths taken out (a tmp path may contain any digits)."""
    for root in roots:
        for folder in (root.resolve(), root):
            text = text.replace(str(folder), "<run folder>")
    return text


# --------------------------------------------------------------------------------------------
# Evaluating the check as the raw asset's step does, without a run


@dataclass
class Checked:
    """The ``export_contract`` check of one export, as its asset's step evaluated it."""

    result: dg.AssetCheckResult
    roots: tuple[Path, ...]

    @property
    def failures(self) -> list[str]:
        """Its failure lines: what ``impact run`` prints for it (pipelines/defs/alerts.py)."""
        return self.result.metadata["failure"].value.splitlines()

    def everything_recorded(self) -> str:
        """The failures plus the description and every metadata value the check records."""
        parts = [*self.failures, self.result.description or ""]
        parts.extend(str(getattr(value, "value", value)) for value in self.result.metadata.values())
        return _without_root("\n".join(parts), *self.roots)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The warehouse folder of the module's checks, where their Data Docs go: one for all, so the
    GX session builds them with one site builder (pipelines/accepting/gx_suites.py)."""
    return Warehouse(directory=str(tmp_path_factory.mktemp("warehouse")))


def check(folders: Folders, asset: str, warehouse: Warehouse) -> Checked:
    """Ingest the year's export of ``asset`` into an in-memory database with the warehouse's macros
    and evaluate its ``export_contract`` check, as the raw asset's step does."""
    export = EXPORTS[asset]
    project = ProjectFolders(raw_dir=folders.raw_dir, published_dir=folders.published_dir)
    with duckdb.connect() as con:
        define_macros(con, YEAR)
        ingest(con, export, project.raw_year_dir(YEAR))
        result = export_contract(con, export, YEAR, project, warehouse)
    return Checked(result, (Path(folders.raw_dir).parent, Path(warehouse.directory)))


def ingested(folder: Path, export: RawExport) -> list[tuple]:
    """The rows the ingest loads from the export in ``folder``, in file order."""
    with duckdb.connect() as con:
        ingest(con, export, folder)
        return con.sql(f"SELECT * FROM {export.table} ORDER BY source_row").fetchall()


def refused(folder: Path, asset: str) -> RawExportError:
    """The ingest's refusal of the year's export of ``asset`` in ``folder``."""
    with pytest.raises(RawExportError) as error:
        ingest(duckdb.connect(), EXPORTS[asset], folder)
    return error.value


# --------------------------------------------------------------------------------------------
# Running the definitions


@dataclass
class Run:
    result: dg.ExecuteInProcessResult
    failures: list[str]
    root: Path

    @property
    def text(self) -> str:
        return "\n".join(self.failures)

    def everything_recorded(self) -> str:
        """The failures plus every description and metadata value the checks recorded, with the
        run's folder paths taken out."""
        parts = [self.text]
        for evaluation in self.result.get_asset_check_evaluations():
            parts.append(evaluation.description or "")
            parts.extend(str(v.value) for v in evaluation.metadata.values())
        return _without_root("\n".join(parts), self.root)

    def evaluations(self) -> dict[str, dg.AssetCheckEvaluation]:
        return {e.asset_key.to_user_string(): e for e in self.result.get_asset_check_evaluations()}


def run(folders: Folders, assets: list[str] | None = None) -> Run:
    """Accept year 2020's exports as `impact run` does (its accepting job and console logger): the
    given raw assets with their checks, or all five."""
    result = job_for(folders, accepting_job.name).execute_in_process(
        run_config=run_config(),
        partition_key=str(YEAR),
        asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
        raise_on_error=False,
    )
    return Run(result, failure_messages(result.all_events), Path(folders.raw_dir).parent)


@pytest.fixture(autouse=True)
def no_stack_trace(capfd: pytest.CaptureFixture):
    """No test of this module prints a stack trace: every problem here is a data problem."""
    yield
    printed = capfd.readouterr()
    for marker in ("Traceback", "Stack Trace"):
        assert marker not in printed.out + printed.err


# --------------------------------------------------------------------------------------------
# The corpus: one defect per rule


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass(frozen=True)
class Defect:
    id: str
    asset: str
    change: Callable[[YearExports], None]
    expected: str
    """The exact failure line."""
    secret: str | None = None
    """The defect value: must not appear anywhere in the output."""


def add_case(**kwargs) -> Callable[[YearExports], None]:
    def change(exports: YearExports) -> None:
        exports.cases.append(case(**{"number": "C3", "intake": f"{YEAR}-04-01", **kwargs}))

    return change


def add_request(**kwargs) -> Callable[[YearExports], None]:
    def change(exports: YearExports) -> None:
        row = {
            "request_id": "R2",
            "received_date": f"{YEAR}-05-01",
            "agency_type": "MILITARY",
            "image_count": "3",
            "video_count": "0",
        }
        exports.cvip_requests.append({**row, **kwargs})

    return change


def add_relationship(**kwargs) -> Callable[[YearExports], None]:
    def change(exports: YearExports) -> None:
        exports.relationships.append({"victim_id": "V2", "relationship": "OTHER_RELATIVE", **kwargs})

    return change


def add_metric(**kwargs) -> Callable[[YearExports], None]:
    def change(exports: YearExports) -> None:
        row = {
            "metric_id": "hotline_calls",
            "period": "cumulative",
            "value": "5000000",
            "since": "1984",
            "source": "Hotline",
        }
        exports.program_metrics.append({**row, **kwargs})

    return change


def add_report(**kwargs) -> Callable[[YearExports], None]:
    def change(exports: YearExports) -> None:
        row = report(3, year=YEAR)
        row.update(kwargs)
        exports.reports.append(row)

    return change


CASES = "cases.csv: column "
REQUESTS = "cvip_requests.csv: column "
RELATIONSHIPS = "cvip_offender_relationships.csv: column "
METRICS = "program_metrics.csv: column "
REPORTS = "cybertipline_reports.parquet: column "

DEFECTS = [
    # cases.csv (rows 1 and 2 are the valid defaults; the defect is row 3)
    Defect(
        "case_number-required",
        "raw_cases",
        add_case(number=""),
        CASES + 'case_number: rule "required (non-empty)": 1 bad row, e.g. row 3',
    ),
    Defect(
        "case_number-unique",
        "raw_cases",
        add_case(number="C1"),
        CASES + 'case_number: rule "unique": 2 bad rows, e.g. rows 1, 3',
    ),
    Defect(
        "intake_date-required",
        "raw_cases",
        add_case(intake=""),
        CASES + 'intake_date: rule "required (non-empty)": 1 bad row, e.g. row 3',
    ),
    Defect(
        "intake_date-format",
        "raw_cases",
        add_case(intake="2020-4-1"),
        CASES + 'intake_date: rule "a real calendar date as YYYY-MM-DD": 1 bad row, e.g. row 3',
        "2020-4-1",
    ),
    Defect(
        "intake_date-real-date",
        "raw_cases",
        add_case(intake="2020-02-30"),
        CASES + 'intake_date: rule "a real calendar date as YYYY-MM-DD": 1 bad row, e.g. row 3',
        "2020-02-30",
    ),
    Defect(
        "resolved_date-format",
        "raw_cases",
        add_case(resolved="2020-5-17"),
        CASES + 'resolved_date: rule "a real calendar date as YYYY-MM-DD when present": 1 bad row, e.g. row 3',
        "2020-5-17",
    ),
    Defect(
        "resolved_date-real-date",
        "raw_cases",
        add_case(resolved="2020-06-31"),
        CASES + 'resolved_date: rule "a real calendar date as YYYY-MM-DD when present": 1 bad row, e.g. row 3',
        "2020-06-31",
    ),
    Defect(
        "resolved_date-before-intake",
        "raw_cases",
        add_case(resolved="2020-03-29"),
        CASES + 'resolved_date: rule "resolved_date >= intake_date when present": 1 bad row, e.g. row 3',
        "2020-03-29",
    ),
    Defect(
        "case_type-required",
        "raw_cases",
        add_case(case_type=""),
        CASES + 'case_type: rule "required (non-empty)": 1 bad row, e.g. row 3',
    ),
    Defect(
        "case_type-code",
        "raw_cases",
        add_case(case_type="eru"),
        CASES + 'case_type: rule "one of ERU, FA, LIOM, MYA, NFA": 1 bad row, e.g. row 3',
        "eru",
    ),
    Defect(
        "age-range",
        "raw_cases",
        add_case(age="21"),
        CASES + 'age_at_missing: rule "an integer 0..20 when present": 1 bad row, e.g. row 3',
    ),
    Defect(
        "age-integer",
        "raw_cases",
        add_case(age="7.5"),
        CASES + 'age_at_missing: rule "an integer 0..20 when present": 1 bad row, e.g. row 3',
        "7.5",
    ),
    Defect(
        "race-code",
        "raw_cases",
        add_case(race="WHX"),
        CASES + 'race: rule "one of AI, AS, MR, BL, HI, PI, WH, U, or empty": 1 bad row, e.g. row 3',
        "WHX",
    ),
    Defect(
        "missing_state-required",
        "raw_cases",
        add_case(state=""),
        CASES + 'missing_state: rule "required (non-empty)": 1 bad row, e.g. row 3',
    ),
    Defect(
        "missing_state-code",
        "raw_cases",
        add_case(state="GU"),  # Guam: not published
        CASES + 'missing_state: rule "USPS code of the 50 states, DC or PR, or INTL": 1 bad row, e.g. row 3',
        "GU",
    ),
    # cvip_requests.csv (row 1 is the valid default)
    Defect(
        "request_id-required",
        "raw_cvip_requests",
        add_request(request_id=""),
        REQUESTS + 'request_id: rule "required (non-empty)": 1 bad row, e.g. row 2',
    ),
    Defect(
        "request_id-unique",
        "raw_cvip_requests",
        add_request(request_id="R1"),
        REQUESTS + 'request_id: rule "unique": 2 bad rows, e.g. rows 1, 2',
    ),
    Defect(
        "received_date-required",
        "raw_cvip_requests",
        add_request(received_date=""),
        REQUESTS + 'received_date: rule "required (non-empty)": 1 bad row, e.g. row 2',
    ),
    Defect(
        "received_date-format",
        "raw_cvip_requests",
        add_request(received_date="20200501"),
        REQUESTS + 'received_date: rule "a real calendar date as YYYY-MM-DD": 1 bad row, e.g. row 2',
        "20200501",
    ),
    Defect(
        "received_date-real-date",
        "raw_cvip_requests",
        add_request(received_date="2020-13-01"),
        REQUESTS + 'received_date: rule "a real calendar date as YYYY-MM-DD": 1 bad row, e.g. row 2',
        "2020-13-01",
    ),
    Defect(
        "received_date-within-year",
        "raw_cvip_requests",
        add_request(received_date="2019-12-31"),
        REQUESTS + 'received_date: rule "within 2020": 1 bad row, e.g. row 2',
        "2019-12-31",
    ),
    Defect(
        "agency_type-code",
        "raw_cvip_requests",
        add_request(agency_type="FBI_HQ"),
        REQUESTS + 'agency_type: rule "one of FEDERAL, STATE_LOCAL_ICAC, MILITARY, INTERNATIONAL": '
        "1 bad row, e.g. row 2",
        "FBI_HQ",
    ),
    Defect(
        "image_count-negative",
        "raw_cvip_requests",
        add_request(image_count="-37"),
        REQUESTS + 'image_count: rule "an integer >= 0": 1 bad row, e.g. row 2',
        "-37",
    ),
    Defect(
        "video_count-required",
        "raw_cvip_requests",
        add_request(video_count=""),
        REQUESTS + 'video_count: rule "required (non-empty)": 1 bad row, e.g. row 2',
    ),
    # cvip_offender_relationships.csv
    Defect(
        "victim_id-required",
        "raw_cvip_offender_relationships",
        add_relationship(victim_id=""),
        RELATIONSHIPS + 'victim_id: rule "required (non-empty)": 1 bad row, e.g. row 2',
    ),
    Defect(
        "relationship-code",
        "raw_cvip_offender_relationships",
        add_relationship(relationship="STEP_PARENT"),
        RELATIONSHIPS + 'relationship: rule "one of PARENT_GUARDIAN, OTHER_RELATIVE, '
        "NEIGHBOR_FAMILY_FRIEND, BABYSITTER_MENTOR_COACH, GUARDIANS_PARTNER, ONLINE_ENTICEMENT, "
        'SELF_PRODUCTION, CHILD_SEX_TRAFFICKER, UNKNOWN_TO_CHILD": 1 bad row, e.g. row 2',
        "STEP_PARENT",
    ),
    Defect(
        "victim-relationship-unique",
        "raw_cvip_offender_relationships",
        add_relationship(victim_id="V1", relationship="PARENT_GUARDIAN"),
        RELATIONSHIPS + 'victim_id, relationship: rule "unique together": 2 bad rows, e.g. rows 1, 2',
    ),
    # program_metrics.csv (row 1 is the valid default)
    Defect(
        "metric_id-catalog",
        "raw_program_metrics",
        add_metric(metric_id="made_up_metric"),
        METRICS + 'metric_id: rule "in the metric catalog (sql/seeds/metric_catalog.csv)": 1 bad row, e.g. row 2',
        "made_up_metric",
    ),
    Defect(
        "metric_id-computed",
        "raw_program_metrics",
        add_metric(metric_id="cybertipline_reports", period="year", since=""),
        METRICS + 'metric_id, period: rule "not a metric computed by the pipeline from the '
        'record-level exports": 1 bad row, e.g. row 2',
    ),
    Defect(
        "metric-period-pair",
        "raw_program_metrics",
        add_metric(period="year", since=""),
        METRICS + 'metric_id, period: rule "(metric_id, period) in the metric catalog": 1 bad row, e.g. row 2',
    ),
    Defect(
        "period-code",
        "raw_program_metrics",
        add_metric(period="annual", since=""),
        METRICS + 'period: rule "one of year, cumulative, current, prior_year": 1 bad row, e.g. row 2',
        "annual",
    ),
    Defect(
        "metric-period-unique",
        "raw_program_metrics",
        add_metric(metric_id="ncic_missing_child_entries", period="year", since=""),
        METRICS + 'metric_id, period: rule "unique together": 2 bad rows, e.g. rows 1, 2',
    ),
    Defect(
        "value-integer",
        "raw_program_metrics",
        add_metric(value="5,000,001"),
        METRICS + 'value: rule "an integer >= 0": 1 bad row, e.g. row 2',
        "5,000,001",
    ),
    Defect(
        "since-year",
        "raw_program_metrics",
        add_metric(since="2031"),
        METRICS + 'since: rule "a 4-digit year not after 2020, when present": 1 bad row, e.g. row 2',
        "2031",
    ),
    Defect(
        "since-only-cumulative",
        "raw_program_metrics",
        add_metric(metric_id="age_progressions", period="year", since="1989"),
        METRICS + 'since: rule "empty unless period is cumulative": 1 bad row, e.g. row 2',
    ),
    # cybertipline_reports.parquet (report_ids 1 and 2 are valid; the defect is report_id 3)
    Defect(
        "report_id-required",
        "raw_cybertipline_reports",
        add_report(report_id=None),
        REPORTS + 'report_id: rule "required": 1 bad row',
    ),
    Defect(
        "report_id-unique",
        "raw_cybertipline_reports",
        add_report(report_id=2),
        REPORTS + 'report_id: rule "unique": 2 bad rows, e.g. report_id 2',
    ),
    Defect(
        "received_at-required",
        "raw_cybertipline_reports",
        add_report(received_at=None),
        REPORTS + 'received_at: rule "required": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "received_at-before-the-year",
        "raw_cybertipline_reports",
        add_report(received_at=datetime(2019, 12, 31, 23, 59, 59, tzinfo=UTC)),
        REPORTS + 'received_at: rule "within 2020 (UTC)": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "received_at-within-year-utc",
        "raw_cybertipline_reports",
        # 19:30 on Dec 31 in New York is already the next year in UTC. Converted here, not by
        # pyarrow: pandera's import sets PYARROW_IGNORE_TIMEZONE, which drops the offset.
        add_report(received_at=datetime(2020, 12, 31, 19, 30, tzinfo=timezone(timedelta(hours=-5))).astimezone(UTC)),
        REPORTS + 'received_at: rule "within 2020 (UTC)": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "reporter_type-code",
        "raw_cybertipline_reports",
        add_report(reporter_type="Esp"),
        REPORTS + 'reporter_type: rule "one of ESP, PUBLIC": 1 bad row, e.g. report_id 3',
        "Esp",
    ),
    Defect(
        "esp_name-required-for-esp",
        "raw_cybertipline_reports",
        add_report(esp_name="  "),
        REPORTS + 'esp_name: rule "required (non-empty) when reporter_type is ESP": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "esp_name-null-for-public",
        "raw_cybertipline_reports",
        add_report(reporter_type="PUBLIC", esp_name="Hidden Provider Name"),
        REPORTS + 'esp_name: rule "null when reporter_type is PUBLIC": 1 bad row, e.g. report_id 3',
        "Hidden Provider Name",
    ),
    Defect(
        "incident_type-code",
        "raw_cybertipline_reports",
        add_report(incident_type="SPAM_REPORT"),
        REPORTS + 'incident_type: rule "one of CSAM, ONLINE_ENTICEMENT, CHILD_SEX_TRAFFICKING, '
        "CHILD_SEXUAL_MOLESTATION, MISLEADING_WORDS_OR_IMAGES, UNSOLICITED_OBSCENE_MATERIAL, "
        'MISLEADING_DOMAIN_NAME, CHILD_SEX_TOURISM": 1 bad row, e.g. report_id 3',
        "SPAM_REPORT",
    ),
    Defect(
        "incident_country-code",
        "raw_cybertipline_reports",
        add_report(incident_country="UK"),
        REPORTS + 'incident_country: rule "ISO 3166-1 alpha-2 code, XK, or null": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "image_count-negative",
        "raw_cybertipline_reports",
        add_report(image_count=-41),
        REPORTS + 'image_count: rule ">= 0": 1 bad row, e.g. report_id 3',
        "-41",
    ),
    Defect(
        "image_count-required",
        "raw_cybertipline_reports",
        add_report(image_count=None),
        REPORTS + 'image_count: rule "required": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "video_count-required",
        "raw_cybertipline_reports",
        add_report(video_count=None),
        REPORTS + 'video_count: rule "required": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "video_count-negative",
        "raw_cybertipline_reports",
        add_report(video_count=-42),
        REPORTS + 'video_count: rule ">= 0": 1 bad row, e.g. report_id 3',
        "-42",
    ),
    Defect(
        "other_file_count-required",
        "raw_cybertipline_reports",
        add_report(other_file_count=None),
        REPORTS + 'other_file_count: rule "required": 1 bad row, e.g. report_id 3',
    ),
    Defect(
        "other_file_count-negative",
        "raw_cybertipline_reports",
        add_report(other_file_count=-43),
        REPORTS + 'other_file_count: rule ">= 0": 1 bad row, e.g. report_id 3',
        "-43",
    ),
]


@pytest.mark.guard("export_contract")
@pytest.mark.parametrize("defect", DEFECTS, ids=[d.id for d in DEFECTS])
def test_each_rule_names_file_column_rule_count_and_rows(
    defect: Defect, folders: Folders, warehouse: Warehouse
) -> None:
    exports = YearExports.small(YEAR)
    defect.change(exports)
    exports.write(Path(folders.raw_dir))

    checked = check(folders, defect.asset, warehouse)

    assert not checked.result.passed
    assert checked.result.severity == dg.AssetCheckSeverity.ERROR
    lines = checked.failures
    assert defect.expected in lines, lines
    # The one defect breaks only rules of its own file (a bad code may break a pair rule too).
    assert all(line.startswith(defect.expected.split(" column ")[0]) for line in lines)
    if defect.secret is not None:
        assert defect.secret not in checked.everything_recorded()


def test_several_bad_rows_are_counted_and_five_shown(folders: Folders, warehouse: Warehouse) -> None:
    exports = YearExports.small(YEAR)
    for n in range(3, 12):  # rows 3..11
        exports.cases.append(case(f"C{n}", f"{YEAR}-04-01", f"{YEAR}-03-01"))
    exports.write(Path(folders.raw_dir))

    checked = check(folders, "raw_cases", warehouse)

    assert (
        'cases.csv: column resolved_date: rule "resolved_date >= intake_date when present": '
        "9 bad rows, e.g. rows 3, 4, 5, 6, 7"
    ) in checked.failures


def test_sparse_report_ids_are_checked_for_uniqueness_too(folders: Folders, warehouse: Warehouse) -> None:
    exports = YearExports.small(YEAR)
    exports.reports.append(report(9_000_000_000_000, year=YEAR))
    exports.reports.append(report(9_000_000_000_000, year=YEAR))
    exports.write(Path(folders.raw_dir))

    checked = check(folders, "raw_cybertipline_reports", warehouse)

    assert (REPORTS + 'report_id: rule "unique": 2 bad rows, e.g. report_id 9000000000000') in checked.failures


def test_since_regex_accepts_exactly_the_years_up_to_the_report_year() -> None:
    pattern = re.compile(years_up_to_regex(2020))
    accepted = [y for y in range(0, 10000) if pattern.match(f"{y:04d}")]
    assert accepted == list(range(0, 2021))
    assert not pattern.match("199") and not pattern.match("02020")


# --------------------------------------------------------------------------------------------
# Malformed files: refused at ingest, before any rule runs


def not_utf8(folder: Path) -> None:
    path = folder / "cases.csv"
    path.write_bytes(path.read_bytes() + "C9,2020-05-01,,ERU,15,WH,S\xe3o Paulo\n".encode("latin-1"))


def truncated_parquet(folder: Path) -> None:
    path = folder / "cybertipline_reports.parquet"
    path.write_bytes(path.read_bytes()[:-100])


def empty_file(folder: Path) -> None:
    (folder / "cvip_requests.csv").write_bytes(b"")


def wrong_delimiter(folder: Path) -> None:
    path = folder / "cases.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")


def missing_file(folder: Path) -> None:
    (folder / "cvip_offender_relationships.csv").unlink()


def unknown_column(folder: Path) -> None:
    path = folder / "cases.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",child_name"] + [line + ",Secret Child Name" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def missing_column(folder: Path) -> None:
    path = folder / "program_metrics.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")


def ragged_row(folder: Path) -> None:
    path = folder / "cvip_requests.csv"
    path.write_text(path.read_text(encoding="utf-8") + "R7,2020-05-01,FEDERAL,1,2,SecretExtra\n", encoding="utf-8")


def header_only(folder: Path) -> None:
    path = folder / "cvip_requests.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def no_header(folder: Path) -> None:
    path = folder / "cases.csv"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]), encoding="utf-8")


def stray_quote(folder: Path) -> None:
    path = folder / "program_metrics.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + 'hotline_calls,"cumulative,5000000,1984,SecretSource\n'
        "age_progressions,year,12,,Forensic\n",
        encoding="utf-8",
    )


def empty_parquet(folder: Path) -> None:
    path = folder / "cybertipline_reports.parquet"
    pq.write_table(pq.read_table(path).slice(0, 0), path)


def naive_timestamps(folder: Path) -> None:
    path = folder / "cybertipline_reports.parquet"
    table = pq.read_table(path)
    index = table.schema.get_field_index("received_at")
    pq.write_table(table.set_column(index, "received_at", table["received_at"].cast(pa.timestamp("us"))), path)


def report_id_as_text(folder: Path) -> None:
    path = folder / "cybertipline_reports.parquet"
    table = pq.read_table(path)
    index = table.schema.get_field_index("report_id")
    ids = pa.array(["SecretReportId", "2"], type=pa.string())
    pq.write_table(table.set_column(index, "report_id", ids), path)


def cr_line_endings(folder: Path) -> None:
    path = folder / "cvip_requests.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))


MALFORMED = [
    (
        "cr-line-endings",
        cr_line_endings,
        "raw_cvip_requests",
        "cvip_requests.csv: a line ends with CR alone",
        "rule: LF or CRLF line endings",
        None,
    ),
    ("not-utf8", not_utf8, "raw_cases", "cases.csv: not UTF-8 at data row 3", "rule: UTF-8 CSV", "Paulo"),
    (
        "truncated-parquet",
        truncated_parquet,
        "raw_cybertipline_reports",
        "cybertipline_reports.parquet: not a readable Parquet file",
        "rule: Parquet export",
        None,
    ),
    ("empty-file", empty_file, "raw_cvip_requests", "cvip_requests.csv: the file is empty", "", None),
    (
        "header-only",
        header_only,
        "raw_cvip_requests",
        "cvip_requests.csv: no data rows",
        "rule: at least one data row",
        None,
    ),
    (
        "empty-parquet",
        empty_parquet,
        "raw_cybertipline_reports",
        "cybertipline_reports.parquet: no data rows",
        "rule: at least one data row",
        None,
    ),
    (
        "no-header",
        no_header,
        "raw_cases",
        "cases.csv: none of the contract's columns found; is the header row missing?",
        "rule: exactly the columns",
        "2020-02-01",
    ),
    (
        "wrong-delimiter",
        wrong_delimiter,
        "raw_cases",
        "cases.csv: the header row is separated by ';', not commas",
        "rule: comma separator",
        None,
    ),
    (
        "missing-file",
        missing_file,
        "raw_cvip_offender_relationships",
        "cvip_offender_relationships.csv: missing from the year's folder",
        "rule: every export is required",
        None,
    ),
    (
        "unknown-column",
        unknown_column,
        "raw_cases",
        "cases.csv: 1 unknown column(s), at position(s) 8",
        "rule: exactly the columns",
        "child_name",
    ),
    (
        "missing-column",
        missing_column,
        "raw_program_metrics",
        "program_metrics.csv: missing column(s) source",
        "rule: exactly the columns",
        None,
    ),
    (
        "ragged-row",
        ragged_row,
        "raw_cvip_requests",
        "cvip_requests.csv: 1 row(s) with a number of fields other than the header's 5, e.g. data row 2",
        "rule: RFC 4180",
        "SecretExtra",
    ),
    (
        "stray-quote",
        stray_quote,
        "raw_program_metrics",
        "program_metrics.csv: unterminated quote starting at data row 2",
        "rule: RFC 4180 quoting",
        "SecretSource",
    ),
    (
        "naive-timestamps",
        naive_timestamps,
        "raw_cybertipline_reports",
        'cybertipline_reports.parquet: column received_at: rule "type timestamp with a time zone (a UTC '
        'instant)": the file has type timestamp without time zone',
        "the contract says",
        None,
    ),
    (
        "report-id-as-text",
        report_id_as_text,
        "raw_cybertipline_reports",
        'cybertipline_reports.parquet: column report_id: rule "type integer": the file has type string',
        "the contract says integer",
        "SecretReportId",
    ),
]


@pytest.mark.parametrize(
    "break_files, asset, message, rule, secret",
    [m[1:] for m in MALFORMED],
    ids=[m[0] for m in MALFORMED],
)
def test_malformed_file_is_refused_with_file_and_cause(
    break_files, asset: str, message: str, rule: str, secret: str | None, tmp_path: Path
) -> None:
    folder = YearExports.small(YEAR).write(tmp_path / "raw")
    break_files(folder)

    error = refused(folder, asset)

    failure = next((line for line in error.lines if message in line), None)
    assert failure is not None and rule in failure, error.lines
    if secret is not None:
        assert secret not in _without_root(str(error), tmp_path)


# --------------------------------------------------------------------------------------------
# The whole year


def test_valid_small_export_passes_every_check(folders: Folders) -> None:
    exports = YearExports.small(YEAR)
    # Allowed edge values: an empty race, age 0 and 20, INTL, XK, no country, a cumulative
    # figure of a metric whose yearly figure is computed, a Dec 31 23:59:59 UTC report.
    exports.cases.append(case("C3", f"{YEAR}-12-31", "", race="", age=0, state="INTL"))
    exports.cases.append(case("C4", f"{YEAR - 1}-06-01", f"{YEAR}-01-02", race="U", age=20, state="PR"))
    exports.cases.append(case("C5", f"{YEAR}-05-01", f"{YEAR}-05-01", age=""))
    exports.reports.append(report(3, country="XK", received_at=_utc(YEAR, 12, 31, 23, 59, 59)))
    exports.reports.append(report(4, "PUBLIC", None, country=None, received_at=_utc(YEAR, 1, 1)))
    exports.program_metrics.append(
        {
            "metric_id": "cybertipline_reports",
            "period": "cumulative",
            "value": "96000000",
            "since": "1998",
            "source": "CyberTipline",
        }
    )
    exports.write(Path(folders.raw_dir))
    raw_assets = {
        f"raw_{name}"
        for name in ("cases", "cybertipline_reports", "cvip_requests", "cvip_offender_relationships", "program_metrics")
    }

    outcome = run(folders, sorted(raw_assets))  # the raw exports and their checks: nothing downstream

    evaluations = outcome.evaluations()
    assert raw_assets <= evaluations.keys()
    for asset in raw_assets:
        evaluation = evaluations[asset]
        assert evaluation.passed, (asset, evaluation.description, evaluation.metadata["failure"].value)
        assert "all" in evaluation.description and "rules hold" in evaluation.description
    docs = evaluations["raw_cases"].metadata["data_docs"].value
    assert Path(docs).is_file()
    assert Path(docs).resolve().is_relative_to(Path(folders.warehouse_dir).resolve())
    assert not any("data_docs" in str(p) for p in Path(folders.published_dir).rglob("*"))


def test_a_broken_rule_and_a_malformed_file_reach_the_runs_failures(folders: Folders) -> None:
    """What the tests above show without a run, through the definitions: the check's failure
    line and the ingest's refusal are what the run reports, and no raw value is recorded."""
    exports = YearExports.small(YEAR)
    exports.cases.append(case("C3", f"{YEAR}-04-01", case_type="TOP_SECRET_TYPE"))
    ragged_row(exports.write(Path(folders.raw_dir)))

    outcome = run(folders, ["raw_cases", "raw_cvip_requests"])

    assert (
        'cases.csv: column case_type: rule "one of ERU, FA, LIOM, MYA, NFA": 1 bad row, e.g. row 3' in outcome.failures
    )
    assert (
        "cvip_requests.csv: 1 row(s) with a number of fields other than the header's 5, e.g. data row 2 "
        "(rule: RFC 4180, one field per column)"
    ) in outcome.failures, outcome.text
    # Both refused as failed checks; neither export is materialized (pipelines/defs/gate.py).
    assert not outcome.evaluations()["raw_cases"].passed and not outcome.evaluations()["raw_cvip_requests"].passed
    assert not outcome.result.get_asset_materialization_events()
    recorded = outcome.everything_recorded()
    assert "TOP_SECRET_TYPE" not in recorded and "SecretExtra" not in recorded


# --------------------------------------------------------------------------------------------
# What real producers write: accepted


def _rewrite_csv(path: Path, *, bom: bool = False, newline: str = "\n", quote_all: bool = False) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=newline, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        writer.writerows(rows)


@pytest.mark.parametrize(
    "style",
    [{"bom": True}, {"newline": "\r\n"}, {"quote_all": True}, {"bom": True, "newline": "\r\n", "quote_all": True}],
    ids=["bom", "crlf", "quoted", "bom-crlf-quoted"],
)
def test_csv_as_spreadsheets_and_other_tools_write_it_is_accepted(style: dict, tmp_path: Path) -> None:
    """Ingested row for row and value for value as the plain file: every rule then sees what it
    sees on the plain file, which passes them all."""
    plain = YearExports.small(YEAR).write(tmp_path / "plain")
    styled = YearExports.small(YEAR).write(tmp_path / "styled")

    for export in RAW_EXPORTS:
        if not export.is_csv:
            continue
        _rewrite_csv(styled / export.file_name, **style)
        assert (styled / export.file_name).read_bytes() != (plain / export.file_name).read_bytes()
        assert ingested(styled, export) == ingested(plain, export), export.file_name


def _tolerated_types(table: pa.Table, variant: str) -> pa.Table:
    """The same values in other physical types than tests/exports.py writes."""

    def replace(t: pa.Table, name: str, array: pa.Array) -> pa.Table:
        return t.set_column(t.schema.get_field_index(name), name, array)

    if variant == "wide-and-dictionary":
        table = replace(table, "report_id", table["report_id"].cast(pa.uint64()))
        for name in ("image_count", "video_count", "other_file_count"):
            table = replace(table, name, table[name].cast(pa.int64()))  # pandas' and Spark's default
        table = replace(table, "incident_type", table["incident_type"].dictionary_encode())  # category
        table = replace(table, "esp_name", table["esp_name"].cast(pa.large_string()))
        return replace(table, "received_at", table["received_at"].cast(pa.timestamp("ns", tz="UTC")))
    table = replace(table, "report_id", table["report_id"].cast(pa.int32()))
    table = replace(table, "image_count", table["image_count"].cast(pa.int16()))
    table = replace(table, "reporter_type", table["reporter_type"].cast(pa.string_view()))
    table = replace(table, "incident_country", table["incident_country"].cast(pa.large_string()).dictionary_encode())
    # A zone other than UTC still denotes an instant: Parquet stores it adjusted to UTC.
    return replace(table, "received_at", table["received_at"].cast(pa.timestamp("ms", tz="America/New_York")))


@pytest.mark.parametrize("variant", ["wide-and-dictionary", "narrow-view-and-zone"])
def test_parquet_types_are_checked_by_what_they_denote(variant: str, folders: Folders, warehouse: Warehouse) -> None:
    exports = YearExports.small(YEAR)
    exports.reports.append(report(3, "PUBLIC", None, "CSAM", "XK", 5, 6, 7, received_at=_utc(YEAR, 12, 31, 23, 59)))
    folder = exports.write(Path(folders.raw_dir))
    path = folder / "cybertipline_reports.parquet"
    pq.write_table(_tolerated_types(pq.read_table(path), variant), path)

    checked = check(folders, "raw_cybertipline_reports", warehouse)

    assert checked.result.passed, checked.failures
    assert "all 15 rules hold on 3 rows" in checked.result.description


def test_a_corrupt_data_page_is_named_by_its_row_group(folders: Folders) -> None:
    exports = YearExports.small(YEAR)
    exports.reports = [report(i, year=YEAR) for i in range(1, 3001)]
    folder = exports.write(Path(folders.raw_dir))
    path = folder / "cybertipline_reports.parquet"
    pq.write_table(pq.read_table(path), path, row_group_size=1000)
    page = pq.read_metadata(path).row_group(1).column(0).data_page_offset
    data = bytearray(path.read_bytes())
    data[page : page + 8] = bytes(b ^ 0xFF for b in data[page : page + 8])  # its page header
    path.write_bytes(bytes(data))

    error = refused(folder, "raw_cybertipline_reports")

    assert error.lines == ["cybertipline_reports.parquet: corrupt data in row group 2 of 3 (rule: Parquet export)"]


def test_not_utf8_far_into_the_file_names_its_data_row(folders: Folders) -> None:
    exports = YearExports.small(YEAR)
    exports.cases = [case(f"C{n}", f"{YEAR}-02-01") for n in range(1, 1001)]  # about 30 KB
    folder = exports.write(Path(folders.raw_dir))
    path = folder / "cases.csv"
    lines = path.read_bytes().split(b"\n")
    lines[900] = lines[900].replace(b"TX", "S\xe3o".encode("latin-1"))  # data row 900
    path.write_bytes(b"\n".join(lines))

    assert refused(folder, "raw_cases").lines == ["cases.csv: not UTF-8 at data row 900 (rule: UTF-8 CSV)"]


@pytest.mark.guard("complete_ingest")
def test_the_loader_and_the_streaming_count_must_agree(folders: Folders, monkeypatch) -> None:
    """DuckDB's reader once dropped every row after a stray quote: whatever DuckDB loads is
    compared, record for record, with Python's csv module's reading."""
    folder = YearExports.small(YEAR).write(Path(folders.raw_dir))
    streamed = ingest_module.read_csv_stream

    def one_more_record(export, path):
        reading = streamed(export, path)
        reading.fingerprints.append(12345)
        return reading

    monkeypatch.setattr(ingest_module, "read_csv_stream", one_more_record)

    assert refused(folder, "raw_cases").lines == [
        "cases.csv: DuckDB loaded 2 data rows, Python's csv module reads 3; the two readings part "
        "at data row 3 (rule: every record ingested)"
    ]


def test_the_rows_scanned_must_equal_the_parquet_footer(folders: Folders, monkeypatch) -> None:
    folder = YearExports.small(YEAR).write(Path(folders.raw_dir))
    read_metadata = ingest_module.pq.read_metadata

    class OneRowMore:
        def __init__(self, path):
            self._metadata = read_metadata(path)
            self.num_rows = self._metadata.num_rows + 1

        def __getattr__(self, name):
            return getattr(self._metadata, name)

    monkeypatch.setattr(ingest_module.pq, "read_metadata", OneRowMore)

    assert refused(folder, "raw_cybertipline_reports").lines == [
        "cybertipline_reports.parquet: the footer states 3 rows, a full scan reads 2 (rule: every record ingested)"
    ]


def _ids_export(path: Path, ids: list[int | None], **options) -> Path:
    rows = [report(0, year=YEAR) | {"report_id": i} for i in ids]
    pq.write_table(pa.Table.from_pylist(rows, schema=REPORT_SCHEMA), path, **options)
    return path


REPEATED_IDS = [1, 2, 2, 65_535, 65_536, 65_536, 65_536, -1, -1, -65_537, None, None, 1 << 20, 1 << 20]
"""Ids repeated within a block, across a block boundary and below zero, and two missing."""


@pytest.mark.parametrize("spread", [False, True], ids=["numpy-bitmap", "duckdb-hash"])
def test_the_ingest_counts_repeated_and_missing_report_ids_exactly(spread: bool, tmp_path: Path, monkeypatch) -> None:
    """What the audits read first (raw_cybertipline_reports_id_blocks): counted with a bitmap in
    numpy when the ids fit it, else by DuckDB with one id per block."""
    if spread:
        monkeypatch.setattr(ingest_module, "ID_BITMAP_MAX_RANGE", 1)
    path = _ids_export(tmp_path / "cybertipline_reports.parquet", REPEATED_IDS)
    con = duckdb.connect()
    assert load_parquet(con, CYBERTIPLINE_REPORTS, path) == len(REPEATED_IDS)

    blocks = con.sql("SELECT id_block_bits, id_block, rows, ids, distinct_ids FROM raw_cybertipline_reports_id_blocks")
    found = blocks.fetchall()
    assert {bits for bits, *_ in found} == {0 if spread else ID_BLOCK_BITS}
    missing = [rows for _, block, rows, _, _ in found if block is None]
    assert missing == [2]
    assert sum(n - distinct for _, block, _, n, distinct in found if block is not None) == 1 + 2 + 1 + 1


def _both_counts(path: Path) -> tuple[list, list]:
    """The id blocks of an export by sql/audits/cybertipline_reports_ids.sql (blocks of 2**16 ids)
    and by count_report_ids, each sorted."""
    con = duckdb.connect()
    con.sql(f"CREATE VIEW raw_cybertipline_reports AS SELECT * FROM read_parquet('{path}')")
    con.sql(f"SET VARIABLE id_block_bits = {ID_BLOCK_BITS}")
    sql = (SQL_DIR / "audits" / "cybertipline_reports_ids.sql").read_text(encoding="utf-8").strip().rstrip(";")
    by_sql = sorted(con.sql(sql).fetchall(), key=str)
    by_numpy = sorted(count_report_ids(path, "report_id", *id_range(pq.read_metadata(path), "report_id")), key=str)
    return by_sql, by_numpy


def test_the_numpy_bitmap_counts_as_the_sql_blocks_do(tmp_path: Path) -> None:
    """count_report_ids gives the rows sql/audits/cybertipline_reports_ids.sql gives with blocks of
    2**16 ids, row for row: two computations of the same count."""
    path = _ids_export(tmp_path / "cybertipline_reports.parquet", REPEATED_IDS, row_group_size=3)
    by_sql, by_numpy = _both_counts(path)
    assert by_numpy == by_sql
    assert len(by_sql) == 5  # blocks 0, 1, -1 and 16 hold a repeat; the missing ids


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ids=st.lists(st.one_of(st.none(), st.integers(-(1 << 18), 1 << 18)), min_size=1, max_size=60),
    row_group_size=st.integers(1, 8),
)
def test_the_numpy_bitmap_counts_any_ids_as_the_sql_blocks_do(ids, row_group_size, tmp_path: Path) -> None:
    """The same two computations on any ids (repeats anywhere, in a row group or across them, in no
    order, missing ones), row for row."""
    if all(i is None for i in ids):
        ids = [*ids, 0]
    path = _ids_export(tmp_path / "cybertipline_reports.parquet", ids, row_group_size=row_group_size)
    by_sql, by_numpy = _both_counts(path)
    assert by_numpy == by_sql


def test_ids_outside_the_range_the_statistics_state_are_refused(tmp_path: Path) -> None:
    """The bitmap is as wide as the footer's statistics say: an id beyond them is refused, not
    counted in another id's bit."""
    path = _ids_export(tmp_path / "cybertipline_reports.parquet", [5, 6, 70_000])
    with pytest.raises(RawExportError) as refusal:
        count_report_ids(path, "report_id", 5, 65_535)
    assert refusal.value.lines == [
        "cybertipline_reports.parquet: column report_id: values outside the range its Parquet "
        "statistics state (rule: Parquet export)"
    ]


def test_the_width_of_the_id_blocks_comes_from_the_footer_statistics(tmp_path: Path) -> None:
    def bits(ids: list[int | None], **options) -> int:
        path = _ids_export(tmp_path / "ids.parquet", ids, **options)
        return id_block_bits(pq.read_metadata(path), "report_id")

    assert bits([5, 1, None, ID_BITMAP_MAX_RANGE]) == ID_BLOCK_BITS
    assert bits([0, ID_BITMAP_MAX_RANGE]) == 0  # wider than the bitmaps
    assert bits([-(1 << 62), 1 << 62]) == 0
    assert bits([(1 << 62) + 1, (1 << 62) + 2]) == 0  # beyond numpy's int64 arithmetic
    assert bits([1, 2, 3], write_statistics=False) == 0
    assert bits([None, None]) == ID_BLOCK_BITS
