"""The second computation (pipelines/tables/raw_year.py) stops a wrong business rule.

Each wrong rule below adds up: every table stays consistent on its own, so the Pandera checks
pass. Applied to a copy of the SQL models (built without Dagster, tests/harness.py), each one
makes the second computation differ, naming the table, the row, the column and both values;
tests/e2e/test_blocking_checks.py runs one of them through the year's job, which refuses to publish.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.config import SQL_DIR
from pipelines.core.contract import CASES, CVIP_OFFENDER_RELATIONSHIPS, CVIP_REQUESTS, PROGRAM_METRICS, RAW_EXPORTS
from pipelines.core.sql_models import SqlModel
from pipelines.proving.schemas import check_published_table, load_published_table
from pipelines.proving.second_computation import compare, differences
from pipelines.tables import raw_year as second
from pipelines.tables import specs
from tests.exports import YearExports, case, report
from tests.harness import build_tables

YEAR = 2020


def exports() -> YearExports:
    """One case per rule: each rule applied wrongly changes a cell."""
    exports = YearExports.small(YEAR)
    exports.cases = [
        case("resolved-dec15", "2020-06-01", "2020-12-15", "ERU", 10, "AS", "TX"),
        case("recovered-from-2019", "2019-11-01", "2020-01-10", "FA", 15, "BL", "CA"),
        case("opened-2021", "2021-01-03", "", "NFA", 12, "HI", "NY"),
        case("empty-race", "2020-03-01", "", "LIOM", 4, "", "WA"),
        case("plain", "2020-04-01", "2020-04-02", "MYA", 19, "WH", "TX"),
    ]
    exports.reports = [
        report(1, images=5, videos=2, other=1),
        report(2, "PUBLIC", None, "ONLINE_ENTICEMENT", None, images=0, videos=1, other=0),
    ]
    return exports


WRONG_RULES = [
    # (id, SQL file, right text, wrong text, fragments of one failure line)
    (
        "status-as-of-december-1",
        "staging/stg_missing_children.sql",
        "resolved_date <= make_date(report_year(), 12, 31)",
        "resolved_date <= make_date(report_year(), 12, 1)",
        ["missing_children_by_case_type: row 'Endangered Runaway', column active: SQL model 1, second computation 0"],
    ),
    (
        "recoveries-of-earlier-cases-dropped",
        "staging/stg_missing_children.sql",
        "   OR (year(intake_date) < report_year() AND year(resolved_date) = report_year())",
        "",
        ["missing_children_by_case_type: row 'Family Abduction', column resolved: SQL model 0, second computation 1"],
    ),
    (
        "cases-opened-next-year-counted",
        "staging/stg_missing_children.sql",
        "WHERE year(intake_date) = report_year()",
        "WHERE year(intake_date) >= report_year()",
        ["missing_children_by_case_type: row 'Nonfamily Abduction', column active: SQL model 1, second computation 0"],
    ),
    (
        "empty-race-counted-as-white",
        "staging/stg_cases.sql",
        "coalesce(race, 'U') AS race",
        "coalesce(race, 'WH') AS race",
        ["missing_children_by_age_and_race: row '3 to 5', column white: SQL model 1, second computation 0"],
    ),
    (
        "videos-summed-from-the-image-column",
        "published/cybertipline_files_by_type.sql",
        "coalesce(sum(videos), 0) AS video_count",
        "coalesce(sum(images), 0) AS video_count",
        ["cybertipline_files_by_type: row 'Videos', column files: SQL model 5, second computation 3"],
    ),
]


@pytest.fixture(scope="module")
def year_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exports().write(tmp_path_factory.mktemp("wrong-rules") / "raw")


def use_sql_copy(monkeypatch: pytest.MonkeyPatch, sql_dir: Path) -> None:
    """Every model reads its SELECT from ``sql_dir`` (a copy of sql/) instead of sql/."""

    def select(model: SqlModel) -> str:
        return (sql_dir / model.layer / model.path.name).read_text(encoding="utf-8").strip().rstrip(";")

    monkeypatch.setattr(SqlModel, "select", property(select))


def use_wrong_rule(monkeypatch: pytest.MonkeyPatch, sql_dir: Path, sql_file: str, right: str, wrong: str) -> None:
    """A copy of sql/ in ``sql_dir`` with ``right`` replaced by ``wrong`` in one file, read by every model."""
    for path in SQL_DIR.rglob("*.sql"):
        copy = sql_dir / path.relative_to(SQL_DIR)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = sql_dir / sql_file
    text = target.read_text(encoding="utf-8")
    assert right in text
    target.write_text(text.replace(right, wrong), encoding="utf-8")
    use_sql_copy(monkeypatch, sql_dir)


def checks_of(year_dir: Path) -> tuple[list[str], list[str]]:
    """What the blocking checks of every published table find: the Pandera invariants
    (``schema_and_totals``) and the ``second_computation``, on the tables the SQL models build."""
    invariants, differences_found = [], []
    raw = second.RawYear(year_dir, YEAR)
    with duckdb.connect() as con:
        build_tables(con, year_dir)
        for table in specs():
            invariants += check_published_table(con, table, YEAR)[1]
            built, problems = load_published_table(con, table)
            differences_found += problems + compare(table, built, raw)
    return invariants, differences_found


@pytest.mark.guard("second_computation")
@pytest.mark.parametrize(
    ("sql_file", "right", "wrong", "fragments"), [r[1:] for r in WRONG_RULES], ids=[r[0] for r in WRONG_RULES]
)
def test_a_wrong_business_rule_is_refused_and_named(
    year_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sql_file: str,
    right: str,
    wrong: str,
    fragments: list[str],
) -> None:
    use_wrong_rule(monkeypatch, tmp_path / "sql", sql_file, right, wrong)

    invariants, found = checks_of(year_dir)

    assert invariants == []  # the tables still add up
    text = "\n".join(found)
    for fragment in fragments:
        assert fragment in text, text


def test_the_right_rules_publish(year_dir: Path) -> None:
    assert checks_of(year_dir) == ([], [])


# --------------------------------------------------------------------------------------------
# The comparison itself, on tampered tables.
# --------------------------------------------------------------------------------------------


def frame(rows: list[tuple[str, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"file_type": pl.String, "files": pl.Int64}, orient="row")


def labels(data: pl.DataFrame) -> list[str]:
    return data["file_type"].to_list()


EXPECTED = frame([("Images", 5), ("Videos", 3), ("Total", 8)])


@pytest.mark.parametrize(
    ("built", "message"),
    [
        (
            frame([("Images", 5), ("Videos", 4), ("Total", 8)]),
            "t: row 'Videos', column files: SQL model 4, second computation 3",
        ),
        (frame([("Images", 5), ("Total", 8)]), "t: row(s) 'Videos' missing from the SQL model's table"),
        (
            frame([("Images", 5), ("Videos", 3), ("Other", 0), ("Total", 8)]),
            "t: row(s) 'Other' in the SQL model's table only",
        ),
        (
            frame([("Videos", 3), ("Images", 5), ("Total", 8)]),
            "t: row order: row 1 is 'Videos' in the SQL model's table, 'Images' in the second computation",
        ),
        (
            frame([("Images", 5), ("Videos", 3), ("Total", 8)]).rename({"files": "n"}),
            "t: columns: SQL model has file_type, n, second computation file_type, files",
        ),
    ],
    ids=["cell", "missing-row", "extra-row", "row-order", "columns"],
)
def test_a_difference_names_table_row_column_and_both_values(built: pl.DataFrame, message: str) -> None:
    found = differences("t", built, EXPECTED, labels(built), labels(EXPECTED))
    assert any(p.startswith(message) for p in found), found
    assert differences("t", EXPECTED, EXPECTED, labels(EXPECTED), labels(EXPECTED)) == []


def test_raw_csv_with_byte_order_mark_and_crlf_reads_like_plain(tmp_path: Path) -> None:
    """The contract allows a UTF-8 byte-order mark and CRLF line ends in the CSV exports."""
    plain = exports().write(tmp_path / "plain")
    marked = exports().write(tmp_path / "marked")
    for path in marked.glob("*.csv"):
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    a, b = second.RawYear(plain, YEAR), second.RawYear(marked, YEAR)
    assert a.population.equals(b.population)
    assert a.cvip_requests.equals(b.cvip_requests)
    assert a.program_metrics.equals(b.program_metrics)


def test_parquet_of_any_integer_width_dictionary_strings_and_timestamp_unit(tmp_path: Path) -> None:
    """Parquet types name values, not encodings (raw/README.md): the same groups either way."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = exports().write(tmp_path / "plain")
    other = exports().write(tmp_path / "other")
    table = pq.read_table(other / "cybertipline_reports.parquet")
    table = table.cast(
        pa.schema(
            [
                ("report_id", pa.int32()),
                ("received_at", pa.timestamp("ms", tz="UTC")),
                ("reporter_type", pa.dictionary(pa.int8(), pa.string())),
                ("esp_name", pa.large_string()),
                ("incident_type", pa.dictionary(pa.int16(), pa.string())),
                ("incident_country", pa.string()),
                ("image_count", pa.int64()),
                ("video_count", pa.int16()),
                ("other_file_count", pa.uint8()),
            ]
        )
    )
    pq.write_table(table, other / "cybertipline_reports.parquet")
    key = list(second.GROUP_KEYS)
    a = second.RawYear(plain, YEAR).report_groups.sort(key, nulls_last=True)
    b = second.RawYear(other, YEAR).report_groups.sort(key, nulls_last=True)
    assert a.equals(b)


