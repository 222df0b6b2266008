"""The release as people receive it: datapackage.json (validated by frictionless) and report.html.

A release folder is built once from a tiny export by the SQL models and the release writer
(tests/harness.py, no Dagster); each test works on its own copy of it, so the published release
is never touched.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import frictionless
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.core.sql_models import models
from pipelines.publishing.datapackage import build_datapackage, write_datapackage
from pipelines.publishing.report import render_report, write_report
from pipelines.tables import specs
from tests.exports import YearExports, report
from tests.harness import publish_year

YEAR = 2020
TRICKY_ESP = '<b>Tom & "Jerry\'s"</b> <script>alert(1)</script>'


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year's release as the release writer writes it (CSV + Parquet of every published table)."""
    root = tmp_path_factory.mktemp("release")
    exports = YearExports.small(YEAR)
    exports.reports.append(report(3, esp_name=TRICKY_ESP, country="FR", year=YEAR))
    exports.write(root / "raw")
    return publish_year(root / "raw", root / "pub", YEAR).release


@pytest.fixture
def folder(release: Path, tmp_path: Path) -> Path:
    """A private copy of the release folder."""
    copy = tmp_path / str(YEAR)
    shutil.copytree(release, copy)
    return copy


def _errors(report: frictionless.Report) -> list[str]:
    return [error_type for (error_type,) in report.flatten(["type"])]


# --- datapackage.json -------------------------------------------------------------------------


def test_datapackage_is_valid_for_frictionless(folder: Path) -> None:
    path = write_datapackage(folder, YEAR)
    assert path == folder / "datapackage.json"
    result = frictionless.validate(str(path))
    assert result.valid, result.flatten(["rowNumber", "fieldName", "type", "note"])
    assert len(result.tasks) == len(models("published"))


