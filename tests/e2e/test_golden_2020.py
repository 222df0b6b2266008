"""Golden end-to-end test: full-size 2020 demo exports through the real Dagster definitions must
reproduce the published 2020 figures (tests/reference/2020) exactly, and the release must be
self-describing and byte-identical from run to run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.core.config import MIN_PUBLIC_COUNT, Folders
from pipelines.core.contract import RAW_EXPORTS
from pipelines.core.sql_models import models
from pipelines.demo import write_demo_exports
from pipelines.publishing.verify import verify_release
from pipelines.runner import run_year
from tests.conftest import folders_in

TABLES = [m.name for m in models("published")]


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("golden") / "raw"
    write_demo_exports(2020, raw)
    return raw


@pytest.fixture(scope="module")
def run_root(tmp_path_factory: pytest.TempPathFactory, demo_raw: Path) -> Path:
    root = tmp_path_factory.mktemp("golden-run")
    folders = Folders(str(demo_raw), str(root / "published"), str(root / "warehouse"))
    with dg.DagsterInstance.ephemeral() as instance:  # nothing reads the run from the instance
        outcome = run_year(2020, folders, instance)
    assert outcome.success, outcome.failures
    return root


def test_release_reproduces_every_reference_table(run_root: Path, reference_2020: Path) -> None:
    differences = verify_release(run_root / "published" / "2020", reference_2020)
    assert [str(d) for d in differences] == []


def test_impact_verify_prints_no_difference(run_root: Path, reference_2020: Path) -> None:
    result = CliRunner().invoke(
        main, ["verify", "--year", "2020", "--reference", str(reference_2020), "--out-dir", str(run_root / "published")]
    )
    assert result.exit_code == 0, result.output
    assert "agrees with" in result.output


def test_every_table_is_published_as_identical_csv_and_parquet(run_root: Path) -> None:
    release = run_root / "published" / "2020"
    for table in TABLES:
        parquet = pl.read_parquet(release / f"{table}.parquet")
        csv = pl.read_csv(release / f"{table}.csv", schema=parquet.schema)
        assert parquet.columns[0] == "year"
        assert parquet.equals(csv, null_equal=True), table
        counts = [c for c, t in parquet.schema.items() if t.is_integer() and c not in ("year", "since")]
        assert all(parquet.schema[c] == pl.Int64 for c in counts), table


def test_manifest_hashes_match_the_files(run_root: Path) -> None:
    release = run_root / "published" / "2020"
    manifest = json.loads((release / "manifest.json").read_text())
    listed = {entry["path"]: entry for entry in manifest["outputs"]}
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(listed) == on_disk
    assert {"public/suppressed_cells.csv", "public/report.html"} <= on_disk
    for name, entry in listed.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert {i["path"] for i in manifest["inputs"]} == {
        f"raw/2020/{f}"
        for f in (
            "cases.csv",
            "cybertipline_reports.parquet",
            "cvip_requests.csv",
            "cvip_offender_relationships.csv",
            "program_metrics.csv",
        )
    }
    reports = next(i for i in manifest["inputs"] if i["path"].endswith(".parquet"))
    assert reports["rows"] == 21_751_085
    assert all(c["passed"] for c in manifest["checks"]) and manifest["checks"]
    assert ("public_use_tables", "disclosure_audit") in {(c["asset"], c["check"]) for c in manifest["checks"]}
    assert not any(str(run_root) in json.dumps(manifest) for _ in [0])  # no absolute paths


def test_same_inputs_give_byte_identical_release_from_another_folder_and_one_thread(
    run_root: Path, demo_raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMPACT_DUCKDB_THREADS", "1")
    folders = folders_in(tmp_path)
    folders = Folders(str(demo_raw), folders.published_dir, folders.warehouse_dir)
    assert run_year(2020, folders, instance).success
    first, second = run_root / "published" / "2020", tmp_path / "published" / "2020"
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_public_use_tables_of_2020_pass_the_audit_and_keep_every_other_cell(
    run_root: Path, reference_2020: Path
) -> None:
    """Done when: the 2020 release holds public/ that passes the audit; per table the primary and
    secondary cells in the manifest; every published cell of public/ equals the reference."""
    release = run_root / "published" / "2020"
    manifest = json.loads((release / "manifest.json").read_text())
    figures = manifest["public"]["tables"]
    published_in_2020 = {t: f for t, f in figures.items() if (reference_2020 / f"{t}.csv").is_file()}
    assert {t: (f["primary"], f["secondary"]) for t, f in published_in_2020.items()} == {
        "missing_children_by_age_and_race": (19, 4),
        "missing_children_by_case_type": (1, 3),
        "missing_children_by_state": (14, 9),
    }
    assert all(f["narrowest_interval"][1] > f["narrowest_interval"][0] for f in figures.values())
    assert all(f["smallest_maximum"] >= MIN_PUBLIC_COUNT for f in figures.values())
    assert (manifest["public"]["status"], manifest["public"]["current"]) == ("published", "this release")
    assert manifest["public"]["joint_audit"]["releases"] == ["this release"]
    listed = pl.read_parquet(release / "public" / "suppressed_cells.parquet")
    for table in TABLES:
        if table == "cybertipline_reports_by_esp":
            continue  # the reference holds part of it only
        public = pl.read_parquet(release / "public" / f"{table}.parquet")
        reference = pl.read_parquet(release / f"{table}.parquet")
        hidden = listed.filter(pl.col("table_name") == table)
        assert public.height == reference.height
        for column in public.columns:
            kept = public[column].is_not_null() | reference[column].is_null()
            assert public.filter(kept)[column].equals(reference.filter(kept)[column]), (table, column)
            assert (~kept).sum() == hidden.filter(pl.col("column_name") == column).height, (table, column)


def test_a_release_of_demo_exports_says_it_is_synthetic(run_root: Path) -> None:
    """impact demo-data marks what it writes: the manifest, both data packages, both reports
    and the year's row of the index say the release is synthetic."""
    published = run_root / "published"
    release = published / "2020"
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["synthetic"]["inputs"] == sorted(f"raw/2020/{e.file_name}" for e in RAW_EXPORTS)
    for folder in (release, release / "public"):
        assert "(synthetic demo data)" in json.loads((folder / "datapackage.json").read_text())["title"]
        assert "Synthetic demo data." in (folder / "report.html").read_text()
    assert "Synthetic demo data" in (published / "index.html").read_text()
