"""The band around last year's release: a figure that moves too far fails the run, unless the
operator acknowledges it, and the acknowledgement is recorded in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipelines.cli import main
from pipelines.core.config import Folders
from tests.conftest import run_args
from tests.exports import YearExports, case


def impact_run(folders: Folders, year: int, *extra: str):
    return CliRunner().invoke(main, [*run_args(folders, year), *extra], catch_exceptions=False)


def test_a_figure_outside_the_band_fails_unless_acknowledged(folders: Folders, monkeypatch) -> None:
    monkeypatch.setenv("IMPACT_ACKNOWLEDGED_CHANGES", "")  # restored after the test: the CLI sets it
    YearExports.small(2019).write(Path(folders.raw_dir))
    assert impact_run(folders, 2019).exit_code == 0
    exports = YearExports.small(2020)
    exports.cases += [case(f"C{n}", "2020-05-01") for n in (3, 4, 5)]  # 2 -> 5 cases: +150%
    exports.write(Path(folders.raw_dir))

    refused = impact_run(folders, 2020)

    assert refused.exit_code == 1
    assert (
        "  - check headline_metrics:within_previous_year_band failed: cases.csv: 5 in 2020, 2 in the 2019 release, "
        "outside ±50% (rule: within the band of "
        "last year's release; if the change is real, acknowledge it: impact run "
        "--acknowledge-change cases.csv)"
    ) in refused.output
    assert "failed: missing_children_cases_assisted/year: 5 in 2020, 2 in the 2019 release" in refused.output
    assert not (Path(folders.published_dir) / "2020").exists()

    monkeypatch.setenv("IMPACT_PREVIOUS_YEAR_BAND", "2")  # ±200%: a configurable band
    assert impact_run(folders, 2020).exit_code == 0
    monkeypatch.delenv("IMPACT_PREVIOUS_YEAR_BAND")

    accepted = impact_run(
        folders,
        2020,
        "--acknowledge-change",
        "cases.csv",
        "--acknowledge-change",
        "missing_children_cases_assisted/year",
    )

    assert accepted.exit_code == 0, accepted.output
    manifest = json.loads((Path(folders.published_dir) / "2020" / "manifest.json").read_text())
    assert manifest["acknowledged_changes"] == [
        {"figure": "cases.csv", "this_year": 5, "last_year": 2, "band": 0.5},
        {"figure": "missing_children_cases_assisted/year", "this_year": 5, "last_year": 2, "band": 0.5},
    ]
