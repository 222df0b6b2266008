"""A real ``impact run`` killed with SIGKILL while it writes the release leaves the previous
release of the year byte-for-byte intact; the next run succeeds, keeps both releases and removes
what the killed run left. The release writer killed at each of its steps, and the swap
interrupted at each file-system step: tests/publishing/test_atomic_release.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.core.config import Folders
from pipelines.definitions import build_definitions, build_resources
from pipelines.runner import run_year
from tests.conftest import IMPACT, run_args
from tests.exports import YearExports, case, resolved_cases
from tests.harness import publish_year


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class KilledThenPublished:
    folders: Folders
    before: dict[str, bytes]
    """The previous release's files."""
    after_kill: dict[str, bytes]
    staged_by_the_killed_run: list[Path]
    next_run_succeeded: bool


@pytest.fixture(scope="module")
def killed_then_published(tmp_path_factory: pytest.TempPathFactory) -> KilledThenPublished:
    """A release of 2020 (written without Dagster); a real ``impact run`` of revised exports
    killed, with every process of its group, as soon as its release's staging folder appears
    (the warehouse open, the year's locks held, the run half recorded in the Dagster instance);
    then the next run of the year, in this process."""
    root = tmp_path_factory.mktemp("killed")
    old_raw, new_raw = root / "old-raw", root / "new-raw"
    exports = YearExports.small(2020)
    exports.cases += resolved_cases("T", 20)
    exports.write(old_raw)
    exports.cases.append(case("C3", "2020-08-01", "2020-08-02"))
    exports.write(new_raw)
    folders = Folders(str(new_raw), str(root / "published"), str(root / "warehouse"))
    publish_year(old_raw, Path(folders.published_dir), 2020)
    release, releases = Path(folders.published_dir) / "2020", Path(folders.published_dir) / ".releases"
    before = snapshot(release)

    process = subprocess.Popen(
        [*IMPACT, *run_args(folders, 2020)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while process.poll() is None and not list(releases.glob(f"2020.partial-*-{process.pid}-*")):
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL, "the run ended before its release was staged"
    after_kill = snapshot(release)
    staged = list(releases.glob(f"2020.partial-*-{process.pid}-*"))
    with dg.DagsterInstance.ephemeral() as instance:  # nothing reads the next run from the instance
        return KilledThenPublished(folders, before, after_kill, staged, run_year(2020, folders, instance).success)


def test_impact_run_killed_while_writing_the_release_leaves_the_previous_one_and_next_run_succeeds(
    killed_then_published: KilledThenPublished,
) -> None:
    run = killed_then_published
    assert run.staged_by_the_killed_run  # killed while its release was being written
    assert run.after_kill == run.before
    assert run.next_run_succeeded
    published = Path(run.folders.published_dir)
    release = published / "2020"
    assert snapshot(release) != run.before
    # Both releases kept; the killed run's partial folder removed.
    kept = sorted(p.name for p in (published / ".releases").iterdir())
    assert len(kept) == 2, kept
    assert release.resolve().name in kept
    assert json.loads((release / "manifest.json").read_text())["replaces"] in kept


@pytest.mark.guard("all_checks_ran")
def test_release_alone_refuses_to_publish_unchecked_tables(killed_then_published: KilledThenPublished) -> None:
    """Materializing only `release` (as the UI allows) must not publish tables no check saw in
    the same run, though every check passed in the year's previous run."""
    folders = killed_then_published.folders
    release = Path(folders.published_dir) / "2020"
    before = snapshot(release)
    alone = dg.materialize(
        build_definitions().assets,
        instance=dg.DagsterInstance.get(),  # the session's, in which `impact run` accepted the exports
        partition_key="2020",
        resources=build_resources(folders),
        selection=dg.AssetSelection.assets("release").without_checks(),
        raise_on_error=False,
    )
    assert not alone.success
    failure = alone.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "did not run in this run" in failure
    assert snapshot(release) == before
