"""The release is atomic: a run killed with SIGKILL at any moment leaves the previous release of
the year byte-for-byte intact and never a half-written file; the next run succeeds. A publication
interrupted at any file-system step leaves no litter: no orphan release, no temporary link."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from functools import partial
from pathlib import Path

import pytest

from pipelines.core.config import Folders
from pipelines.publishing import release as release_module
from tests.conftest import IMPACT, run_args
from tests.exports import YearExports, case, resolved_cases


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def impact_run(raw: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [*IMPACT, *run_args(Folders(str(raw), str(root / "published"), str(root / "warehouse")), 2020)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when(process: subprocess.Popen, moment, timeout: float = 120) -> bool:
    """SIGKILL the run's process group as soon as ``moment()`` is true; False when the run ended first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if moment():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            return True
        time.sleep(0.005)
    process.wait(timeout=60)
    return False


def test_kill_at_any_moment_leaves_previous_release_and_next_run_succeeds(tmp_path: Path) -> None:
    """Three kills, each at a moment that matters: in the middle of the run (the warehouse and the
    checks), as soon as the release's staging folder appears (its files half written), and once
    its manifest is written (the last file before the swap). The swap's own steps are
    interrupted one by one below. A run that ends before its moment is not killed."""
    old_raw, new_raw = tmp_path / "old-raw", tmp_path / "new-raw"
    exports = YearExports.small(2020)
    exports.cases += resolved_cases("T", 20)
    exports.write(old_raw)
    exports.cases.append(case("C3", "2020-08-01", "2020-08-02"))
    exports.write(new_raw)

    started = time.monotonic()
    assert impact_run(old_raw, tmp_path).wait(timeout=120) == 0
    duration = time.monotonic() - started
    release = tmp_path / "published" / "2020"
    before = snapshot(release)
    releases = tmp_path / "published" / ".releases"

    def staging(process: subprocess.Popen) -> list[Path]:
        return list(releases.glob(f"2020.partial-*-{process.pid}-*"))

    moments = {
        "in the middle of the run": lambda process, started: time.monotonic() - started > duration / 2,
        "when the staging folder appears": lambda process, started: bool(staging(process)),
        "when the manifest is staged": lambda process, started: any(
            (s / "manifest.json").exists() for s in staging(process)
        ),
    }
    seen, kills = {}, 0
    for name, moment in moments.items():
        process = impact_run(new_raw, tmp_path)
        kills += kill_when(process, partial(moment, process, time.monotonic()))
        seen[name] = snapshot(release)

    assert kills > 0
    assert impact_run(new_raw, tmp_path).wait(timeout=120) == 0
    after = snapshot(release)
    assert after != before
    for name, current in seen.items():
        # The old release or the complete new one; never anything in between.
        assert current in (before, after), f"killed {name}: a mixed or partial release"
    # Both releases kept; partial folders and temporary links of killed runs cleaned up.
    kept = sorted(p.name for p in releases.iterdir())
    assert len(kept) == 2, kept
    assert release.resolve().name in kept
    assert json.loads((release / "manifest.json").read_text())["replaces"] in kept


@pytest.mark.parametrize("failing", ["rename", "symlink_to", "replace"])
def test_publish_interrupted_at_each_file_system_step_keeps_previous_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The swap's own steps: dying at any of them leaves the link on the previous release."""
    root = tmp_path / "published"
    first = release_module.staging_folder(root, 2020)
    (first / "table.csv").write_text("year,n\n2020,1\n")
    link = release_module.publish(first, root, 2020)
    before = snapshot(link)

    second = release_module.staging_folder(root, 2020)
    (second / "table.csv").write_text("year,n\n2020,2\n")

    def die(*args, **kwargs):
        raise KeyboardInterrupt("simulated kill")

    if failing == "replace":
        monkeypatch.setattr(release_module.os, "replace", die)
    else:
        monkeypatch.setattr(Path, failing, die)
    with pytest.raises(KeyboardInterrupt):
        release_module.publish(second, root, 2020)
    monkeypatch.undo()
    assert snapshot(root / "2020") == before
    assert [p.name for p in (root / ".releases").iterdir()] == [link.resolve().name]

    third = release_module.staging_folder(root, 2020)
    (third / "table.csv").write_text("year,n\n2020,2\n")
    assert snapshot(release_module.publish(third, root, 2020)) == {"table.csv": b"year,n\n2020,2\n"}


def test_release_alone_refuses_to_publish_unchecked_tables(tmp_path: Path) -> None:
    """Materializing only `release` (as the UI allows) must not publish tables no check saw."""
    import dagster as dg

    from pipelines.definitions import all_assets, all_checks, build_resources
    from tests.conftest import folders_in

    YearExports.small(2020).write(tmp_path / "raw")
    folders = folders_in(tmp_path)
    resources = build_resources(folders)
    everything = dg.materialize([*all_assets, *all_checks], partition_key="2020", resources=resources)
    assert everything.success
    before = snapshot(tmp_path / "published" / "2020")
    alone = dg.materialize(
        [*all_assets, *all_checks],
        partition_key="2020",
        resources=resources,
        selection=dg.AssetSelection.assets("release").without_checks(),
        raise_on_error=False,
    )
    assert not alone.success
    failure = alone.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "did not run in this run" in failure
    assert snapshot(tmp_path / "published" / "2020") == before
