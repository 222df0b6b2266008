"""``published/index.html``: every published year, a link to its report and to its current
public-use report (the version to share outside the organisation: the public copy of the year's
newest release that has one, said so when a later correction is not in it), and the trend of
the main totals across years. A year made from synthetic demo exports is marked so.

Like the report it is one self-contained page (inline CSS, no script, nothing fetched),
so the published folder reads offline. Its figures are the Total rows of the current release of
each year, read from the published Parquet files, never recomputed. It is rewritten after every
publication, under a lock shared by the publishers of all years (two years published at once
must not drop each other from the page), and swapped in with one ``rename``, so a reader sees
the old page or the new one, whole.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.core.modes import published_mode
from pipelines.core.preflight import LOCKS, waiting_lock
from pipelines.public_copy.tables import WITHHELD_COPY
from pipelines.publishing.history import PUBLIC, RELEASES, history, public_copy_of, public_entry
from pipelines.publishing.report import BarChart, bar_chart, count, short, template_environment

FILE_NAME = "index.html"
TEMPLATE = "index.html.j2"

TRENDS = (
    # (label, published table, column of its Total row: the table's last row)
    ("Missing children cases", "missing_children_by_case_type", "total"),
    ("CyberTipline reports", "cybertipline_reports_by_source", "reports"),
    ("Files in CyberTipline reports", "cybertipline_files_by_type", "files"),
    ("CVIP law enforcement requests", "cvip_requests_by_agency", "requests"),
)


@dataclass(frozen=True)
class YearRow:
    year: int
    release: str
    totals: list[str]
    public_report: str = ""
    """The link to the year's current public-use report, from ``published/`` ("" when the year
    has none)."""
    public_release: str = ""
    """The release that public report reflects, when it is older than the current release."""
    public_withheld: bool = False
    """The current release's own public copy was withheld (its manifest says so)."""
    synthetic: bool = False
    """The release was made from synthetic demo exports (its manifest says so)."""


def synthetic(release: Path) -> bool:
    """Whether the release's manifest says it was made from demo exports."""
    manifest = release / "manifest.json"
    return manifest.is_file() and "synthetic" in json.loads(manifest.read_text(encoding="utf-8"))


def published_years(published_root: Path) -> list[tuple[int, Path]]:
    """(year, release folder) of every ``<published>/<year>`` link, oldest year first."""
    years = []
    for path in Path(published_root).iterdir():
        if re.fullmatch(r"\d{4}", path.name) and path.is_symlink() and path.resolve().is_dir():
            years.append((int(path.name), path.resolve()))
    return sorted(years)


def total(release: Path, table: str, column: str) -> int:
    """The value of ``column`` in the Total row (the last row) of a published table."""
    rows = pq.read_table(release / f"{table}.parquet", columns=[column]).column(column).to_pylist()
    if not rows:
        raise ValueError(f"{table}.parquet in {release} has no rows")
    return rows[-1]


def trend_chart(index: int, label: str, points: list[tuple[int, int]]) -> BarChart:
    """One bar per year, oldest first, to the same scale; the value in the page's style."""
    return bar_chart(
        f"trend-{index + 1}", f"{label} by year", [(str(y), [(v, "bar", label)], short(v)) for y, v in points]
    )


def public_report(published_root: Path, year: int, release: Path) -> tuple[str, str, bool]:
    """The link to the year's current public-use report, the release it reflects when that is
    not the current release, and whether the current release's own copy was withheld."""
    if (release / PUBLIC / "report.html").is_file():
        return f"{year}/{PUBLIC}/report.html", "", False
    if not (release / "manifest.json").is_file() or public_entry(release)["status"] != WITHHELD_COPY:
        return "", "", False  # a release made before public copies existed
    copy = public_copy_of(history(published_root, year))
    if copy is None:
        return "", "", True
    return f"{RELEASES}/{copy.name}/{PUBLIC}/report.html", copy.name, True


def index_context(published_root: Path) -> dict:
    years = published_years(published_root)
    values = {(year, table): total(release, table, column) for year, release in years for _, table, column in TRENDS}
    rows = [
        YearRow(
            year,
            release.name,
            [count(values[year, table]) for _, table, _ in TRENDS],
            *public_report(published_root, year, release),
            synthetic=synthetic(release),
        )
        for year, release in reversed(years)  # newest year first in the table
    ]
    charts = [
        trend_chart(i, label, [(year, values[year, table]) for year, _ in years])
        for i, (label, table, _) in enumerate(TRENDS)
    ]
    return {"rows": rows, "labels": [label for label, _, _ in TRENDS], "charts": charts}


def render_index(published_root: Path) -> str:
    return template_environment().get_template(TEMPLATE).render(**index_context(published_root))


def write_index(published_root: Path) -> Path:
    """Rewrite ``<published>/index.html`` from the current release of every year, atomically."""
    published_root = Path(published_root)
    path = published_root / FILE_NAME
    with waiting_lock(published_root / LOCKS / "index.lock"):
        text = render_index(published_root)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed into place below, or removed)
            "w", encoding="utf-8", newline="\n", dir=published_root, prefix=".index.html-", delete=False
        )
        try:
            with handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(handle.name, published_mode(False))  # NamedTemporaryFile makes it private
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    return path
