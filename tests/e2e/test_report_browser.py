"""report.html, public/report.html and index.html in a real browser, on a desktop (1280 px) and a
phone (390 px): headless Chromium renders each page offline; the page fits the screen (no sideways
scroll: a wide table scrolls in its own box), no text renders below 11 px, and axe-core, the
accessibility engine, finds no WCAG 2.1 A or AA violation. Screenshots go to
test-artifacts/<page>-<width>.png for a person to look at, the measured page width and smallest
text size to test-artifacts/<page>-<width>.json.

Debian's Chromium and the npm package axe-core are installed by ``make test`` (``make browser``);
these tests fail, never skip, without them.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.core.config import REPO_ROOT
from pipelines.publishing.datapackage import write_datapackage
from pipelines.publishing.report import write_report
from tests.chromium import CHROMIUM, Browser
from tests.exports import YearExports, case
from tests.harness import publish_year

YEAR = 2020
CASES = 1234
NCIC_ENTRIES = 365348
ARTIFACTS = REPO_ROOT / "test-artifacts"

AXE = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

WIDTHS = (1280, 390)
"""A desktop and a phone (CSS pixels)."""
MIN_TEXT = 11
"""The smallest text size a page may render, in CSS pixels."""

LAYOUT = """
(() => {
  // The page's width, and the rendered size of every text: an SVG text at its font size times
  // the scale its SVG is drawn at (an SVG shrunk to a phone shrinks its text with it).
  const found = {viewport: window.innerWidth, width: document.documentElement.scrollWidth, texts: 0,
                 smallest: Infinity, small: [], wide: [], outside: []};
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (!node.nodeValue.trim() || element.closest('title, desc, script, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    if (!range.getClientRects().length) continue;  // not rendered (display: none)
    let size = parseFloat(getComputedStyle(element).fontSize);
    if (element instanceof SVGElement) {
      const m = element.getScreenCTM();
      size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    }
    size = Math.round(size * 100) / 100;
    found.texts += 1;
    found.smallest = Math.min(found.smallest, size);
    if (size < %(min)s) found.small.push(size + 'px: ' + node.nodeValue.trim().slice(0, 40));
  }
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.right > screen.width + 0.5 && !element.parentElement.closest('.table-wrap')) {
      const css = element.getAttribute('class');
      found.wide.push(element.tagName.toLowerCase() + (css ? '.' + css : '') + ': ' + Math.round(box.right) + ' px');
    }
  }
  // Nothing sticks out of its card (a section's content box), but for the inside of a table's
  // own scrolling box.
  for (const card of document.querySelectorAll('section')) {
    const right = card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight);
    for (const element of card.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      if (box.right > right + 0.5 && !element.parentElement.closest('.table-wrap')) {
        const where = Math.round(box.right) + ' px > ' + Math.round(right) + ' px';
        found.outside.push(element.tagName.toLowerCase() + ': ' + where);
      }
    }
  }
  found.small = found.small.slice(0, 20);
  found.wide = found.wide.slice(0, 20);
  found.outside = found.outside.slice(0, 20);
  return found;
})()
""".replace("%(min)s", str(MIN_TEXT))


@pytest.fixture(scope="module", autouse=True)
def browser_installed() -> None:
    missing = [str(path) for path in (CHROMIUM, AXE) if not path.exists()]
    assert not missing, f"missing {', '.join(missing)}: run `make browser` (Chromium and axe-core)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as opened:
        yield opened


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
    publish_year(root / "raw", root / "pub", YEAR)  # the release files, without Dagster
    folder = root / "copy"
    shutil.copytree((root / "pub" / str(YEAR)).resolve(), folder)
    write_datapackage(folder, YEAR)
    return write_report(
        folder, YEAR, revision="This release revises release 2020-0123456789abcdef: 4 cells changed since."
    )


@pytest.fixture(scope="module")
def pages(report_html: Path) -> dict[str, Path]:
    """The three pages a reader opens: the exact report, the public-use report, the index."""
    published = report_html.parent.parent / "pub"
    return {
        "report": report_html,
        "public-report": (published / str(YEAR)).resolve() / "public" / "report.html",
        "index": published / "index.html",
    }


def test_rendered_page_shows_the_key_figures(report_html: Path, browser: Browser) -> None:
    browser.open(report_html, 1280)
    dom = browser.evaluate("document.documentElement.outerHTML")
    assert "<h1>Our Impact 2020</h1>" in dom
    assert '<th scope="row">Total</th><td class="num">' in dom
    assert f"{CASES:,}" in dom  # the Total of missing_children_by_case_type
    assert f"{NCIC_ENTRIES:,}" in dom  # a headline display_text
    assert "5 million" in dom and "more than" in dom
    assert dom.count('<figure class="chart') >= 6
    assert "<script" not in dom


def test_report_prints_to_pdf(report_html: Path, browser: Browser) -> None:
    browser.open(report_html, 1280)
    data = browser.pdf()
    assert data.startswith(b"%PDF")
    assert len(data) > 20_000


def layout(browser: Browser, page: Path, width: int) -> dict:
    browser.open(page, width)
    return browser.evaluate(LAYOUT)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", ["report", "public-report", "index"])
def test_page_fits_the_screen_and_its_text_is_readable(
    page: str, width: int, pages: dict[str, Path], browser: Browser
) -> None:
    found = layout(browser, pages[page], width)
    ARTIFACTS.mkdir(exist_ok=True)
    png = browser.screenshot(ARTIFACTS / f"{page}-{width}.png")
    figures = {k: found[k] for k in ("viewport", "width", "smallest", "texts")}
    (ARTIFACTS / f"{page}-{width}.json").write_text(json.dumps(figures) + "\n", encoding="utf-8")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert found["viewport"] == width
    assert found["width"] <= width, f"the page is {found['width']} px wide: {found['wide']}"
    assert found["outside"] == [], "sticking out of a card"
    assert found["texts"] > 20
    assert found["smallest"] >= MIN_TEXT, found["small"]


def test_the_layout_check_finds_a_page_too_wide_and_text_too_small(tmp_path: Path, browser: Browser) -> None:
    """The check can fail: a wide box, a 9 px text, an SVG text of 20 units drawn at a tenth, and a
    table wider than its card."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta name="viewport" content="width=device-width"></head><body>'
        '<p style="font-size: 9px">small print</p><div style="width: 600px">wide</div>'
        '<svg viewBox="0 0 1000 100" width="100"><text y="50" font-size="20">shrunk</text></svg>'
        '<section style="width: 200px; padding: 0 10px"><table style="width: 300px"><tr><td>cell</td></tr></table>'
        "</section></body></html>",
        encoding="utf-8",
    )
    found = layout(browser, page, 390)
    assert found["width"] > 390 and "div: 608 px" in found["wide"]
    assert found["smallest"] == 2
    assert found["small"] == ["9px: small print", "2px: shrunk"]
    assert found["outside"][0] == "table: 318 px > 218 px"


