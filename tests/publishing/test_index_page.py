"""published/index.html: every published year with a link to its report and the trend of the main
totals, read from the Total rows of each year's current release; rewritten whole."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.publishing.history import RELEASES
from pipelines.publishing.index_page import TRENDS, write_index
from pipelines.publishing.report import short


class Page(HTMLParser):
    """The links, table cells and chart values of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.links, self.cells, self.values, self.tags = [], [], [], set()
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"])
        if tag == "td":
            self._in = tag
        if dict(attrs).get("class") == "bar-value":
            self._in = "value"

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "td":
            self.cells.append(data)
        elif self._in == "value":
            self.values.append(data)


def fake_release(root: Path, year: int, totals: dict[str, int]) -> None:
    """A release folder with only the tables the index reads: a category row, then the Total."""
    folder = root / RELEASES / f"{year}-{year:016x}"
    folder.mkdir(parents=True)
    for _, table, column in TRENDS:
        rows = [{"year": year, "label": "Some", column: 1}, {"year": year, "label": "Total", column: totals[table]}]
        pq.write_table(pa.Table.from_pylist(rows), folder / f"{table}.parquet")
    (folder / "report.html").write_text("<!DOCTYPE html>")
    (root / str(year)).symlink_to(Path(RELEASES) / folder.name)


def test_index_lists_every_year_with_its_totals_and_a_chart_per_total(tmp_path: Path) -> None:
    root = tmp_path / "published"
    figures = {
        2019: {
            "missing_children_by_case_type": 29_000,
            "cybertipline_reports_by_source": 16_987_361,
            "cybertipline_files_by_type": 69_000_000,
            "cvip_requests_by_agency": 3_100,
        },
        2020: {
            "missing_children_by_case_type": 29_782,
            "cybertipline_reports_by_source": 21_751_085,
            "cybertipline_files_by_type": 65_465_314,
            "cvip_requests_by_agency": 3_220,
        },
    }
    for year, totals in figures.items():
        fake_release(root, year, totals)
    (root / "2018").mkdir()  # not a release link: not a published year
    html = write_index(root).read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    assert page.links == ["2020/report.html", "2019/report.html"]
    assert all((root / link).is_file() for link in page.links)
    expected_cells = [f"{figures[year][table]:,}" for year in (2020, 2019) for _, table, _ in TRENDS]
    assert [c for c in page.cells if re.fullmatch(r"[\d,]+", c)] == expected_cells
    # Each chart gives every year's figure in the page's style (the table above has them exact).
    assert page.values == [short(figures[year][table]) for _, table, _ in TRENDS for year in (2019, 2020)]
    assert "65.4 million" in page.values and "65.5M" not in html  # truncated, as the report writes it
    assert html.count('<figure class="chart"') == len(TRENDS) and "<script" not in html
    assert not page.tags & {"img", "link", "iframe", "object"} and "http" not in html
    # Rewritten whole: no temporary file left beside it, same bytes for the same releases.
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["index.html"]
    assert write_index(root).read_text(encoding="utf-8") == html


def test_index_of_an_empty_folder_says_so(tmp_path: Path) -> None:
    tmp_path.joinpath("published").mkdir()
    assert "No year is published yet." in write_index(tmp_path / "published").read_text()


def test_index_links_each_public_report_and_marks_a_synthetic_year(tmp_path: Path) -> None:
    """2020 (demo exports): its public report is linked as the version to share outside the
    organisation and its row says synthetic; 2019 (any other export) has no public/ and never
    says synthetic."""
    root = tmp_path / "published"
    totals = {table: 10 for _, table, _ in TRENDS}
    for year in (2019, 2020):
        fake_release(root, year, totals)
    release = (root / "2020").resolve()
    (release / "public").mkdir()
    (release / "public" / "report.html").write_text("<!DOCTYPE html>")
    (release / "manifest.json").write_text('{"synthetic": {"inputs": ["raw/2020/cases.csv"], "note": "demo"}}')
    ((root / "2019").resolve() / "manifest.json").write_text("{}")
    html = write_index(root).read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    assert page.links == ["2020/report.html", "2020/public/report.html", "2019/report.html"]
    rows = html.split("<tr>")
    row_2020 = next(r for r in rows if "Report 2020" in r)
    row_2019 = next(r for r in rows if "Report 2019" in r)
    assert "the version to share outside the organisation" in row_2020
    assert "Synthetic demo data" in row_2020
    assert "Synthetic" not in row_2019 and "public" not in row_2019
