"""Releases as a revision history: every release kept byte for byte, the current one linked, each
manifest naming the release it replaced, `impact releases` and `impact diff` reading the history,
and the report of a revised year saying how many cells changed."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from click.testing import CliRunner

from pipelines.cli import main
from pipelines.publishing import release as release_module
from pipelines.publishing.diff import diff_public, diff_releases
from tests.exports import YearExports, case, resolved_cases
from tests.harness import publish_year


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def impact(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.output


def publish(tmp_path: Path, exports: YearExports, outcome: str | None = None) -> Path:
    """Publish 2020 from ``exports`` as the release asset does, without Dagster
    (tests/harness.py); ``outcome``: what the publication must say it did to the release
    (tests/e2e/test_operating.py reads it from real runs)."""
    exports.write(tmp_path / "raw")
    publication = publish_year(tmp_path / "raw", tmp_path / "published", 2020)
    release = (tmp_path / "published" / "2020").resolve()
    assert publication.release == release
    if outcome is not None:
        assert f"{publication.release.name} ({publication.outcome})" == f"{release.name} ({outcome})"
    return release


def test_revised_year_keeps_both_releases_and_diff_shows_the_moved_case(tmp_path: Path) -> None:
    root = tmp_path / "published"
    exports = YearExports.small(2020)
    exports.cases.append(case("C3", "2020-05-01", "", state="NY"))
    # 20 resolved cases in each of Texas and California: moving one between them changes no
    # count across the line of small counts (tests/exports.py resolved_cases).
    exports.cases += resolved_cases("TX", 20) + resolved_cases("CA", 20, state="CA")
    first = publish(tmp_path, exports, "new")
    first_files = snapshot(first)
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["replaces"] is None
    assert 'class="revision"' not in (first / "report.html").read_text()
    index = (root / "index.html").read_text()
    assert 'href="2020/report.html"' in index and first.name in index

    # Publishing the same inputs again changes nothing: the same release stays current.
    assert publish(tmp_path, exports, "unchanged") == first
    assert release_module.history(root, 2020) == [first]

    # A revision: case C1 (resolved) moves from Texas to California.
    exports.cases[0] = case("C1", "2020-02-01", "2020-02-03", state="CA")
    second = publish(tmp_path, exports, f"revises {first.name}: 4 cells changed")
    assert second != first
    assert snapshot(first) == first_files  # the replaced release, byte for byte
    assert json.loads((second / "manifest.json").read_text())["replaces"] == first.name
    assert release_module.history(root, 2020) == [second, first]
    assert second.name in (root / "index.html").read_text()  # rewritten at each publication
    assert f"revises release {first.name}: 4 cells changed since" in (second / "report.html").read_text()

    code, output = impact("diff", "--year", "2020", "--out-dir", str(root))
    assert code == 0, output
    assert output.splitlines() == [
        "missing_children_by_state, California, resolved: 20 -> 21",
        "missing_children_by_state, California, total: 21 -> 22",
        "missing_children_by_state, Texas, resolved: 21 -> 20",
        "missing_children_by_state, Texas, total: 21 -> 20",
        "4 cells changed",
        # California's total is suppressed in both public releases (next to its 1 active case)
        "public/missing_children_by_state, California, resolved: 20 -> 21",
        "public/missing_children_by_state, Texas, resolved: 21 -> 20",
        "public/missing_children_by_state, Texas, total: 21 -> 20",
        "3 public cells changed",
    ]
    public_report = (second / "public" / "report.html").read_text()
    assert f"revises release {first.name}: 3 public cells changed since" in public_report
    code, output = impact("diff", "--year", "2020", "--out-dir", str(root), "--from", second.name, "--to", second.name)
    assert (code, output) == (0, "0 cells changed\n0 public cells changed\n")
    code, output = impact(
        "diff", "--year", "2020", "--out-dir", str(root), "--from", second.name.split("-")[1], "--to", first.name
    )
    assert code == 0 and output.splitlines()[0] == "missing_children_by_state, California, resolved: 21 -> 20"

    code, output = impact("releases", "--year", "2020", "--out-dir", str(root))
    assert code == 0, output
    assert output.splitlines() == [
        f"{second.name}  current  replaces {first.name}  public copy published (the year's current one)",
        f"{first.name}           first release  public copy published",
    ]


def test_diff_of_a_first_release_and_of_an_unknown_one(tmp_path: Path) -> None:
    root = tmp_path / "published"
    first = publish(tmp_path, YearExports.small(2020))
    code, output = impact("diff", "--year", "2020", "--out-dir", str(root))
    assert code == 2 and f"{first.name} is the first release of 2020" in output
    code, output = impact("diff", "--year", "2020", "--out-dir", str(root), "--from", "0123456789abcdef")
    assert code == 2 and "no release 0123456789abcdef of 2020" in output
    code, output = impact("releases", "--year", "2019", "--out-dir", str(root))
    assert code == 2 and "no release of 2019" in output


def _table(folder: Path, name: str, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / f"{name}.parquet")


def test_diff_counts_each_cell_of_a_row_or_table_in_one_release_only(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    _table(old, "t", [{"year": 2020, "kind": "A", "n": 1, "m": 2}, {"year": 2020, "kind": "B", "n": 3, "m": 4}])
    _table(new, "t", [{"year": 2020, "kind": "A", "n": 1, "m": 2}, {"year": 2020, "kind": "C", "n": 5, "m": None}])
    _table(new, "u", [{"year": 2020, "metric_id": "x", "period": "year", "value": 7}])
    assert [str(c) for c in diff_releases(old, new)] == [
        "t, C, n: absent -> 5",
        "t, C, m: absent -> null",
        "t, B, n: 3 -> absent",
        "t, B, m: 4 -> absent",
        "u, x / year, value: absent -> 7",
    ]
    assert diff_releases(new, new) == []


def test_public_diff_shows_changed_values_and_statuses(tmp_path: Path) -> None:
    """A suppressed cell shows as its status; the list of suppressed cells is not a table."""
    old, new = tmp_path / "old", tmp_path / "new"
    state = "missing_children_by_state"

    def rows(texas: int | None, ohio: int | None) -> list[dict]:
        return [
            {"year": 2020, "missing_state": "Ohio", "resolved": ohio},
            {"year": 2020, "missing_state": "Texas", "resolved": texas},
        ]

    def listed(*cells: tuple[str, str]) -> list[dict]:
        return [
            {"year": 2020, "table_name": state, "row_label": r, "column_name": "resolved", "conf_status": c}
            for r, c in cells
        ]

    _table(old / "public", state, rows(10, None))
    _table(old / "public", "suppressed_cells", listed(("Ohio", "C")))
    _table(new / "public", state, rows(None, None))
    _table(new / "public", "suppressed_cells", listed(("Ohio", "D"), ("Texas", "D")))
    assert [str(c) for c in diff_public(old, new)] == [
        "public/missing_children_by_state, Ohio, resolved: suppressed (C) -> suppressed (D)",
        "public/missing_children_by_state, Texas, resolved: 10 -> suppressed (D)",
    ]
    assert diff_public(new, new) == []
    assert diff_releases(old, new) == []  # no exact tables in these folders


def test_partial_folders_of_dead_runs_are_removed_those_of_live_runs_kept(tmp_path: Path) -> None:
    root = tmp_path / "published"
    releases = root / ".releases"
    mine = release_module.staging_folder(root, 2020)  # this process: alive
    host, pid, start = socket.gethostname(), os.getpid(), release_module._process_start(os.getpid())
    dead = releases / f"2020.partial-{host}-999999999-{start}-abc"  # a pid that runs no more
    dead.mkdir()
    reused = releases / f"2020.partial-{host}-{pid}-1-abc"  # its pid now runs another process
    reused.mkdir()
    other_host = releases / "2020.partial-elsewhere-1-1-abc"  # cannot tell: kept
    other_host.mkdir()
    dangling = releases / f".2020.link-{host}-999999999-{start}-"
    dangling.symlink_to("nowhere")
    staged = release_module.staging_folder(root, 2020)
    (staged / "t.csv").write_text("year,n\n2020,1\n")
    release_module.publish(staged, root, 2020)
    left = sorted(p.name for p in releases.iterdir())
    assert mine.name in left and other_host.name in left
    assert dead.name not in left and reused.name not in left and dangling.name not in left
