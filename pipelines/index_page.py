"""``published/index.html``: every published year, a link to its report, and the trend of the
main totals across years.

Like the report it is one self-contained page (inline CSS and SVG, no script, nothing fetched),
so the published folder reads offline. Its figures are the Total rows of the current release of
each year, read from the published Parquet files, never recomputed. It is rewritten after every
publication, under a lock shared by the publishers of all years (two years published at once
must not drop each other from the page), and swapped in with one ``rename``, so a reader sees
the old page or the new one, whole.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.preflight import LOCKS, waiting_lock
from pipelines.report import count, template_environment

FILE_NAME = "index.html"
TEMPLATE = "index.html.j2"

TRENDS = (
    # (label, published table, column of its Total row: the table's last row)
    ("Missing children cases", "missing_children_by_case_type", "total"),
    ("CyberTipline reports", "cybertipline_reports_by_source", "reports"),
    ("Files in CyberTipline reports", "cybertipline_files_by_type", "files"),
    ("CVIP law enforcement requests", "cvip_requests_by_agency", "requests"),
)

# Geometry of a trend chart, in SVG user units (CSS pixels at natural size).
WIDTH = 320
HEIGHT = 170
TOP = 22  # room for the value above the tallest bar
BOTTOM = 24  # room for the year under each bar
SIDE = 8
MAX_BAR = 44


@dataclass(frozen=True)
class YearRow:
    year: int
    release: str
    totals: list[str]


@dataclass(frozen=True)
class TrendBar:
    x: float
    y: float
    width: float
    height: float
    year: int
    value: str


@dataclass(frozen=True)
class TrendChart:
    id: str
    title: str
    description: str
    width: int
    height: int
    baseline: float
    bars: list[TrendBar]


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


def compact(value: int) -> str:
    """A bar's label, short enough for several years side by side (the table has the exact figure)."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1_000:.0f}k"
    return count(value)


def trend_chart(index: int, label: str, points: list[tuple[int, int]]) -> TrendChart:
    """Vertical bars, one per year, to the same scale; the value above each bar."""
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - 2 * SIDE) / max(len(points), 1)
    width = min(MAX_BAR, slot * 0.7)
    largest = max((v for _, v in points), default=0) or 1
    bars = []
    for position, (year, value) in enumerate(points):
        height = round(plot * value / largest, 2)
        bars.append(
            TrendBar(
                x=round(SIDE + position * slot + (slot - width) / 2, 2),
                y=round(TOP + plot - height, 2),
                width=round(width, 2),
                height=height,
                year=year,
                value=compact(value),
            )
        )
    description = "; ".join(f"{year}: {count(value)}" for year, value in points)
    return TrendChart(
        id=f"trend-{index + 1}",
        title=f"{label} by year",
        description=description,
        width=WIDTH,
        height=HEIGHT,
        baseline=TOP + plot,
        bars=bars,
    )


def index_context(published_root: Path) -> dict:
    years = published_years(published_root)
    values = {(year, table): total(release, table, column) for year, release in years for _, table, column in TRENDS}
    rows = [
        YearRow(year, release.name, [count(values[year, table]) for _, table, _ in TRENDS])
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
            os.chmod(handle.name, 0o644)
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    return path
