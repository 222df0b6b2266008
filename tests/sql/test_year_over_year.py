"""The year-over-year rules on tiny hand-made years, through DuckDB alone: the headline figures
read last year's release (sql/published/headline_metrics.sql), the consistency rules of the check
consistent_with_previous_year (sql/audits/headline_metrics_previous_year.sql) and the band of the
check within_previous_year_band (sql/audits/previous_year_band.sql).

Last year's release is the 2019 year's ``headline_metrics`` as the release writes it and its
exports' row counts as its manifest records them (``ingest_log``); tests/e2e/test_across_years.py
runs the same rules through the Dagster definitions, with the acknowledgement of a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.core.config import SQL_DIR
from pipelines.publishing.release import export_table
from tests.exports import YearExports, case, report
from tests.harness import build_tables

BAND_AUDIT = (SQL_DIR / "audits" / "previous_year_band.sql").read_text(encoding="utf-8")
CONSISTENCY_AUDIT = (SQL_DIR / "audits" / "headline_metrics_previous_year.sql").read_text(encoding="utf-8")
CUMULATIVE = {
    "metric_id": "hotline_calls",
    "period": "cumulative",
    "value": "5000000",
    "since": "1984",
    "source": "Hotline",
}


def with_cases(exports: YearExports, count: int) -> YearExports:
    """``exports`` with ``count`` cases, every one in the year's population."""
    exports.cases = [case(f"C{n}", f"{exports.year}-05-01") for n in range(count)]
    return exports


def metric(metric_id: str, period: str, value: int, source: str = "FBI NCIC") -> dict[str, str]:
    return {"metric_id": metric_id, "period": period, "value": str(value), "since": "", "source": source}


@dataclass(frozen=True)
class Release:
    folder: Path
    export_rows: dict[str, int]
    """Each export's row count, as the manifest records it."""


