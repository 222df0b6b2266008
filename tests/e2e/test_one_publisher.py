"""One publisher per year, and a run that cannot write stops before working.

A second run of a year, sharing the release folder or the warehouse with a run in progress,
exits at once with one line naming the holder and exit code 75, and touches no file of the other;
a Dagster run (UI, schedule) of a busy year fails before its first step. A release or warehouse
folder that cannot be written is reported before the run starts (exit code 3) and nothing is
left behind. Tests run as root, which ignores permission bits: an unwritable folder here is one
whose parent is a regular file, which no user can write into.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.core.config import Folders
from pipelines.core.preflight import (
    BUSY_EXIT_CODE,
    UNWRITABLE_EXIT_CODE,
    published_lock_file,
    run_lock_files,
    year_lock,
)
from pipelines.runner import run_year
from tests.conftest import IMPACT, run_args
from tests.exports import YearExports


def impact_run(raw: Path, published: Path, warehouse: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [*IMPACT, *run_args(Folders(str(raw), str(published), str(warehouse)), 2020)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def wait_for_holder(lock: Path, pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if lock.exists() and lock.read_text().startswith(f"pid {pid} "):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never took {lock}")


@contextmanager
def holding(lock_files: str) -> Iterator[int]:
    """A tiny process holding the year's locks ``lock_files`` (a Python expression over
    pipelines.core.preflight and Path) until the block ends; yields its pid."""
    code = (
        "import sys; from pathlib import Path\n"
        "from pipelines.core.preflight import year_lock, run_lock_files, published_lock_file\n"
        f"with year_lock(2020, {lock_files}):\n"
        "    print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        yield holder.pid
    finally:
        holder.communicate("", timeout=30)


def refused(published: Path, warehouse: Path, holder: int, raw: Path) -> None:
    """``impact run`` of 2020 over ``published`` and ``warehouse`` exits at once with code 75 and
    one line naming the holder; it does not wait for the lock (it would then publish and exit 0)
    and does no work: no warehouse file, no release. No timing: the machine may be busy."""
    result = CliRunner().invoke(main, run_args(Folders(str(raw), str(published), str(warehouse)), 2020))
    assert result.exit_code == BUSY_EXIT_CODE, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"year 2020 is already being published by pid {holder} on {socket.gethostname()}, started 20" in lines[0]
    assert "lock" in lines[0].lower() and "IO Error" not in result.stderr and result.stdout == ""
    assert not (warehouse / "2020.duckdb").exists()
    assert not (published / "2020").exists()


def test_a_run_of_a_year_held_by_a_real_run_exits_at_once_naming_it(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    YearExports.small(2020).write(raw)
    published, warehouse = tmp_path / "published", tmp_path / "warehouse"
    first = impact_run(raw, published, warehouse)
    wait_for_holder(published_lock_file(published, 2020), first.pid)
    # Same release folder, its own warehouse (the UI and the CLI, say).
    refused(published, tmp_path / "other-warehouse", first.pid, raw)

    _, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    release = (published / "2020").resolve()
    assert (release / "manifest.json").is_file() and (release / "report.html").is_file()
    kept = [p.name for p in (published / ".releases").iterdir()]
    assert kept == [release.name]  # no partial folder left, nothing of the winner lost
    # Once the first run has ended, the year is free again: its locks can be taken.
    with year_lock(2020, run_lock_files(2020, published, warehouse)):
        pass


def test_a_run_sharing_either_folder_with_the_holder_of_the_year_exits_at_once(tmp_path: Path) -> None:
    """The same release folder with another warehouse, the same warehouse with another release
    folder: each is refused while a process holds the year's locks of a run (pipelines.core.preflight)."""
    raw = tmp_path / "raw"
    YearExports.small(2020).write(raw)
    published, warehouse = tmp_path / "published", tmp_path / "warehouse"
    with holding(f"run_lock_files(2020, Path({str(published)!r}), Path({str(warehouse)!r}))") as holder:
        refused(published, tmp_path / "other-warehouse", holder, raw)
        refused(tmp_path / "other-published", warehouse, holder, raw)


def test_dagster_run_of_a_busy_year_fails_before_any_step(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    raw = tmp_path / "raw"
    YearExports.small(2020).write(raw)
    published = tmp_path / "published"
    with holding(f"[published_lock_file(Path({str(published)!r}), 2020)]") as holder:
        outcome = run_year(2020, Folders(str(raw), str(published), str(tmp_path / "warehouse")), instance)
    assert not outcome.success
    assert len(outcome.failures) == 1, outcome.failures
    assert f"year 2020 is already being published by pid {holder}" in outcome.failures[0]
    assert not (published / ".releases").exists()
    assert not (tmp_path / "warehouse" / "2020.duckdb").exists()


def test_unwritable_folders_are_reported_before_the_run_starts(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    raw = tmp_path / "raw"
    YearExports.small(2020).write(raw)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    before = files(tmp_path)
    cases = [
        (blocker / "published", tmp_path / "warehouse", "release folder", blocker / "published"),
        (tmp_path / "published", blocker / "warehouse", "warehouse folder", blocker / "warehouse"),
    ]
    for published, warehouse, what, where in cases:
        result = CliRunner().invoke(main, run_args(Folders(str(raw), str(published), str(warehouse)), 2020))
        assert result.exit_code == UNWRITABLE_EXIT_CODE, result.output
        assert result.stderr == f"impact run: cannot write to the {what} {where}: Not a directory\n"
        # Nothing left behind: no folder created for the other, no warehouse, no release.
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "raw"]
        assert files(tmp_path) == before

    outcome = run_year(2020, Folders(str(raw), str(blocker / "published"), str(tmp_path / "warehouse")), instance)
    assert outcome.failures == [
        f"run failed: cannot write to the release folder {blocker / 'published'}: Not a directory"
    ]
