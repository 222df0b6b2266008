"""The ingest's CSV readers (pipelines/accepting/ingest.py) on small files, without Dagster: what real
exporters write is accepted, record for record, and a damaged file is refused."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

import pipelines.accepting.ingest
import pipelines.core.files
from pipelines.accepting.ingest import (
    RawExportError,
    changed_since_ingest,
    ingest,
    ingested_files,
    load_csv,
    prepare_ingest_log,
    read_csv_stream,
)
from pipelines.core.contract import CASES, CVIP_REQUESTS, RAW_EXPORTS
from tests.exports import YearExports, case

YEAR = 2020


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    exports = YearExports.small(YEAR)
    exports.cases = [
        case("c1", "2020-03-01", "", "ERU", 10, "", "TX"),
        case("c2", "2020-04-01", "2020-05-01", "FA", "", "AS", "CA"),
        case("c3", "2020-06-01", "2020-06-02", "LIOM", 3, "WH", "NY"),
    ]
    return exports.write(tmp_path / "raw") / CASES.file_name


def loaded(path: Path) -> list[tuple]:
    con = duckdb.connect()
    rows = load_csv(con, CASES, path)
    table = con.sql(f"SELECT * EXCLUDE (source_row) FROM {CASES.table} ORDER BY source_row").fetchall()
    assert rows == len(table)
    return table


def test_every_field_quoted_loads_like_plain(cases_csv: Path, tmp_path: Path) -> None:
    """Exporters that quote every field write an empty one as ``""``: still no value."""
    with cases_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    quoted = tmp_path / "quoted" / CASES.file_name
    quoted.parent.mkdir()
    with quoted.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    assert quoted.read_text(encoding="utf-8").splitlines()[1].startswith('"c1","2020-03-01","",')

    assert loaded(quoted) == loaded(cases_csv)
    assert loaded(quoted)[0][2] is None  # resolved_date of c1


@pytest.mark.parametrize("ending", ["\n", "\n\n\n", "\r\n\r\n"], ids=["one", "three-lf", "two-crlf"])
def test_blank_lines_at_the_end_are_not_records(cases_csv: Path, ending: str) -> None:
    plain = loaded(cases_csv)
    text = cases_csv.read_text(encoding="utf-8")
    if "\r" in ending:
        text = text.replace("\n", "\r\n")
    cases_csv.write_text(text + ending, encoding="utf-8", newline="")

    assert read_csv_stream(CASES, cases_csv).rows == 3
    assert loaded(cases_csv) == plain


def test_a_blank_line_between_records_is_refused_with_its_data_row(cases_csv: Path) -> None:
    lines = cases_csv.read_text(encoding="utf-8").splitlines(keepends=True)
    cases_csv.write_text("".join([*lines[:3], "\n", *lines[3:], "\n"]), encoding="utf-8")

    with pytest.raises(RawExportError) as raised:
        read_csv_stream(CASES, cases_csv)
    assert raised.value.lines == [
        "cases.csv: 1 blank line(s) between records, e.g. data row 3 (rule: one record per line; "
        "blank lines only at the end of the file)"
    ]


@pytest.mark.guard("raw_unchanged_since_ingest")
def test_a_raw_file_changed_after_ingest_is_named(cases_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The release compares each raw file with what ingest read (its signature, else its SHA-256):
    an export rewritten (or removed) while the run built the tables would otherwise be published
    as the tables of content nobody checked. The files count as written long before they were
    ingested, so an unchanged one is told by its signature alone."""
    monkeypatch.setattr(pipelines.core.files, "RECENT_NS", 0)
    year_dir = cases_csv.parent
    con = duckdb.connect()
    for export in RAW_EXPORTS:
        ingest(con, export, year_dir)
    ingested = ingested_files(con)
    assert changed_since_ingest(ingested, year_dir) == []

    cases_csv.write_text(cases_csv.read_text(encoding="utf-8").replace("TX", "CA"), encoding="utf-8")
    (year_dir / CVIP_REQUESTS.file_name).unlink()

    assert changed_since_ingest(ingested, year_dir) == [CASES.file_name, CVIP_REQUESTS.file_name]


def test_a_file_written_to_while_it_is_ingested_is_refused(cases_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its hash and its rows could each have read other bytes: the ingest names the file."""
    read = pipelines.accepting.ingest.load_csv

    def appended_meanwhile(con, export, path):
        rows = read(con, export, path)
        with path.open("a", encoding="utf-8") as still_writing:
            still_writing.write("\n")
        return rows

    monkeypatch.setattr(pipelines.accepting.ingest, "load_csv", appended_meanwhile)
    with pytest.raises(RawExportError) as raised:
        ingest(duckdb.connect(), CASES, cases_csv.parent)
    assert raised.value.lines == [
        "cases.csv: written to while it was ingested (rule: a complete export: wait until its producer has finished)"
    ]


def test_a_warehouse_of_an_earlier_version_gets_the_signature_columns(cases_csv: Path) -> None:
    """Its ingest_log kept no signatures: the step adds their columns before ingesting."""
    con = duckdb.connect()
    con.sql("CREATE TABLE ingest_log (file_name VARCHAR PRIMARY KEY, sha256 VARCHAR, rows BIGINT, bytes BIGINT)")
    prepare_ingest_log(con)
    ingested = ingest(con, CASES, cases_csv.parent)
    [recorded] = ingested_files(con)
    assert (recorded.file_name, recorded.sha256, recorded.signature) == (
        CASES.file_name,
        ingested.sha256,
        ingested.signature,
    )