def test_datapackage_passes_the_frictionless_cli(folder: Path) -> None:
    write_datapackage(folder, YEAR)
    cli = Path(sys.executable).with_name("frictionless")
    if not cli.exists():
        pytest.skip("frictionless console script not installed next to the interpreter")
    done = subprocess.run(
        [str(cli), "validate", "datapackage.json"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_datapackage_describes_every_table(folder: Path) -> None:
    package = build_datapackage(folder, YEAR)
    assert package["name"] == f"impact-statistics-{YEAR}"
    assert "created" not in package
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    published = specs()
    assert [r["name"] for r in package["resources"]] == sorted(published)
    for resource in package["resources"]:
        table = resource["name"]
        csv_path = folder / resource["path"]
        assert resource["path"] == f"{table}.csv"
        assert resource["description"] == published[table].description
        assert resource["dialect"]["lineTerminator"] == "\n"
        assert resource["bytes"] == csv_path.stat().st_size
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", resource["hash"])
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == pq.read_schema(folder / f"{table}.parquet").names
        assert all(f["title"] and f["description"] for f in fields)
        assert set(resource["schema"]["primaryKey"]) <= {f["name"] for f in fields}
        assert resource["schema"]["primaryKey"][0] == "year"

    by_name = {r["name"]: r for r in package["resources"]}
    case_fields = {f["name"]: f for f in by_name["missing_children_by_case_type"]["schema"]["fields"]}
    assert case_fields["case_type"]["type"] == "string"
    assert case_fields["active"] == {
        "name": "active",
        "title": "Active",
        "description": case_fields["active"]["description"],
        "type": "integer",
        "constraints": {"required": True, "minimum": 0},
    }
    race_fields = {f["name"]: f for f in by_name["missing_children_by_age_and_race"]["schema"]["fields"]}
    assert race_fields["native_american"]["title"] == "Native American"
    percent = {f["name"]: f for f in by_name["offender_relationship_actively_traded"]["schema"]["fields"]}
    assert percent["percent_of_total"]["type"] == "number"
    assert by_name["cybertipline_reports_by_country"]["schema"]["primaryKey"] == ["year", "country"]
    assert by_name["headline_metrics"]["schema"]["primaryKey"] == ["year", "metric_id", "period"]
    country_fields = {f["name"]: f for f in by_name["cybertipline_reports_by_country"]["schema"]["fields"]}
    assert "required" not in country_fields["country_code"].get("constraints", {})


def test_datapackage_bytes_are_deterministic(folder: Path, release: Path, tmp_path: Path) -> None:
    first = write_datapackage(folder, YEAR).read_bytes()
    second = write_datapackage(folder, YEAR).read_bytes()
    assert first == second
    other = tmp_path / "other" / str(YEAR)
    shutil.copytree(release, other)
    assert write_datapackage(other, YEAR).read_bytes() == first
    assert first.endswith(b"}\n")
    assert json.loads(first) == build_datapackage(folder, YEAR)


def test_frictionless_reports_a_tampered_cell(folder: Path) -> None:
    path = write_datapackage(folder, YEAR)
    csv_path = folder / "missing_children_by_case_type.csv"
    text = csv_path.read_text(encoding="utf-8")
    total_line = text.splitlines()[-1]
    assert total_line.startswith(f"{YEAR},Total,")
    csv_path.write_text(text.replace(total_line, total_line[:-1] + "9"), encoding="utf-8", newline="")
    result = frictionless.validate(str(path))
    assert not result.valid
    assert "hash-count" in _errors(result)


def test_frictionless_reports_a_cell_of_the_wrong_type(folder: Path) -> None:
    path = write_datapackage(folder, YEAR)
    csv_path = folder / "cybertipline_reports_by_source.csv"
    text = csv_path.read_text(encoding="utf-8")
    last = text.splitlines()[-1]
    csv_path.write_text(text.replace(last, last.rsplit(",", 1)[0] + ",-2"), encoding="utf-8", newline="")
    result = frictionless.validate(str(path))
    assert not result.valid
    assert "constraint-error" in _errors(result)


def test_datapackage_refuses_a_folder_without_every_table(folder: Path) -> None:
    (folder / "headline_metrics.csv").unlink()
    with pytest.raises(FileNotFoundError, match="headline_metrics"):
        build_datapackage(folder, YEAR)


# --- report.html ------------------------------------------------------------------------------


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_report_is_self_contained(folder: Path) -> None:
    html = write_report(folder, YEAR).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html
    assert "//" not in "".join(re.findall(r"url\([^)]*\)", html))
    assert all(u.startswith("url(#") for u in re.findall(r"url\([^)]*\)", html))
    parsed = _parse(html)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags
    assert not {"link", "img", "iframe", "object", "embed", "video", "audio"} & set(tags)
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            # in-page anchors, or the release's own files next to the report
            assert href.startswith("#") or (folder / href).is_file(), href
    assert "<style>" in html and "@media print" in html


def test_report_shows_every_section_and_figure(folder: Path) -> None:
    html = render_report(folder, YEAR)
    text = " ".join(_parse(html).text)
    for heading in ("Find Missing Children", "Reduce Child Sexual Exploitation", "Headline figures"):
        assert heading in text
    for table in (
        "Missing children by case type",
        "Missing children by age group and race",
        "Missing children by state",
        "CyberTipline reports by source",
        "CyberTipline reports by incident type",
        "CyberTipline files by type",
        "Child Victim Identification Program requests by agency",
        "Offender relationships of children in actively traded imagery",
    ):
        assert table in text
    headline = pq.read_table(folder / "headline_metrics.parquet").to_pylist()
    for row in headline:
        assert row["display_text"] in text or row["display_text"].split(" ", 2)[-1] in text
    assert "Missing child entries made into the FBI's NCIC" in text
    assert "100.00%" in text  # offender relationship percent, as published
    assert "No Country Listed" in text
    assert html.count('<figure class="chart') >= 6


def test_report_escapes_text(folder: Path) -> None:
    html = render_report(folder, YEAR)
    assert "<script>" not in html
    assert "<b>Tom" not in html
    assert "&lt;b&gt;Tom &amp; &#34;Jerry&#39;s&#34;&lt;/b&gt;" in html
    assert TRICKY_ESP in " ".join(_parse(html).text)


def test_report_reads_the_release_files_and_formats_counts(folder: Path) -> None:
    parquet = folder / "missing_children_by_case_type.parquet"
    table = pq.read_table(parquet)
    totals = table.column("total").to_pylist()
    totals[-1] = 1234567
    table = table.set_column(table.schema.get_field_index("total"), "total", pa.array(totals, pa.int64()))
    pq.write_table(table, parquet)
    html = render_report(folder, YEAR)
    assert "1,234,567" in html
    assert "1234567" not in html


def test_report_bytes_are_deterministic(folder: Path, release: Path, tmp_path: Path) -> None:
    first = write_report(folder, YEAR).read_bytes()
    assert write_report(folder, YEAR).read_bytes() == first
    other = tmp_path / "other" / str(YEAR)
    shutil.copytree(release, other)
    assert write_report(other, YEAR).read_bytes() == first


def test_report_and_datapackage_leave_the_tables_alone(folder: Path) -> None:
    for name in ("report.html", "datapackage.json"):
        (folder / name).unlink(missing_ok=True)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    write_report(folder, YEAR)
    write_datapackage(folder, YEAR)
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert set(after) - set(before) == {"report.html", "datapackage.json"}
    assert all(after[name] == content for name, content in before.items())


def test_the_published_release_holds_both_files(release: Path, folder: Path) -> None:
    """pipelines/publishing/release.py writes them into the staging folder before the swap."""
    published = {name: (release / name).read_bytes() for name in ("report.html", "datapackage.json")}
    assert published["datapackage.json"] == write_datapackage(folder, YEAR).read_bytes()
    assert published["report.html"] == write_report(folder, YEAR).read_bytes()
    assert frictionless.validate(str(release / "datapackage.json")).valid
