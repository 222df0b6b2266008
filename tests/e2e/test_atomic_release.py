"""The release is atomic: a run killed with SIGKILL at any moment leaves the previous release of
the year byte-for-byte intact and never a half-written file; the next run succeeds. A publication
interrupted at any file-system step leaves no litter: no orphan release, no temporary link."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.publishing import release as release_module
from tests.exports import YearExports, case

IMPACT = [sys.executable, "-m", "pipelines.cli"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def impact_run(raw: Path, root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *IMPACT,
            "run",
            "--year",
            "2020",
            "--raw-dir",
            str(raw),
            "--out-dir",
            str(root / "published"),
            "--warehouse-dir",
            str(root / "warehouse"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_kill_at_any_moment_leaves_previous_release_and_next_run_succeeds(tmp_path: Path) -> None:
    old_raw, new_raw = tmp_path / "old-raw", tmp_path / "new-raw"
    exports = YearExports.small(2020)
    exports.write(old_raw)
    exports.cases.append(case("C3", "2020-08-01", "", "NFA", 9, "AI", "OH"))
    exports.write(new_raw)

    assert impact_run(old_raw, tmp_path).wait(timeout=120) == 0
    release = tmp_path / "published" / "2020"
    before = snapshot(release)
    # What a complete run on the new exports publishes after the old ones (bytes do not depend on
    # the folder; the new release names the old one it replaces).
    assert impact_run(old_raw, tmp_path / "elsewhere").wait(timeout=120) == 0
    started = time.monotonic()
    assert impact_run(new_raw, tmp_path / "elsewhere").wait(timeout=120) == 0
    duration = time.monotonic() - started
    after = snapshot(tmp_path / "elsewhere" / "published" / "2020")
    assert after != before

    kills = 0
    for point in (0.3, 0.5, 0.7, 0.85, 0.95, 1.0):  # share of a full run's time
        process = impact_run(new_raw, tmp_path)
        time.sleep(duration * point)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        current = snapshot(release)
        # The old release or the complete new one; never anything in between.
        assert current in (before, after), f"killed at {point:.0%}: a mixed or partial release"
        if current == after:
            break
        assert current == before
    assert kills > 0
    assert impact_run(new_raw, tmp_path).wait(timeout=120) == 0
    assert snapshot(release) == after
    kept = sorted(p.name for p in (tmp_path / "published" / ".releases").iterdir())
    # Both releases kept; partial folders and temporary links of killed runs cleaned up.
    assert kept == sorted(p.name for p in (tmp_path / "elsewhere" / "published" / ".releases").iterdir())
    assert len(kept) == 2, kept


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