def axe_violations(browser: Browser, page: Path, width: int) -> list[dict]:
    """axe-core run in the page as Chromium shows it at ``width``; nothing is fetched."""
    browser.open(page, width)
    browser.evaluate(AXE.read_text(encoding="utf-8"))
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    return browser.evaluate(
        f"axe.run(document, {json.dumps(options)})"
        ".then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))"
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", ["report", "public-report", "index"])
def test_no_wcag_21_aa_violation(page: str, width: int, pages: dict[str, Path], browser: Browser) -> None:
    violations = axe_violations(browser, pages[page], width)
    assert violations == [], json.dumps(violations, indent=1)


def test_axe_finds_a_violation_when_there_is_one(report_html: Path, tmp_path: Path, browser: Browser) -> None:
    """The check can fail: an image without its text alternative and a link without text."""
    broken = tmp_path / "broken" / "report.html"
    broken.parent.mkdir()
    html = report_html.read_text(encoding="utf-8")
    html = html.replace("<main>", '<main><a href="report.html"></a><svg role="img" width="10" height="10"></svg>', 1)
    broken.write_text(html, encoding="utf-8")
    ids = {v["id"] for v in axe_violations(browser, broken, 1280)}
    assert {"svg-img-alt", "link-name"} <= ids, ids


@pytest.mark.parametrize("page", ["report", "public-report", "index"])
def test_every_chart_has_a_caption(page: str, pages: dict[str, Path]) -> None:
    html = pages[page].read_text(encoding="utf-8")
    charts = re.findall(r'<figure class="chart[^"]*" id="[^"]+">\s*<figcaption>([^<]*)</figcaption>', html)
    assert len(charts) == html.count("<figure") >= 4
    assert all(caption.strip() for caption in charts)
    assert "<svg" not in html  # charts are HTML: their text keeps its size on a phone
