"""A bad export blocks the year's job and changes nothing: the release published before stays
byte for byte, the failures name file, column, rule and rows, and no raw value is printed or
recorded (each rule's own failure line is tested in tests/accepting/test_raw_validation.py)."""

from __future__ import annotations

from pathlib import Path

from pipelines.core.config import Folders
from tests.accepting.test_raw_validation import REPORTS, YEAR, no_stack_trace, run
from tests.exports import YearExports, case, report
from tests.harness import publish_year

__all__ = ["no_stack_trace"]  # autouse here too: no run of this module prints a stack trace


def test_failing_run_leaves_the_release_untouched_and_prints_no_value(folders: Folders) -> None:
    YearExports.small(YEAR).write(Path(folders.raw_dir))
    publish_year(Path(folders.raw_dir), Path(folders.published_dir), YEAR)  # the release before, without Dagster
    release = Path(folders.published_dir) / str(YEAR)
    before = {p.relative_to(release): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}
    assert before

    exports = YearExports.small(YEAR)
    exports.cases.append(case("C3", f"{YEAR}-04-01", case_type="TOP_SECRET_TYPE"))
    exports.reports.append(report(3, esp_name=None))
    exports.write(Path(folders.raw_dir))
    bad = run(folders)

    assert bad.failures
    assert 'cases.csv: column case_type: rule "one of ERU, FA, LIOM, MYA, NFA": 1 bad row, e.g. row 3' in bad.text
    assert (
        REPORTS + 'esp_name: rule "required (non-empty) when reporter_type is ESP": 1 bad row, e.g. report_id 3'
    ) in bad.text
    assert "TOP_SECRET_TYPE" not in bad.everything_recorded()
    after = {p.relative_to(release): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}
    assert after == before
