"""Two years through the Dagster definitions, in any order: 2020 published before 2019 takes its
prior-year figures from program_metrics.csv; run again once 2019 is published, it reads them from
2019's release (the previous-partition dependency of ``headline_metrics``). A year whose figures
disagree with last year's release, or move outside the band around it, is refused with one line
per figure, and publishes once the operator acknowledges the change; the manifest records it.

The rules themselves (prior-year figures, the change from last year, both consistency rules, the
band) are tested on tiny years through DuckDB alone in tests/sql/test_year_over_year.py.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipelines.cli import main
from pipelines.core.config import ENV_ACKNOWLEDGED_CHANGES, ENV_PREVIOUS_YEAR_BAND, Folders
from pipelines.demo import write_demo_exports
from pipelines.runner import run_year
from tests.conftest import run_args

SCALE = 0.0005
BAND = 0.1
"""±10%: the demo years' CyberTipline reports move more than that (+28%)."""


def headline(folders: Folders, year: int) -> dict[tuple[str, str], dict[str, str]]:
    with (Path(folders.published_dir) / str(year) / "headline_metrics.csv").open(encoding="utf-8") as handle:
        return {(r["metric_id"], r["period"]): r for r in csv.DictReader(handle)}


def manifest(folders: Folders, year: int) -> dict:
    return json.loads((Path(folders.published_dir) / str(year) / "manifest.json").read_text(encoding="utf-8"))


def export_rows(folders: Folders, year: int, file_name: str) -> int:
    return next(int(i["rows"]) for i in manifest(folders, year)["inputs"] if Path(i["path"]).name == file_name)


def impact_run(folders: Folders, year: int, *extra: str) -> Result:
    return CliRunner().invoke(main, [*run_args(folders, year), *extra], catch_exceptions=False)


def _rewrite_metric(raw: Path, year: int, metric: str, period: str, value: int) -> None:
    path = raw / str(year) / "program_metrics.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if (row["metric_id"], row["period"]) == (metric, period):
            row["value"] = str(value)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_years_in_any_order_give_consistent_figures_and_changes_are_refused_until_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ACKNOWLEDGED_CHANGES, "")  # restored after the test: the CLI sets it
    monkeypatch.delenv(ENV_PREVIOUS_YEAR_BAND, raising=False)
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

    # 2020 again, now against 2019's release, with figures that disagree with it (a prior-year
    # figure, a cumulative figure going down) and a band of ±10%: refused, each figure named.
    monkeypatch.setenv(ENV_PREVIOUS_YEAR_BAND, str(BAND))
    metrics = raw / "2020" / "program_metrics.csv"
    exported = metrics.read_bytes()
    hotline = int(y2019[("hotline_calls", "cumulative")]["value"])
    _rewrite_metric(raw, 2020, "ncic_missing_child_entries", "prior_year", 400000)
    _rewrite_metric(raw, 2020, "hotline_calls", "cumulative", hotline - 1)
    release = Path(folders.published_dir) / "2020"
    published = manifest(folders, 2020)

    refused = impact_run(folders, 2020)

    assert refused.exit_code == 1, refused.output
    text = refused.output
    ncic = int(y2019[("ncic_missing_child_entries", "year")]["value"])
    assert (
        "check headline_metrics:consistent_with_previous_year failed: headline_metrics "
        'ncic_missing_child_entries/prior_year: rule "a prior_year figure of program_metrics.csv equals the '
        f"yearly figure of last year's release\": 400,000 in 2020, {ncic:,} in the 2019 release"
    ) in text
    assert (
        "headline_metrics hotline_calls/cumulative: rule \"a cumulative figure is never below last year's "
        f'cumulative figure": {hotline - 1:,} in 2020, {hotline:,} in the 2019 release'
    ) in text
    reports = {year: export_rows(folders, year, "cybertipline_reports.parquet") for year in (2019, 2020)}
    assert (
        "check headline_metrics:within_previous_year_band failed: cybertipline_reports.parquet: "
        f"{reports[2020]:,} in 2020, {reports[2019]:,} in the 2019 release, outside ±10% (rule: within the band "
        "of last year's release; if the change is real, acknowledge it: impact run --acknowledge-change "
        "cybertipline_reports.parquet)"
    ) in text
    figures = re.findall(r"--acknowledge-change (\S+)\)$", text, re.MULTILINE)
    assert "cybertipline_reports.parquet" in figures and "cybertipline_reports/year" in figures
    assert manifest(folders, 2020) == published and release.is_symlink()

    # The figures restored, every change outside the band acknowledged: published, recorded.
    metrics.write_bytes(exported)
    acknowledged = impact_run(folders, 2020, *[a for figure in figures for a in ("--acknowledge-change", figure)])

    assert acknowledged.exit_code == 0, acknowledged.output
    recorded = manifest(folders, 2020)["acknowledged_changes"]
    assert [change["figure"] for change in recorded] == sorted(figures)
    assert {
        "figure": "cybertipline_reports.parquet",
        "this_year": reports[2020],
        "last_year": reports[2019],
        "band": BAND,
    } in recorded
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
