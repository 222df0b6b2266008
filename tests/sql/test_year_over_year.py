"""The year-over-year rules on tiny hand-made years, through DuckDB alone: the headline figures
read last year's release (sql/published/headline_metrics.sql), the consistency rules of the check
consistent_with_previous_year (sql/audits/headline_metrics_previous_year.sql) and the band of the
check within_previous_year_band (sql/audits/previous_year_band.sql); then both checks as the
``headline_metrics`` step evaluates them (pipelines/defs/proving/across_years.py), without a run:
their one-line failures, the band's setting and the operator's acknowledgements.

Last year's release is a real one (tests/harness.py publishes it); tests/e2e/test_across_years.py
runs the same rules through the Dagster definitions, years in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.core.config import ENV_ACKNOWLEDGED_CHANGES, ENV_PREVIOUS_YEAR_BAND, SQL_DIR
from pipelines.core.year_over_year import manifest_export_rows
from pipelines.defs.proving.across_years import consistent_with_previous_year, within_previous_year_band
from pipelines.defs.resources import ProjectFolders
from pipelines.publishing.release import acknowledged_changes
from tests.exports import YearExports, case, report
from tests.harness import build_tables, publish_year

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
    exports.write(root / "raw")
    folder = publish_year(root / "raw", root / "published", 2019).link
    return Release(folder, manifest_export_rows(folder / "manifest.json"))


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


# --------------------------------------------------------------------------------------------
# The checks, as the headline_metrics step evaluates them


def published_root(release: Release | None, tmp_path: Path) -> ProjectFolders:
    """The folders of a run whose release folder holds ``release`` (None: an empty one)."""
    root = release.folder.parent if release is not None else tmp_path / "published"
    return ProjectFolders(raw_dir=str(tmp_path / "raw"), published_dir=str(root))


def failures(result: dg.AssetCheckResult) -> list[str]:
    return result.metadata["failure"].value.splitlines()


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No band and no acknowledgement set by the environment of the tests."""
    monkeypatch.delenv(ENV_PREVIOUS_YEAR_BAND, raising=False)
    monkeypatch.delenv(ENV_ACKNOWLEDGED_CHANGES, raising=False)
    return monkeypatch


@pytest.mark.guard("within_previous_year_band")
def test_the_band_check_names_each_figure_and_how_to_acknowledge_it(
    release_2019: Release, tmp_path: Path, operator: pytest.MonkeyPatch
) -> None:
    con = year_2020(with_cases(YearExports.small(2020), 7), tmp_path / "raw", release_2019)

    result = within_previous_year_band(con, 2020, published_root(release_2019, tmp_path))

    assert not result.passed
    assert failures(result) == [
        f"{figure}: 7 in 2020, 4 in the 2019 release, outside ±50% (rule: within the band of last year's "
        f"release; if the change is real, acknowledge it: impact run --acknowledge-change {figure})"
        for figure in ("cases.csv", "missing_children_cases_assisted/year")
    ]
    assert acknowledged_changes(con) == []


def test_acknowledged_figures_pass_and_go_to_the_manifest(
    release_2019: Release, tmp_path: Path, operator: pytest.MonkeyPatch
) -> None:
    con = year_2020(with_cases(YearExports.small(2020), 7), tmp_path / "raw", release_2019)
    folders = published_root(release_2019, tmp_path)

    operator.setenv(ENV_ACKNOWLEDGED_CHANGES, "cases.csv")
    one = within_previous_year_band(con, 2020, folders)
    operator.setenv(ENV_ACKNOWLEDGED_CHANGES, "cases.csv, missing_children_cases_assisted/year")
    both = within_previous_year_band(con, 2020, folders)

    assert [line.split(":")[0] for line in failures(one)] == ["missing_children_cases_assisted/year"]
    assert both.passed and failures(both) == []
    assert "(2 acknowledged)" in (both.description or "")
    # What the release writer puts in the manifest (acknowledged_changes).
    assert acknowledged_changes(con) == [
        {"figure": "cases.csv", "this_year": 7, "last_year": 4, "band": 0.5},
        {"figure": "missing_children_cases_assisted/year", "this_year": 7, "last_year": 4, "band": 0.5},
    ]


def test_the_band_is_set_by_the_environment(
    release_2019: Release, tmp_path: Path, operator: pytest.MonkeyPatch
) -> None:
    con = year_2020(with_cases(YearExports.small(2020), 7), tmp_path / "raw", release_2019)

    operator.setenv(ENV_PREVIOUS_YEAR_BAND, "1")
    result = within_previous_year_band(con, 2020, published_root(release_2019, tmp_path))

    assert result.passed and "±100%" in (result.description or "")


def test_without_last_years_release_both_checks_pass(tmp_path: Path, operator: pytest.MonkeyPatch) -> None:
    exports = with_cases(YearExports.small(2020), 40)
    exports.program_metrics.append(metric("ncic_missing_child_entries", "prior_year", 1200))
    con = year_2020(exports, tmp_path / "raw", None)
    folders = published_root(None, tmp_path)

    band, consistent = within_previous_year_band(con, 2020, folders), consistent_with_previous_year(con, 2020)

    assert band.passed and consistent.passed
    assert consistent.description == "no 2019 release to compare with"


@pytest.mark.guard("consistent_with_previous_year")
def test_the_consistency_check_names_each_figure_and_rule(release_2019: Release, tmp_path: Path) -> None:
    exports = YearExports.small(2020)
    exports.program_metrics += [
        metric("ncic_missing_child_entries", "prior_year", 1200),
        {**CUMULATIVE, "value": "4999999"},
    ]
    con = year_2020(exports, tmp_path / "raw", release_2019)

    result = consistent_with_previous_year(con, 2020)

    assert not result.passed
    assert failures(result) == [
        "headline_metrics hotline_calls/cumulative: rule \"a cumulative figure is never below last year's "
        'cumulative figure": 4,999,999 in 2020, 5,000,000 in the 2019 release',
        'headline_metrics ncic_missing_child_entries/prior_year: rule "a prior_year figure of program_metrics.csv '
        "equals the yearly figure of last year's release\": 1,200 in 2020, 1,000 in the 2019 release",
    ]
