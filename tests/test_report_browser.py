"""report.html in a real browser: headless Chromium renders it offline, shows the key figures and
produces a screenshot (test-artifacts/report-<year>.png) for a person to look at.

Skipped when Debian's Chromium is not installed (``apt-get install -y chromium``).
"""

from __future__ import annotations

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

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed")

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
        {"metric_id": "ncic_missing_child_entries", "period": "year", "value": str(NCIC_ENTRIES),
         "since": "", "source": "FBI NCIC"},
        {"metric_id": "hotline_calls", "period": "cumulative", "value": "5284617",
         "since": "1984", "source": "Call center"},
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
    return write_report(folder, YEAR)


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
