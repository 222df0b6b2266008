"""A multi-year backfill (issue 5, part 3): two years running at once, into one raw, one
warehouse and one published folder, without a DuckDB lock error, and every year published; and
`impact run` of one of its years started meanwhile exits at once, naming the process that holds it.

Each year runs as its own ``impact run`` process, as a backfill would on two cores. Every year
has its own DuckDB file (``warehouse/<year>.duckdb``), so two years never open the same
database; the releases are per year too. The years are small hand-made exports: what runs at once
is what matters here, not how many rows each reads.

2020's ``headline_metrics`` reads 2019's release for its prior-year figures (a previous-partition
dependency). Run at the same time as 2019, it may or may not see that release: it must succeed
either way (program_metrics.csv carries the prior-year figures). That a run of 2020 once 2019 is
published takes them from the release: tests/e2e/test_across_years.py.
"""

from __future__ import annotations

import csv
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from pipelines.core.config import Folders
from pipelines.core.preflight import published_lock_file, run_lock_files, year_lock
from tests.conftest import IMPACT, run_args
from tests.e2e.test_across_years import ncic
from tests.e2e.test_one_publisher import exited_at_once, run_beside
from tests.exports import YearExports

YEARS = (2019, 2020)
LOCK_ERRORS = ("could not set lock", "conflicting lock", "lock on file", "database is locked")


def exports(year: int) -> YearExports:
    """The small year, with NCIC entries of the year and of the year before: the same figures in
    both years, so 2020 passes the year-over-year checks beside 2019's release or without it."""
    year_exports = YearExports.small(year)
    year_exports.program_metrics = [ncic("year", 1000, "FBI NCIC"), ncic("prior_year", 1000, f"FBI NCIC {year - 1}")]
    return year_exports


def headline(folders: Folders, year: int) -> dict[tuple[str, str], dict[str, str]]:
    with (Path(folders.published_dir) / str(year) / "headline_metrics.csv").open(encoding="utf-8") as handle:
        return {(r["metric_id"], r["period"]): r for r in csv.DictReader(handle)}


def wait_for_holder(lock: Path, pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().startswith(f"pid {pid} "):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never took {lock}")


@dataclass
class Backfill:
    folders: Folders
    runs: dict[int, subprocess.CompletedProcess]
    again: Result
    """`impact run` of 2020 in this process, over the same release folder and a warehouse of its
    own, started once the backfill's 2020 process held the year."""
    holder: int
    """The pid of the backfill's 2020 process."""
    published_when_refused: bool
    other_warehouse: Path


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> Backfill:
    root = tmp_path_factory.mktemp("backfill")
    for year in YEARS:
        exports(year).write(root / "raw").chmod(0o700)  # the owner's alone: impact run warns of nothing
    folders = Folders(str(root / "raw"), str(root / "published"), str(root / "warehouse"))
    # Two workers: 2019 and 2020 start together.
    processes = {
        year: subprocess.Popen(
            [*IMPACT, *run_args(folders, year)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for year in YEARS
    }
    published = Path(folders.published_dir)
    holder = processes[2020].pid
    wait_for_holder(published_lock_file(published, 2020), holder)
    # Same release folder, its own warehouse (the UI and the CLI, say).
    again = run_beside(Path(folders.raw_dir), published, root / "other-warehouse")
    published_when_refused = (published / "2020").exists()
    runs = {}
    for year, process in processes.items():
        out, err = process.communicate(timeout=600)
        runs[year] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return Backfill(folders, runs, again, holder, published_when_refused, root / "other-warehouse")


def test_two_years_at_a_time_both_publish_without_lock_errors(backfill: Backfill) -> None:
    for year, run in backfill.runs.items():
        output = (run.stdout + run.stderr).lower()
        assert not [e for e in LOCK_ERRORS if e in output], (year, run.stderr[-3000:])
        assert run.returncode == 0, (year, run.stderr[-3000:])
        assert run.stdout.startswith(f"published {year}-") and run.stdout.endswith(" (new)\n"), run.stdout
        assert not run.stderr, run.stderr[-3000:]
    published = Path(backfill.folders.published_dir)
    for year in YEARS:
        release = published / str(year)
        assert release.is_symlink() and (release / "manifest.json").is_file(), year
        assert (release / "headline_metrics.parquet").is_file(), year
    warehouses = sorted(p.name for p in Path(backfill.folders.warehouse_dir).glob("*.duckdb"))
    assert warehouses == [f"{year}.duckdb" for year in YEARS]


def test_2020_succeeds_with_or_without_the_2019_release(backfill: Backfill) -> None:
    # 2020 ran beside 2019: its prior-year figure came from 2019's release if that was already
    # published when 2020's headline_metrics ran, else from program_metrics: the same value.
    folders = backfill.folders
    assert backfill.runs[2020].returncode == 0
    first = headline(folders, 2020)[("ncic_missing_child_entries", "prior_year")]
    with (Path(folders.raw_dir) / "2020" / "program_metrics.csv").open(encoding="utf-8") as handle:
        exported = next(
            r
            for r in csv.DictReader(handle)
            if (r["metric_id"], r["period"]) == ("ncic_missing_child_entries", "prior_year")
        )
    assert first["source"] in ("Published release of 2019", exported["source"])
    assert first["value"] == exported["value"]
    assert first["value"] == headline(folders, 2019)[("ncic_missing_child_entries", "year")]["value"]


def test_a_run_of_a_year_held_by_a_real_run_exits_at_once_naming_it(backfill: Backfill) -> None:
    """The second run does no work (no warehouse file, no release) and takes nothing from the
    first, which publishes: no partial folder left, nothing of the winner lost."""
    exited_at_once(backfill.again, backfill.holder)
    assert not (backfill.other_warehouse / "2020.duckdb").exists()
    assert not backfill.published_when_refused
    assert backfill.runs[2020].returncode == 0, backfill.runs[2020].stderr[-3000:]
    published, warehouse = Path(backfill.folders.published_dir), Path(backfill.folders.warehouse_dir)
    releases = {year: (published / str(year)).resolve() for year in YEARS}
    assert (releases[2020] / "manifest.json").is_file() and (releases[2020] / "report.html").is_file()
    kept = sorted(p.name for p in (published / ".releases").iterdir())
    assert kept == sorted(release.name for release in releases.values())
    # Once the first run has ended, the year is free again: its locks can be taken.
    with year_lock(2020, run_lock_files(2020, published, warehouse)):
        pass
