"""A multi-year backfill (issue 5, part 3): two demo years running at once, into one raw, one
warehouse and one published folder, without a DuckDB lock error, and every year published.

Each year runs as its own ``impact run`` process (``run_year`` through the CLI), as a backfill
would on two cores. Every year has its own DuckDB file (``warehouse/<year>.duckdb``), so two
years never open the same database; the releases are per year too.

2020's ``headline_metrics`` reads 2019's release for its prior-year figures (a previous-partition
dependency). Run at the same time as 2019, it may or may not see that release: it must succeed
either way (program_metrics.csv carries the prior-year figures). That a run of 2020 once 2019 is
published takes them from the release: tests/e2e/test_across_years.py.
"""

from __future__ import annotations

import csv
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipelines.core.config import Folders
from pipelines.demo import write_demo_exports
from tests.conftest import IMPACT, run_args

YEARS = (2019, 2020)
SCALE = 0.0005  # every year at the same scale: prior-year figures agree across releases
PARALLEL = 2
LOCK_ERRORS = ("could not set lock", "conflicting lock", "lock on file", "database is locked")


def impact_run(year: int, folders: Folders) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*IMPACT, *run_args(folders, year)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def headline(folders: Folders, year: int) -> dict[tuple[str, str], dict[str, str]]:
    with (Path(folders.published_dir) / str(year) / "headline_metrics.csv").open(encoding="utf-8") as handle:
        return {(r["metric_id"], r["period"]): r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Folders:
    root = tmp_path_factory.mktemp("backfill")
    for year in YEARS:
        write_demo_exports(year, root / "raw", scale=SCALE)
    return Folders(str(root / "raw"), str(root / "published"), str(root / "warehouse"))


@pytest.fixture(scope="module")
def backfill(folders: Folders) -> dict[int, subprocess.CompletedProcess]:
    # Two workers: 2019 and 2020 start together.
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        runs = dict(zip(YEARS, pool.map(lambda year: impact_run(year, folders), YEARS)))
    return runs


def test_two_years_at_a_time_both_publish_without_lock_errors(
    backfill: dict[int, subprocess.CompletedProcess], folders: Folders
) -> None:
    for year, run in backfill.items():
        output = (run.stdout + run.stderr).lower()
        assert not [e for e in LOCK_ERRORS if e in output], (year, run.stderr[-3000:])
        assert run.returncode == 0, (year, run.stderr[-3000:])
        assert run.stdout.startswith(f"published {year}-") and run.stdout.endswith(" (new)\n"), run.stdout
        assert not run.stderr, run.stderr[-3000:]
    published = Path(folders.published_dir)
    for year in YEARS:
        release = published / str(year)
        assert release.is_symlink() and (release / "manifest.json").is_file(), year
        assert (release / "headline_metrics.parquet").is_file(), year
    warehouses = sorted(p.name for p in Path(folders.warehouse_dir).glob("*.duckdb"))
    assert warehouses == [f"{year}.duckdb" for year in YEARS]


def test_2020_succeeds_with_or_without_the_2019_release(
    backfill: dict[int, subprocess.CompletedProcess], folders: Folders
) -> None:
    # 2020 ran beside 2019: its prior-year figure came from 2019's release if that was already
    # published when 2020's headline_metrics ran, else from program_metrics: the same value.
    assert backfill[2020].returncode == 0
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