@pytest.fixture(scope="module")
def release_2019(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """2019: four cases, two reports (one public), NCIC entries 1,000, 5,000,000 hotline calls."""
    root = tmp_path_factory.mktemp("release_2019")
    exports = with_cases(YearExports.small(2019), 4)
    exports.program_metrics.append(CUMULATIVE)
    folder = root / "published" / "2019"
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        build_tables(con, exports.write(root / "raw"))
        export_table(con, "headline_metrics", folder)
        rows = dict(con.sql("SELECT file_name, rows FROM ingest_log").fetchall())
    return Release(folder, rows)


def year_2020(exports: YearExports, raw: Path, release: Release | None) -> duckdb.DuckDBPyConnection:
    """2020's tables, reading ``release`` as last year's (None: 2019 was not released), and last
    year's export row counts as the band check loads them from its manifest."""
    con = duckdb.connect()
    build_tables(con, exports.write(raw), release.folder if release is not None else None)
    con.sql("CREATE TEMP TABLE previous_year_export_rows (figure VARCHAR, rows BIGINT)")
    if release is not None:
        con.executemany("INSERT INTO previous_year_export_rows VALUES (?, ?)", list(release.export_rows.items()))
    return con


def headline(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple]:
    rows = con.sql("SELECT metric_id, period, value, source, change_from_prior_year FROM headline_metrics").fetchall()
    return {(m, p): (value, source, change) for m, p, value, source, change in rows}


def outside_band(con: duckdb.DuckDBPyConnection, band: float = 0.5) -> list[tuple]:
    return con.sql(BAND_AUDIT, params={"band": band}).fetchall()


def inconsistent(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.sql(CONSISTENCY_AUDIT).fetchall()


# --------------------------------------------------------------------------------------------
# Prior-year figures and the change from last year (headline_metrics.sql)


def test_prior_year_figures_come_from_last_years_release_when_there_is_one(
    release_2019: Release, tmp_path: Path
) -> None:
    exports = with_cases(YearExports.small(2020), 5)
    exports.program_metrics.append(metric("ncic_missing_child_entries", "prior_year", 1000, "FBI NCIC 2019"))

    released = headline(year_2020(exports, tmp_path / "raw", release_2019))
    alone = headline(year_2020(exports, tmp_path / "raw", None))

    assert released[("ncic_missing_child_entries", "prior_year")] == (1000, "Published release of 2019", None)
    assert released[("cybertipline_reports", "prior_year")] == (2, "Published release of 2019", None)
    # Without a release of 2019 the export's own prior-year figure is published, and no change.
    assert alone[("ncic_missing_child_entries", "prior_year")] == (1000, "FBI NCIC 2019", None)
    assert ("cybertipline_reports", "prior_year") not in alone


def test_the_change_from_last_year_is_this_years_figure_minus_last_years(release_2019: Release, tmp_path: Path) -> None:
    exports = with_cases(YearExports.small(2020), 5)
    exports.reports.append(report(3, year=2020))
    exports.program_metrics[0] = metric("ncic_missing_child_entries", "year", 950)

    released = headline(year_2020(exports, tmp_path / "raw", release_2019))
    alone = headline(year_2020(exports, tmp_path / "raw", None))

    assert released[("missing_children_cases_assisted", "year")][::2] == (5, 1)
    assert released[("cybertipline_reports", "year")][::2] == (3, 1)
    assert released[("ncic_missing_child_entries", "year")][::2] == (950, -50)
    assert all(change is None for _, _, change in alone.values())


# --------------------------------------------------------------------------------------------
# consistent_with_previous_year (headline_metrics_previous_year.sql)


def test_figures_consistent_with_last_years_release_break_no_rule(release_2019: Release, tmp_path: Path) -> None:
    exports = YearExports.small(2020)
    exports.program_metrics += [
        metric("ncic_missing_child_entries", "prior_year", 1000),
        {**CUMULATIVE, "value": "5000000"},  # unchanged: never below is enough
    ]

    assert inconsistent(year_2020(exports, tmp_path / "raw", release_2019)) == []


def test_a_prior_year_figure_differing_from_last_years_release_breaks_the_rule(
    release_2019: Release, tmp_path: Path
) -> None:
    exports = YearExports.small(2020)
    exports.program_metrics.append(metric("ncic_missing_child_entries", "prior_year", 1200))

    assert inconsistent(year_2020(exports, tmp_path / "raw", release_2019)) == [
        (
            "ncic_missing_child_entries",
            "prior_year",
            "a prior_year figure of program_metrics.csv equals the yearly figure of last year's release",
            1200,
            1000,
        )
    ]


def test_a_cumulative_figure_below_last_years_breaks_the_rule(release_2019: Release, tmp_path: Path) -> None:
    exports = YearExports.small(2020)
    exports.program_metrics.append({**CUMULATIVE, "value": "4999999"})

    assert inconsistent(year_2020(exports, tmp_path / "raw", release_2019)) == [
        (
            "hotline_calls",
            "cumulative",
            "a cumulative figure is never below last year's cumulative figure",
            4999999,
            5000000,
        )
    ]


def test_without_last_years_release_no_figure_is_compared(tmp_path: Path) -> None:
    exports = YearExports.small(2020)
    exports.program_metrics += [metric("ncic_missing_child_entries", "prior_year", 1200), {**CUMULATIVE, "value": "1"}]

    assert inconsistent(year_2020(exports, tmp_path / "raw", None)) == []


# --------------------------------------------------------------------------------------------
# within_previous_year_band (previous_year_band.sql)


@pytest.mark.parametrize(
    "cases, outside",
    [(4, False), (6, False), (7, True), (2, False), (1, True)],
    ids=["same", "plus-50%", "plus-75%", "minus-50%", "minus-75%"],
)
def test_a_figure_moving_more_than_the_band_is_outside_it(
    cases: int, outside: bool, release_2019: Release, tmp_path: Path
) -> None:
    """The export's row count and its table's total (the first figure the metric catalog computes
    from it), both ways; a move of exactly the band is within it."""
    con = year_2020(with_cases(YearExports.small(2020), cases), tmp_path / "raw", release_2019)

    expected = [("cases.csv", cases, 4), ("missing_children_cases_assisted/year", cases, 4)] if outside else []
    assert outside_band(con) == expected


def test_the_band_is_a_parameter(release_2019: Release, tmp_path: Path) -> None:
    con = year_2020(with_cases(YearExports.small(2020), 12), tmp_path / "raw", release_2019)  # +200%

    assert [figure for figure, *_ in outside_band(con, 1.5)] == ["cases.csv", "missing_children_cases_assisted/year"]
    assert outside_band(con, 2.0) == []


def test_a_part_of_a_table_may_double(release_2019: Release, tmp_path: Path) -> None:
    """Public reports go from 1 to 2 (+100%), the reports' total from 2 to 3 (+50%): only the
    table's total is banded."""
    exports = with_cases(YearExports.small(2020), 4)
    exports.reports.append(report(3, "PUBLIC", None, year=2020))
    con = year_2020(exports, tmp_path / "raw", release_2019)

    assert headline(con)[("cybertipline_public_reports", "year")][::2] == (2, 1)
    assert outside_band(con) == []


def test_without_last_years_release_no_figure_is_banded(tmp_path: Path) -> None:
    con = year_2020(with_cases(YearExports.small(2020), 40), tmp_path / "raw", None)

    assert outside_band(con) == []
