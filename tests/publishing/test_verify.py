"""``impact verify`` (pipelines/publishing/verify.py) names every cell of a release that differs
from the reference: the golden 2020 test passes only because nothing differs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.publishing.verify import verify_release


def _release_like(reference: Path, folder: Path) -> Path:
    """A release folder holding exactly the reference's figures (the ESP table whole as its
    listed rows, the headline figures with the columns a release has)."""
    release = folder / "published" / "2020"
    release.mkdir(parents=True)
    for path in reference.glob("*.csv"):
        shutil.copy(path, release / path.name.replace("_partial", ""))
    return release


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.guard("golden_2020")
def test_verify_names_every_cell_that_differs(reference_2020: Path, tmp_path: Path) -> None:
    release = _release_like(reference_2020, tmp_path)
    headline = (release / "headline_metrics.csv").read_text(encoding="utf-8")
    (release / "headline_metrics.csv").write_text(headline.replace("published_text", "display_text"), encoding="utf-8")
    assert verify_release(release, reference_2020) == []

    _replace(release / "missing_children_by_state.csv", "2020,Total,2433,27349,29782", "2020,Total,2433,27349,29783")

    differences = [str(d) for d in verify_release(release, reference_2020)]
    assert differences == [
        "missing_children_by_state: row 54 row 'Total', column total: published '29783', reference '29782'"
    ]

    result = CliRunner().invoke(
        main, ["verify", "--year", "2020", "--reference", str(reference_2020), "--out-dir", str(release.parent)]
    )
    assert result.exit_code == 1
    assert "1 difference(s)" in result.output
