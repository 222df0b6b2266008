"""What `impact run` prints and records when something is wrong: one line per problem, no stack
trace, exit 1 for bad input and 2 for a product error, and never a value of the exports.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.core.config import Folders
from pipelines.core.contract import CASES, CVIP_OFFENDER_RELATIONSHIPS, CVIP_REQUESTS, PROGRAM_METRICS
from pipelines.demo import write_demo_exports
from pipelines.runner import run_year
from tests.conftest import run_args
from tests.exports import YearExports, report
from tests.harness import publish_year

YEAR = 2020
TRACE_MARKERS = ("Traceback", "Stack Trace", 'File "/')


def impact_run(folders: Folders, *years: int):
    return CliRunner().invoke(main, run_args(folders, *years), catch_exceptions=False)


def release_files(folders: Folders) -> dict[Path, bytes]:
    release = Path(folders.published_dir) / str(YEAR)
    return {p.relative_to(release): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}


def test_a_stray_quote_at_data_row_200_of_the_full_size_cases_csv_fails_the_run(folders: Folders) -> None:
    """The demo's cases.csv is full size at any scale; only the CyberTipline export shrinks. The
    release already there (written by the SQL models and the release writer, tests/harness.py)
    stays as it was; tests/e2e/test_backfill.py reads the line a published year prints."""
    write_demo_exports(YEAR, Path(folders.raw_dir), scale=0.001)
    publish_year(Path(folders.raw_dir), Path(folders.published_dir), YEAR)
    before = release_files(folders)
    assert before

    path = Path(folders.raw_dir) / str(YEAR) / "cases.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 30_000
    fields = lines[200].split(",")  # data row 200 (line 1 is the header)
    fields[3] = '"' + fields[3]
    lines[200] = ",".join(fields)
    path.write_text("".join(lines), encoding="utf-8")

    bad = impact_run(folders, YEAR)

    assert bad.exit_code == 1
    lines = bad.output.splitlines()
    assert lines[:2] == [
        "year 2020: not published; failures:",
        "  - cases.csv: unterminated quote starting at data row 200 (rule: RFC 4180 quoting: a quoted field "
        "ends with a quote followed by a comma or the line end)",
    ]
    log = Path(lines[2].removeprefix("  the full log of the run: "))
    assert len(lines) == 3 and log.is_relative_to(Path(folders.warehouse_dir).resolve()), lines
    assert "Asset check 'export_contract' on 'raw_cases' did not pass" in log.read_text(encoding="utf-8")
    assert not any(marker in bad.output for marker in TRACE_MARKERS), bad.output
    assert release_files(folders) == before


def test_a_product_error_prints_one_line_and_the_log_file_with_its_trace(
    folders: Folders, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.accepting.ingest

    YearExports.small(YEAR).write(Path(folders.raw_dir))

    def broken(path: Path) -> str:
        raise RuntimeError("a bug in the product")

    monkeypatch.setattr(pipelines.accepting.ingest, "sha256_file", broken)

    result = impact_run(folders, YEAR)

    assert result.exit_code == 2
    assert not any(marker in result.output for marker in TRACE_MARKERS), result.output
    assert "step raw_exports failed: product error (RuntimeError)" in result.output
    log = next(line for line in result.output.splitlines() if "with the trace of the product error: " in line)
    trace = Path(log.rsplit(" ", 1)[1]).read_text(encoding="utf-8")
    assert "a bug in the product" in trace and "Stack Trace" in trace
    assert Path(log.rsplit(" ", 1)[1]).is_relative_to(Path(folders.warehouse_dir).resolve())


def test_a_year_outside_the_partitions_gets_one_line(folders: Folders) -> None:
    result = impact_run(folders, 2018)

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "year 2018 is not a yearly partition: valid years are 2019.." in lines[0]
    assert "IMPACT_FIRST_YEAR=2019" in lines[0]


# --------------------------------------------------------------------------------------------
# No raw value anywhere: a sentinel in every column and in the first line

SENTINEL = "Qx7SentinelValue"


def _with_sentinels(exports: YearExports) -> None:
    """One more row per column of every export, holding the sentinel in that column."""
    for export, rows in (
        (CASES, exports.cases),
        (CVIP_REQUESTS, exports.cvip_requests),
        (CVIP_OFFENDER_RELATIONSHIPS, exports.relationships),
        (PROGRAM_METRICS, exports.program_metrics),
    ):
        template = rows[0]
        for column in export.columns:
            rows.append({**template, column: SENTINEL})
    template = report(100, year=YEAR)
    for index, column in enumerate(("reporter_type", "esp_name", "incident_type", "incident_country")):
        exports.reports.append({**template, "report_id": 101 + index, column: SENTINEL})


def _first_line_is_a_record(folder: Path) -> None:
    for export in (CASES, CVIP_REQUESTS, CVIP_OFFENDER_RELATIONSHIPS, PROGRAM_METRICS):
        path = folder / export.file_name
        text = path.read_text(encoding="utf-8").splitlines(keepends=True)
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow([SENTINEL] * len(export.columns))
        path.write_text(line.getvalue() + "".join(text[1:]), encoding="utf-8")
    path = folder / "cybertipline_reports.parquet"
    table = pq.read_table(path)
    for column in ("report_id", "image_count"):  # text where the contract says an integer
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, pa.array([SENTINEL] * table.num_rows, pa.string()))
    pq.write_table(table, path)


@pytest.mark.parametrize("where", ["every-column", "first-line"])
def test_no_value_reaches_the_console_or_the_dagster_event_log(
    where: str, folders: Folders, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    exports = YearExports.small(YEAR)
    if where == "every-column":
        _with_sentinels(exports)
    folder = exports.write(Path(folders.raw_dir))
    if where == "first-line":
        _first_line_is_a_record(folder)
    home = tmp_path / "dagster_home"
    home.mkdir()

    with dg.DagsterInstance.local_temp(str(home)) as instance:
        outcome = run_year(YEAR, folders, instance=instance)
        records = instance.all_logs(instance.get_runs()[0].run_id)

    console = capfd.readouterr()
    assert not outcome.success
    assert len(outcome.failures) >= (12 if where == "every-column" else 6), outcome.failures
    printed = "\n".join([console.out, console.err, *outcome.failures])
    assert SENTINEL not in printed
    assert not any(marker in printed for marker in TRACE_MARKERS)
    assert SENTINEL not in "\n".join(dg.serialize_value(record) for record in records)
    published = Path(folders.published_dir)
    for path in [*home.rglob("*"), *published.rglob("*")]:  # event log, run storage, compute logs
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path
    assert not (published / str(YEAR)).exists()
