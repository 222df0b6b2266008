"""report.html and index.html in a real browser: headless Chromium renders the report offline,
shows the key figures and produces a screenshot (test-artifacts/report-<year>.png) for a person to
look at; axe-core, the accessibility engine, finds no WCAG 2.1 A or AA violation in either page.

Debian's Chromium and the npm package axe-core are installed by ``make test`` (``make browser``);
these tests fail, never skip, without them.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.config import REPO_ROOT, Folders
from pipelines.datapackage import write_datapackage
from pipelines.report import write_report
from pipelines.runner import run_year
from tests.exports import YearExports, case

CHROMIUM = Path("/usr/bin/chromium")
YEAR = 2020
CASES = 1234
NCIC_ENTRIES = 365348
ARTIFACTS = REPO_ROOT / "test-artifacts"

AXE = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module", autouse=True)
def browser_installed() -> None:
    missing = [str(path) for path in (CHROMIUM, AXE) if not path.exists()]
    assert not missing, f"missing {', '.join(missing)}: run `make browser` (Chromium and axe-core)"


CASE_TYPES = ("ERU", "FA", "LIOM", "MYA", "NFA")
RACES = ("AI", "AS", "MR", "BL", "HI", "PI", "WH", "U", "")
STATES = ("TX", "CA", "NY", "FL", "OH", "WA", "GA", "AK", "HI", "PR", "DC", "INTL")


def _exports() -> YearExports:
    """More than a thousand cases, so counts need a thousands separator."""
    exports = YearExports.small(YEAR)
    exports.cases = [
        case(
            f"C{i:05d}",
            f"{YEAR}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            f"{YEAR}-12-30" if i % 7 else "",
            case_type=CASE_TYPES[i % 7 % 5],
            age=("" if i % 50 == 0 else i % 21),
            race=RACES[i % len(RACES)],
            state=STATES[i % 13 % len(STATES)],
        )
        for i in range(CASES)
    ]
    exports.program_metrics = [
        {
            "metric_id": "ncic_missing_child_entries",
            "period": "year",
            "value": str(NCIC_ENTRIES),
            "since": "",
            "source": "FBI NCIC",
        },
        {
            "metric_id": "hotline_calls",
            "period": "cumulative",
            "value": "5284617",
            "since": "1984",
            "source": "Call center",
        },
    ]
    return exports


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    _exports().write(root / "raw")
    outcome = run_year(YEAR, Folders(str(root / "raw"), str(root / "pub"), str(root / "wh")))
    assert outcome.success, outcome.failures
    folder = root / "copy"
    shutil.copytree((root / "pub" / str(YEAR)).resolve(), folder)
    write_datapackage(folder, YEAR)
    return write_report(
        folder, YEAR, revision="This release revises release 2020-0123456789abcdef: 4 cells changed since."
    )


@pytest.fixture(scope="module")
def index_html(report_html: Path) -> Path:
    return report_html.parent.parent / "pub" / "index.html"


def _chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


def test_rendered_page_shows_the_key_figures(report_html: Path, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", report_html.as_uri()).stdout
    assert "<h1>Our Impact 2020</h1>" in dom
    assert '<th scope="row">Total</th><td class="num">' in dom
    assert f"{CASES:,}" in dom  # the Total of missing_children_by_case_type
    assert f"{NCIC_ENTRIES:,}" in dom  # a headline display_text
    assert "5 million" in dom and "more than" in dom
    assert dom.count("<svg") >= 6
    assert "<script" not in dom


def test_screenshot_of_the_report(report_html: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / f"report-{YEAR}.png"
    png.unlink(missing_ok=True)
    _chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,2000", report_html.as_uri())
    assert png.is_file()
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 40_000  # a blank or error page is a few kilobytes


def test_report_prints_to_pdf(report_html: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    _chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", report_html.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 20_000


def axe_violations(page: Path, tmp_path: Path, window: str) -> list[dict]:
    """Run axe-core in Chromium on a copy of ``page`` with the engine inlined after its content;
    the violations come back base64-encoded in an attribute of the dumped DOM. Nothing is fetched:
    the page and the engine are local files."""
    runner = (
        "<script>" + AXE.read_text(encoding="utf-8") + "</script><script>"
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(WCAG_21_AA)}}}, "
        "resultTypes: ['violations']})"
        ".then(function (r) { document.documentElement.setAttribute('data-axe', btoa(unescape(encodeURIComponent("
        "JSON.stringify(r.violations.map(function (v) { return {id: v.id, help: v.help, nodes: v.nodes.map("
        "function (n) { return n.target.join(' '); })}; })))))); })"
        ".catch(function (e) { document.documentElement.setAttribute('data-axe', btoa('error: ' + e)); });"
        "</script></body>"
    )
    html = page.read_text(encoding="utf-8")
    assert html.count("</body>") == 1
    copy = page.with_name(f".axe-{page.name}")
    copy.write_text(html.replace("</body>", runner), encoding="utf-8")
    try:
        dom = _chromium(
            tmp_path, f"--window-size={window}", "--virtual-time-budget=60000", "--dump-dom", copy.as_uri()
        ).stdout
    finally:
        copy.unlink()
    found = re.search(r'data-axe="([^"]*)"', dom)
    assert found, "axe-core did not finish"
    text = base64.b64decode(found.group(1)).decode("utf-8")
    assert not text.startswith("error: "), text
    return json.loads(text)


@pytest.mark.parametrize("window", ["1280,2000", "390,844"])
@pytest.mark.parametrize("page", ["report", "index"])
def test_no_wcag_21_aa_violation(page: str, window: str, report_html: Path, index_html: Path, tmp_path: Path) -> None:
    violations = axe_violations(report_html if page == "report" else index_html, tmp_path, window)
    assert violations == [], json.dumps(violations, indent=1)


def test_axe_finds_a_violation_when_there_is_one(report_html: Path, tmp_path: Path) -> None:
    """The check can fail: a chart without its text alternative and a link without text."""
    broken = tmp_path / "broken" / "report.html"
    broken.parent.mkdir()
    html = report_html.read_text(encoding="utf-8")
    html = re.sub(r"<title id=\"chart-case-type-title\">[^<]*</title>", "", html, count=1)
    html = html.replace("<main>", '<main><a href="report.html"></a>', 1)
    broken.write_text(html, encoding="utf-8")
    ids = {v["id"] for v in axe_violations(broken, tmp_path, "1280,2000")}
    assert {"svg-img-alt", "link-name"} <= ids, ids


@pytest.mark.parametrize("page", ["report", "index"])
def test_every_chart_has_a_text_alternative(page: str, report_html: Path, index_html: Path) -> None:
    html = (report_html if page == "report" else index_html).read_text(encoding="utf-8")
    charts = re.findall(r"<svg\b[^>]*>", html)
    assert charts
    for svg in charts:
        if 'aria-hidden="true"' in svg:
            continue  # decoration: a legend key or a colour ramp beside its text
        assert 'role="img"' in svg, svg
        for label_id in re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split():
            text = re.search(rf'<(?:title|desc) id="{label_id}">([^<]+)</', html)
            assert text and text.group(1).strip(), f"{label_id} names no text"
