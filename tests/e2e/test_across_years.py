"""Two years through the Dagster definitions, in any order: 2020 published before 2019 takes its
prior-year figures from program_metrics.csv; run again once 2019 is published, it reads them from
2019's release (the previous-partition dependency of ``headline_metrics``), with the same values.
That run's figures outside the band around 2019's release (its cases) are published because the
operator acknowledges them (``impact run --acknowledge-change``), and its manifest records them.

The years are small hand-made exports: what the definitions add to the rules is which release a
run reads and when, not how many rows it reads. The rules themselves (prior-year figures, the
change from last year, both consistency rules, the band) and both checks' refusals, one line per
figure, are tested on tiny years without a run in tests/sql/test_year_over_year.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner, Result

from pipelines.cli import main
from pipelines.core.config import ENV_ACKNOWLEDGED_CHANGES, ENV_PREVIOUS_YEAR_BAND, Folders
from pipelines.runner import run_year
from tests.conftest import run_args
from tests.exports import YearExports, case

BAND = 0.2
CASES = {2019: 4, 2020: 7}
"""Of the two years' figures only the cases move outside the band (+75%); every other export has
as many rows in both years."""


def exports(year: int) -> YearExports:
    """The small year with ``CASES[year]`` cases, and NCIC entries of the year and of the year
    before: 2020's prior-year figure is 2019's yearly figure, as the check of consistency asks."""
    year_exports = YearExports.small(year)
    year_exports.cases = [case(f"C{n}", f"{year}-05-01") for n in range(CASES[year])]
    year_exports.program_metrics = [
        ncic("year", 1000 + 100 * (year - 2019), "FBI NCIC"),
        ncic("prior_year", 1000 + 100 * (year - 2020), f"FBI NCIC {year - 1}"),
    ]
    return year_exports


def ncic(period: str, value: int, source: str) -> dict[str, str]:
    return {
        "metric_id": "ncic_missing_child_entries",
        "period": period,
        "value": str(value),
        "since": "",
        "source": source,
    }


def headline(folders: Folders, year: int) -> dict[tuple[str, str], dict[str, str]]:
    with (Path(folders.published_dir) / str(year) / "headline_metrics.csv").open(encoding="utf-8") as handle:
        return {(r["metric_id"], r["period"]): r for r in csv.DictReader(handle)}


def manifest(folders: Folders, year: int) -> dict:
    return json.loads((Path(folders.published_dir) / str(year) / "manifest.json").read_text(encoding="utf-8"))


def export_rows(folders: Folders, year: int, file_name: str) -> int:
    return next(int(i["rows"]) for i in manifest(folders, year)["inputs"] if Path(i["path"]).name == file_name)


def impact_run(folders: Folders, year: int, *extra: str) -> Result:
    return CliRunner().invoke(main, [*run_args(folders, year), *extra], catch_exceptions=False)


def test_years_in_any_order_give_consistent_figures_and_a_change_outside_the_band_is_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance
) -> None:
    monkeypatch.setenv(ENV_ACKNOWLEDGED_CHANGES, "")  # restored after the test: the CLI sets it
    monkeypatch.setenv(ENV_PREVIOUS_YEAR_BAND, str(BAND))
    raw = tmp_path / "raw"
    for year in (2019, 2020):
        exports(year).write(raw)
    folders = Folders(str(raw), str(tmp_path / "published"), str(tmp_path / "warehouse"))

    # 2020 before 2019: no previous release, prior-year figures come from program_metrics.csv.
    outcome = run_year(2020, folders, instance)
    assert outcome.success, outcome.failures
    alone = headline(folders, 2020)
    assert alone[("ncic_missing_child_entries", "prior_year")]["source"] == "FBI NCIC 2019"
    assert alone[("ncic_missing_child_entries", "year")]["change_from_prior_year"] == ""
    outcome = run_year(2019, folders, instance)
    assert outcome.success, outcome.failures
    y2019 = headline(folders, 2019)

    # 2020 again, now against 2019's release: its cases moved outside the band, and the operator
    # acknowledges both figures that show it.
    acknowledged = impact_run(
        folders,
        2020,
        "--acknowledge-change",
        "cases.csv",
        "--acknowledge-change",
        "missing_children_cases_assisted/year",
    )

    assert acknowledged.exit_code == 0, acknowledged.output
    cases = {year: export_rows(folders, year, "cases.csv") for year in (2019, 2020)}
    assert cases == CASES
    assert manifest(folders, 2020)["acknowledged_changes"] == [
        {"figure": figure, "this_year": CASES[2020], "last_year": CASES[2019], "band": BAND}
        for figure in ("cases.csv", "missing_children_cases_assisted/year")
    ]
    checks = {c["check"]: c["passed"] for c in manifest(folders, 2020)["checks"] if c["asset"] == "headline_metrics"}
    assert checks["consistent_with_previous_year"] and checks["within_previous_year_band"]
    again = headline(folders, 2020)
    prior = again[("ncic_missing_child_entries", "prior_year")]
    assert prior["source"] == "Published release of 2019"
    assert prior["value"] == y2019[("ncic_missing_child_entries", "year")]["value"] == "1000"
    assert prior["value"] == alone[("ncic_missing_child_entries", "prior_year")]["value"]
    assert again[("cybertipline_reports", "prior_year")]["value"] == y2019[("cybertipline_reports", "year")]["value"]
    yearly = again[("missing_children_cases_assisted", "year")]
    assert yearly["value"] == str(CASES[2020])
    assert int(yearly["change_from_prior_year"]) == CASES[2020] - CASES[2019]
