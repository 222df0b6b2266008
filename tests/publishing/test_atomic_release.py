"""The release is atomic: a publisher killed with SIGKILL at any step of writing the release
leaves the year's link on the previous release or on the complete new one, never on anything in
between; the next publication succeeds, keeps both releases and removes what the killed one left
(its partial folder, its temporary link). A publication interrupted at any file-system step of
the swap leaves no litter.

Each kill is a real SIGKILL, sent by the publisher to itself at the step named (a small process
that writes the year's release from a warehouse built as a run builds it, as the ``release``
asset does, without Dagster: tests/harness.py), so the moment is exact and no cleanup code runs.
tests/e2e/test_atomic_release.py kills a real ``impact run``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.accepting.ingest import changed_since_ingest, ingested_files
from pipelines.publishing import release as release_module
from pipelines.publishing.release import write_release
from tests.exports import YearExports, resolved_cases
from tests.harness import PUBLISHED_TABLES, build_year, publish_year

KILLED_PUBLISHER = """
import json, os, signal, sys
import duckdb
from pathlib import Path
from pipelines.core.sql_models import models
from pipelines.publishing import release

step, when, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
database, root, public, synthetic = sys.argv[4], Path(sys.argv[5]), json.loads(sys.argv[6]), json.loads(sys.argv[7])
module = os if step == "replace" else release
function, seen = getattr(module, step), 0

def killed(*args, **kwargs):
    global seen
    seen += 1
    if when == "before" and seen == calls:
        os.kill(os.getpid(), signal.SIGKILL)
    result = function(*args, **kwargs)
    if when == "after" and seen == calls:
        os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(module, step, killed)
with duckdb.connect(database, read_only=True) as con:
    tables = [m.name for m in models("published")]
    release.write_release(con, tables, root, 2020, [], public, synthetic)
"""
"""The release writer over a warehouse with every table built, killed by itself (SIGKILL) at a step."""

KILLS = {
    # moment: (function of pipelines.publishing.release, or os.replace; killed before or after its nth call)
    "the tables staged, public/ half written": ("export_table", "after", 14),
    "the manifest staged, not yet published": ("write_manifest", "after", 1),
    "the release folder in place, the link not swapped": ("replace", "before", 1),
    "the link swapped, the index page not rewritten": ("write_index", "before", 1),
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_publisher_killed_at_any_step_leaves_the_previous_release_or_the_new_one(tmp_path: Path) -> None:
    old_raw, new_raw, root = tmp_path / "old-raw", tmp_path / "new-raw", tmp_path / "published"
    exports = YearExports.small(2020)
    exports.cases += resolved_cases("T", 20)
    exports.write(old_raw)
    exports.cases += resolved_cases("late", 1)
    exports.write(new_raw)
    publish_year(old_raw, root, 2020)
    release = root / "2020"
    before = snapshot(release)
    # The revised year's tables, built once as a run builds them before its release.
    database = tmp_path / "2020.duckdb"
    with duckdb.connect(str(database)) as con:
        public, synthetic = build_year(con, new_raw, root, 2020)

    releases = root / ".releases"
    seen, litter = {}, {}
    for moment, (step, when, calls) in KILLS.items():
        killed = subprocess.run(
            [
                *(sys.executable, "-c", KILLED_PUBLISHER, step, when, str(calls)),
                *(str(database), str(root), json.dumps(public), json.dumps(synthetic)),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert killed.returncode == -9, (moment, killed.stderr[-3000:])
        seen[moment] = snapshot(release)
        litter[moment] = sorted(p.name for p in releases.iterdir() if ".partial-" in p.name or ".link-" in p.name)
    # What the publishers killed before the swap left behind: two partial folders, a temporary link.
    left = litter["the release folder in place, the link not swapped"]
    assert len([n for n in left if ".partial-" in n]) == 2 and len([n for n in left if ".link-" in n]) == 1, left

    with duckdb.connect(str(database), read_only=True) as con:
        write_release(con, PUBLISHED_TABLES, root, 2020, [], public, synthetic)
    after = snapshot(release)
    assert after != before
    for moment, current in seen.items():
        # The old release or the complete new one; never anything in between.
        assert current in (before, after), f"killed with {moment}: a mixed or partial release"
    assert seen["the release folder in place, the link not swapped"] == before
    assert seen["the link swapped, the index page not rewritten"] == after
    # Both releases kept; partial folders and temporary links of killed publishers removed.
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


def test_an_export_changed_during_the_run_stops_the_writer_before_it_publishes(tmp_path: Path) -> None:
    """The release hashes every export again while it writes its files (pipelines/defs/publishing/
    assets.py) and the writer asks before publishing: a changed export leaves nothing published."""
    raw, root = tmp_path / "raw", tmp_path / "published"
    YearExports.small(2020).write(raw)
    with duckdb.connect() as con:
        public, synthetic = build_year(con, raw, root, 2020)
        ingested = ingested_files(con)
        with (raw / "2020" / "cases.csv").open("a", encoding="utf-8") as cases:
            cases.write("\n")  # one byte more: a different SHA-256

        def inputs_unchanged() -> None:
            raise RuntimeError(f"changed during the run: {changed_since_ingest(ingested, raw / '2020')}")

        with pytest.raises(RuntimeError, match=r"\['cases\.csv'\]"):
            write_release(con, PUBLISHED_TABLES, root, 2020, [], public, synthetic, inputs_unchanged)
    assert not (root / "2020").exists()
    assert [p.name for p in (root / ".releases").iterdir()] == []