def test_raw_year_is_read_once_per_run_and_again_when_a_file_changes(tmp_path: Path) -> None:
    folder = exports().write(tmp_path / "raw")
    first = second.raw_year(folder, YEAR, None)
    assert second.raw_year(folder, YEAR, None) is first
    (folder / "cases.csv").write_text((folder / "cases.csv").read_text() + "late,2020-05-05,,ERU,3,WH,TX\n")
    assert second.raw_year(folder, YEAR, None) is not first


def test_raw_year_reads_every_column_of_each_csv_export(tmp_path: Path) -> None:
    """A new table's second computation may use any column of the contract (a table of CVIP
    requests by month reads ``received_date``), so RawYear types every column, none dropped."""
    raw = second.RawYear(exports().write(tmp_path / "raw"), YEAR)
    read = {
        CASES: raw.cases,
        CVIP_REQUESTS: raw.cvip_requests,
        CVIP_OFFENDER_RELATIONSHIPS: raw.relationships,
        PROGRAM_METRICS: raw.program_metrics,
    }
    assert {export.name: frame.columns for export, frame in read.items()} == {
        export.name: list(export.columns) for export in RAW_EXPORTS if export.is_csv
    }
    assert raw.cvip_requests.schema["received_date"] == pl.Date


def test_every_published_table_has_a_second_computation() -> None:
    from pipelines.tables import specs

    assert all(spec.second_computation is not None for spec in specs().values())


