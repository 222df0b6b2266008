"""The public copy never blocks the exact release (docs/public-use.md, "Where it runs"): a
correction whose public copy cannot be protected is published whole, its exact tables those of
the corrected exports, without a public/ of its own; the manifest, `impact releases`, `impact
diff`, both reports and the index say so and which release's public copy is the year's current
one. A later revision that can be protected publishes a public copy again, audited with every
earlier kept copy; a first release with no pattern is published the same way, with none.
Written without Dagster (tests/harness.py); the real job in tests/e2e/test_blocking_checks.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

from pipelines.cli import main
from pipelines.core.sql_models import models
from pipelines.public_copy import suppression
from pipelines.public_copy.tables import NO_PATTERN
from pipelines.publishing.release import PUBLIC_REFLECTS, Publication
from tests.exports import YearExports, resolved_cases
from tests.harness import export_tables, publish_year
from tests.publishing.test_public_use import exports as small_counts

YEAR = 2020
TABLES = [m.name for m in models("published")]
WITHHELD = "public copy withheld: missing_children_by_state, Ohio, resolved"


def exports(ohio: int, california: int) -> YearExports:
    """Resolved cases in Texas, Ohio and California (and the small exports' two cases)."""
    data = YearExports.small(YEAR)
    data.cases += resolved_cases("T", 20) + resolved_cases("O", ohio, state="OH")
    data.cases += resolved_cases("A", california, state="CA")
    return data


def publish(root: Path, data: YearExports, withheld: bool = False) -> Publication:
    shutil.rmtree(root / "raw", ignore_errors=True)
    data.write(root / "raw")
    return publish_year(root / "raw", root / "pub", YEAR, withheld)


def impact(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Publication]]:
    """The first release (Ohio's 10 resolved cases published), a correction moving one of them
    to California (Ohio's 10 becomes 9, within R = 1 of the published 10: withheld), then a
    revision adding five to Ohio (14: protected again, R = 5 since the first release: the
    Resolved total)."""
    root = tmp_path_factory.mktemp("withheld")
    first = publish(root, exports(10, 20))
    corrected = publish(root, exports(9, 21), withheld=True)
    shutil.copytree(root / "raw", root / "corrected-raw")
    again = publish(root, exports(14, 21))
    return root, [first, corrected, again]


def test_a_correction_whose_copy_cannot_be_protected_is_published_without_it(releases) -> None:
    root, (first, corrected, _) = releases
    assert corrected.outcome == f"revises {first.release.name}: 4 cells changed; {WITHHELD}"
    folder = corrected.release
    assert not (folder / "public").exists()
    exact = export_tables(root / "corrected-raw" / str(YEAR), root / "corrected-tables")
    for table in TABLES:
        assert (folder / f"{table}.csv").read_bytes() == (exact / f"{table}.csv").read_bytes(), table
    public = json.loads((folder / "manifest.json").read_text())["public"]
    assert {k: public[k] for k in ("status", "reason", "cells", "current")} == {
        "status": "withheld",
        "reason": NO_PATTERN,
        "cells": ["missing_children_by_state, Ohio, resolved"],
        "current": first.release.name,
    }
    report = (folder / "report.html").read_text()
    assert "has no public-use copy of its own: it could not be protected (missing_children_by_state, Ohio" in report
    assert f"current public-use copy is that of release {first.release.name}" in report
    assert escape(PUBLIC_REFLECTS) in (first.release / "public" / "report.html").read_text()


def test_the_index_and_the_cli_say_which_release_the_public_copy_reflects(releases, tmp_path: Path) -> None:
    root, (first, corrected, _) = releases
    pub = tmp_path / "pub"
    shutil.copytree(root / "pub", pub, symlinks=True)
    (pub / str(YEAR)).unlink()
    (pub / str(YEAR)).symlink_to(Path(".releases") / corrected.release.name)  # as it was then
    from pipelines.publishing.index_page import write_index

    index = write_index(pub).read_text()
    assert f'href=".releases/{first.release.name}/public/report.html"' in index
    assert f"it reflects release {first.release.name}" in index
    lines = impact("releases", "--year", str(YEAR), "--out-dir", str(pub)).splitlines()
    assert lines == [
        f"{corrected.release.name}  current  replaces {first.release.name}  {WITHHELD}; current then: "
        f"{first.release.name}",
        f"{first.release.name}           first release  public copy published (the year's current one)",
    ]
    diff = impact("diff", "--year", str(YEAR), "--out-dir", str(pub)).splitlines()
    assert diff[-2:] == [
        f"{corrected.release.name} has no public copy (withheld): the year's public copy is not changed by it",
        "0 public cells changed",
    ]


def test_a_later_revision_that_can_be_protected_publishes_a_public_copy_again(releases) -> None:
    root, (first, corrected, again) = releases
    assert "withheld" not in again.outcome
    assert (again.release / "public" / "suppressed_cells.csv").is_file()
    public = json.loads((again.release / "manifest.json").read_text())["public"]
    assert (public["status"], public["current"]) == ("published", "this release")
    # Audited with every earlier kept public copy: the first release's, not the withheld one.
    assert public["joint_audit"]["releases"] == [first.release.name, "this release"]
    assert public["joint_audit"]["max_change"] == [{"from": first.release.name, "to": "this release", "r": 5}]
    note = (again.release / "public" / "report.html").read_text()
    assert (
        f"revises release {corrected.release.name}; its public copy replaces that of release {first.release.name}"
        in note
    )
    assert 'href="2020/public/report.html"' in (root / "pub" / "index.html").read_text()


def test_a_first_release_with_no_pattern_is_published_with_its_public_copy_withheld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The small counts of tests/publishing/test_public_use.py take 4 rounds; allowed 1, the
    suppressor gives up: the year is published all the same, with no public copy at all, said
    the same way."""
    monkeypatch.setattr(suppression, "MAX_ROUNDS", 1)
    publication = publish(tmp_path, small_counts(), withheld=True)
    assert publication.outcome == f"new; public copy withheld: {NO_PATTERN}"
    assert not (publication.release / "public").exists()
    assert (publication.release / "missing_children_by_state.parquet").is_file()
    public = json.loads((publication.release / "manifest.json").read_text())["public"]
    assert (public["status"], public["current"], public["cells"]) == ("withheld", None, [])
    assert "The year has no public-use copy yet." in (publication.release / "report.html").read_text()
    assert "No public-use report: its copy could not be protected" in (tmp_path / "pub" / "index.html").read_text()


def test_a_copy_with_no_pattern_gives_the_solvers_search_time_and_no_audit_time() -> None:
    """No audit ran: its seconds are not shown as 0, and the time the suppressor searched is."""
    from pipelines.defs.public_copy.assets import copy_metadata
    from pipelines.public_copy.tables import PublicCopy, manifest_public

    copy = PublicCopy(
        None, None, NO_PATTERN, ("missing_children_by_state, Ohio, resolved",), None, "", solver_seconds=2.5
    )
    metadata = copy_metadata(copy, manifest_public(copy, 10), 10)
    assert metadata["solver_seconds"] == 2.5
    assert "audit_seconds" not in metadata
    assert metadata["withheld_because"].value == f"{NO_PATTERN}: missing_children_by_state, Ohio, resolved"
