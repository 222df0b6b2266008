"""Several years: prior-year figures from last year's release, consistency checks across years,
the change from last year, and re-materializing years in any order."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.config import Folders
from pipelines.demo import write_demo_exports
from pipelines.runner import run_year

SCALE = 0.0005


def headline(folders: Folders, year: int) -> dict[tuple[str, str], dict[str, str]]:
    with (Path(folders.published_dir) / str(year) / "headline_metrics.csv").open(encoding="utf-8") as handle:
        return {(r["metric_id"], r["period"]): r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("years") / "raw"
    for year in (2019, 2020, 2021):
        write_demo_exports(year, raw, scale=SCALE)
    return raw


def folders_for(raw: Path, root: Path) -> Folders:
    return Folders(str(raw), str(root / "published"), str(root / "warehouse"))


def test_years_in_any_order_give_consistent_figures(raw: Path, tmp_path: Path) -> None:
    folders = folders_for(raw, tmp_path)
    # 2020 before 2019: no previous release, prior-year figures come from program_metrics.csv.
    assert run_year(2020, folders).success
    alone = headline(folders, 2020)
    assert alone[("ncic_missing_child_entries", "prior_year")]["source"] != "Published release of 2019"
    assert alone[("ncic_missing_child_entries", "year")]["change_from_prior_year"] == ""

    for year in (2019, 2020, 2021):
        outcome = run_year(year, folders)
        assert outcome.success, outcome.failures
    y2019, y2020, y2021 = (headline(folders, y) for y in (2019, 2020, 2021))

    prior = y2020[("ncic_missing_child_entries", "prior_year")]
    assert prior["source"] == "Published release of 2019"
    assert prior["value"] == y2019[("ncic_missing_child_entries", "year")]["value"] == "421394"
    assert prior["value"] == alone[("ncic_missing_child_entries", "prior_year")]["value"]
    reports = y2020[("cybertipline_reports", "prior_year")]
    assert reports["value"] == y2019[("cybertipline_reports", "year")]["value"]

    change = y2021[("cybertipline_reports", "year")]["change_from_prior_year"]
    assert int(change) == int(y2021[("cybertipline_reports", "year")]["value"]) - int(
        y2020[("cybertipline_reports", "year")]["value"]
    )
    for key, row in y2021.items():
        if key[1] == "cumulative" and key in y2020:
            assert int(row["value"]) >= int(y2020[key]["value"]), key


def _rewrite_metric(raw: Path, year: int, metric: str, period: str, value: int) -> None:
    path = raw / str(year) / "program_metrics.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        value=pl.when((pl.col("metric_id") == metric) & (pl.col("period") == period))
        .then(pl.lit(str(value)))
        .otherwise(pl.col("value"))
    )
    frame.write_csv(path)


def copy_years(raw: Path, target: Path, years: tuple[int, ...]) -> Path:
    """A private copy of some demo years, for a test that edits an export."""
    for year in years:
        shutil.copytree(raw / str(year), target / str(year))
    return target


def test_figures_disagreeing_with_last_release_block_publication(raw: Path, tmp_path: Path) -> None:
    """Both rules of the check, broken in one run, each named: a prior-year figure that differs
    from last year's release, and a cumulative figure going down."""
    own_raw = copy_years(raw, tmp_path / "raw", (2019, 2020))
    folders = folders_for(own_raw, tmp_path)
    assert run_year(2019, folders).success
    before = headline(folders, 2019)[("hotline_calls", "cumulative")]["value"]
    _rewrite_metric(own_raw, 2020, "ncic_missing_child_entries", "prior_year", 400000)
    _rewrite_metric(own_raw, 2020, "hotline_calls", "cumulative", int(before) - 1)
    outcome = run_year(2020, folders)
    assert not outcome.success
    text = "\n".join(outcome.failures)
    assert "consistent_with_previous_year" in text
    assert "ncic_missing_child_entries/prior_year" in text and "400,000 in 2020, 421,394 in the 2019 release" in text
    assert "never below last year's cumulative figure" in text
    assert not (Path(folders.published_dir) / "2020").exists()
