"""Two years through the Dagster definitions, in any order: 2020 published before 2019 takes its
prior-year figures from program_metrics.csv; run again once 2019 is published, it reads them from
2019's release (the previous-partition dependency of ``headline_metrics``), with the same values.
That run's figures outside the band around 2019's release are published because the operator
acknowledges them (``impact run --acknowledge-change``), and its manifest records them.

The rules themselves (prior-year figures, the change from last year, both consistency rules, the
band) and both checks' refusals, one line per figure, are tested on tiny years without a run in
tests/sql/test_year_over_year.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipelines.cli import main
from pipelines.core.config import ENV_ACKNOWLEDGED_CHANGES, ENV_PREVIOUS_YEAR_BAND, Folders
from pipelines.demo import write_demo_exports
from pipelines.runner import run_year
from tests.conftest import run_args

SCALE = 0.0005
BAND = 0.2
"""±20%: of the demo years' figures, only the CyberTipline reports move more than that (+28%)."""


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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ACKNOWLEDGED_CHANGES, "")  # restored after the test: the CLI sets it
    monkeypatch.setenv(ENV_PREVIOUS_YEAR_BAND, str(BAND))
    raw = tmp_path / "raw"
    for year in (2019, 2020):
        write_demo_exports(year, raw, scale=SCALE)
    folders = Folders(str(raw), str(tmp_path / "published"), str(tmp_path / "warehouse"))

    # 2020 before 2019: no previous release, prior-year figures come from program_metrics.csv.
    outcome = run_year(2020, folders)
    assert outcome.success, outcome.failures
    alone = headline(folders, 2020)
    assert alone[("ncic_missing_child_entries", "prior_year")]["source"] != "Published release of 2019"
    assert alone[("ncic_missing_child_entries", "year")]["change_from_prior_year"] == ""
    outcome = run_year(2019, folders)
    assert outcome.success, outcome.failures
    y2019 = headline(folders, 2019)

    # 2020 again, now against 2019's release: its CyberTipline reports moved outside the band,
    # and the operator acknowledges both figures that show it.
    acknowledged = impact_run(
        folders,
        2020,
        "--acknowledge-change",
        "cybertipline_reports.parquet",
        "--acknowledge-change",
        "cybertipline_reports/year",
    )

    assert acknowledged.exit_code == 0, acknowledged.output
    reports = {year: export_rows(folders, year, "cybertipline_reports.parquet") for year in (2019, 2020)}
    assert manifest(folders, 2020)["acknowledged_changes"] == [
        {"figure": figure, "this_year": reports[2020], "last_year": reports[2019], "band": BAND}
        for figure in ("cybertipline_reports.parquet", "cybertipline_reports/year")
    ]
    checks = {c["check"]: c["passed"] for c in manifest(folders, 2020)["checks"] if c["asset"] == "headline_metrics"}
    assert checks["consistent_with_previous_year"] and checks["within_previous_year_band"]
    again = headline(folders, 2020)
    prior = again[("ncic_missing_child_entries", "prior_year")]
    assert prior["source"] == "Published release of 2019"
    assert prior["value"] == y2019[("ncic_missing_child_entries", "year")]["value"] == "421394"
    assert prior["value"] == alone[("ncic_missing_child_entries", "prior_year")]["value"]
    assert again[("cybertipline_reports", "prior_year")]["value"] == y2019[("cybertipline_reports", "year")]["value"]
    yearly = again[("cybertipline_reports", "year")]
    assert int(yearly["change_from_prior_year"]) == int(yearly["value"]) - int(
        y2019[("cybertipline_reports", "year")]["value"]
    )