def test_raw_csv_with_every_field_quoted_reads_like_plain(tmp_path: Path) -> None:
    """Exporters that quote every field write an empty one as ``""``: no value, not an empty text."""
    import csv

    plain = exports().write(tmp_path / "plain")
    quoted = exports().write(tmp_path / "quoted")
    for path in quoted.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    assert '""' in (quoted / "cases.csv").read_text(encoding="utf-8")
    a, b = second.RawYear(plain, YEAR), second.RawYear(quoted, YEAR)
    assert a.population.equals(b.population)
    assert a.cvip_requests.equals(b.cvip_requests)
    assert a.relationships.equals(b.relationships)
    assert a.program_metrics.equals(b.program_metrics)


def test_raw_csv_with_blank_lines_at_the_end_reads_like_plain(tmp_path: Path) -> None:
    plain = exports().write(tmp_path / "plain")
    padded = exports().write(tmp_path / "padded")
    for path in padded.glob("*.csv"):
        path.write_bytes(path.read_bytes() + b"\n\r\n\n")
    a, b = second.RawYear(plain, YEAR), second.RawYear(padded, YEAR)
    assert a.cases.equals(b.cases)
    assert a.cvip_requests.equals(b.cvip_requests)
    assert a.relationships.equals(b.relationships)
    assert a.program_metrics.equals(b.program_metrics)
