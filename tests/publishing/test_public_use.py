"""The public-use tables of a release (published/<year>/public/): protected, audited, described,
reported, reproducible. The release is written by the SQL models, the suppression and the release
writer without Dagster (tests/harness.py); the blocking audit stopping a real run is in
tests/e2e/test_blocking_checks.py, the audit listed among a real run's checks in
tests/e2e/test_golden_2020.py."""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import polars as pl
import pytest

from pipelines.core.config import MIN_PUBLIC_COUNT
from pipelines.core.sql_models import models
from pipelines.public_copy.audit import audit, small_counts
from pipelines.public_copy.suppression import LAYOUTS
from tests.exports import YearExports, case
from tests.harness import publish_year

YEAR = 2020
TABLES = [m.name for m in models("published")]


def exports() -> YearExports:
    """Small counts everywhere: 12 cases, mostly in two states, a few in a third."""
    data = YearExports.small(YEAR)
    data.cases = (
        [
            case(f"A{i}", f"{YEAR}-01-{i + 1:02d}", f"{YEAR}-02-01" if i % 4 else "", state="TX", race="WH", age=15)
            for i in range(14)
        ]
        + [
            case(f"B{i}", f"{YEAR}-03-{i + 1:02d}", f"{YEAR}-04-01" if i % 3 else "", state="OH", race="BL", age=16)
            for i in range(13)
        ]
        + [case(f"C{i}", f"{YEAR}-05-{i + 1:02d}", "", case_type="FA", state="MT", race="AS", age=4) for i in range(2)]
    )
    return data


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("public")
    exports().write(root / "raw")
    publish_year(root / "raw", root / "pub", YEAR)
    return root


@pytest.fixture(scope="module")
def public(root: Path) -> Path:
    return root / "pub" / str(YEAR) / "public"


def test_public_holds_every_table_the_list_and_its_descriptions(public: Path) -> None:
    names = {p.name for p in public.iterdir()}
    expected = {f"{t}.{ext}" for t in [*TABLES, "suppressed_cells"] for ext in ("csv", "parquet")}
    assert names == expected | {"datapackage.json", "report.html"}


def test_small_counts_are_suppressed_and_the_audit_passes(public: Path) -> None:
    listed = pl.read_parquet(public / "suppressed_cells.parquet")
    assert listed.columns == ["year", "table_name", "row_label", "column_name", "conf_status"]
    cells = {(t, r, c): s for _, t, r, c, s in listed.iter_rows()}
    assert ("missing_children_by_state", "Montana", "active") in cells  # 2 active cases
    assert set(cells.values()) == {"C"}  # one flag: which cells are small is not said
    tables = {t: pl.read_parquet(public / f"{t}.parquet") for t in LAYOUTS}
    exact = {t: pl.read_parquet(public.parent / f"{t}.parquet") for t in LAYOUTS}
    result = audit(tables, cells, MIN_PUBLIC_COUNT, small_counts(exact, MIN_PUBLIC_COUNT))
    assert result.passed, result.problems
    # No count from 1 to K-1 of children is left in the tables that count children.
    for table, layout in LAYOUTS.items():
        if layout.counts_children:
            for column in layout.counts:
                values = tables[table][column].drop_nulls()
                assert not values.is_between(1, MIN_PUBLIC_COUNT - 1).any(), (table, column)


def test_suppressed_is_null_in_parquet_and_empty_in_csv_columns_keep_their_types(root: Path, public: Path) -> None:
    exact = root / "pub" / str(YEAR)
    for table in TABLES:
        parquet = pl.read_parquet(public / f"{table}.parquet")
        assert parquet.schema == pl.read_parquet(exact / f"{table}.parquet").schema, table
        csv = pl.read_csv(public / f"{table}.csv", schema=parquet.schema)
        assert parquet.equals(csv, null_equal=True), table
        if table not in LAYOUTS:  # reports, files, requests: published as they are
            assert (public / f"{table}.csv").read_bytes() == (exact / f"{table}.csv").read_bytes()
    line = next(
        line for line in (public / "missing_children_by_state.csv").read_text().splitlines() if ",Montana," in line
    )
    assert line.startswith(f"{YEAR},Montana,,")


def test_public_datapackage_is_valid_and_describes_the_list(public: Path) -> None:
    report = frictionless.validate(str(public / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])
    descriptor = json.loads((public / "datapackage.json").read_text())
    resources = {r["name"]: r for r in descriptor["resources"]}
    status = next(f for f in resources["suppressed_cells"]["schema"]["fields"] if f["name"] == "conf_status")
    assert status["constraints"]["enum"] == ["C"]
    active = next(f for f in resources["missing_children_by_state"]["schema"]["fields"] if f["name"] == "active")
    assert "required" not in active.get("constraints", {})


def test_public_report_shows_a_dash_and_says_why(public: Path) -> None:
    """One footnote for every withheld cell (it does not say which are small), and a footer that
    does not call the counts exact beside withheld cells; the exact report's footer does."""
    html = (public / "report.html").read_text()
    assert "(public use)" in html
    assert '<td class="num">–</td>' in html
    assert "suppressed to protect children" in html and "which of the two is not said" in html
    assert "suppressed_cells.csv" in html
    assert "Counts are exact;" not in html
    assert "Counts are exact where shown: a cell shown as – is withheld to protect children" in html
    assert "Counts are exact;" in (public.parent / "report.html").read_text()


def test_manifest_lists_public_files_and_the_audit_figures(root: Path) -> None:
    release = root / "pub" / str(YEAR)
    manifest = json.loads((release / "manifest.json").read_text())
    paths = {o["path"] for o in manifest["outputs"]}
    assert {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()} - paths == {"manifest.json"}
    figures = manifest["public"]["tables"]["missing_children_by_state"]
    assert figures["primary"] >= 1 and figures["secondary"] >= 1
    low, high = figures["narrowest_interval"]
    assert high > low
    assert manifest["public"]["min_public_count"] == MIN_PUBLIC_COUNT
    # A first release is audited alone; exports not made by impact demo-data are never synthetic.
    joint = manifest["public"]["joint_audit"]
    assert (joint["releases"], joint["max_change"]) == (["this release"], [])
    low, high = joint["narrowest_interval"]
    per_table = [f["narrowest_interval"] for f in manifest["public"]["tables"].values()]
    assert high - low == min(hi - lo for lo, hi in per_table)
    assert "synthetic" not in manifest
    for report in (release / "report.html", release / "public" / "report.html"):
        assert "Synthetic" not in report.read_text() and "synthetic" not in report.read_text()
    assert 'href="public/report.html"' in (release / "report.html").read_text()
    assert 'href="../report.html"' in (release / "public" / "report.html").read_text()


def test_public_release_is_byte_identical_from_run_to_run(root: Path, tmp_path: Path) -> None:
    exports().write(tmp_path / "raw")
    publish_year(tmp_path / "raw", tmp_path / "pub", YEAR)
    first, second = root / "pub" / str(YEAR) / "public", tmp_path / "pub" / str(YEAR) / "public"
    for path in sorted(first.iterdir()):
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
