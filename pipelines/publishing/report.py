"""The release's ``report.html``: the year's tables and charts on one self-contained page.

Every published table gets a section, derived from its spec (pipelines/tables/<table>.py): its
title, its columns' titles, the label column as row headers, the total row, counts and percents
formatted, suppressed cells footnoted. What a table shows besides (a chart, a map, only its top
rows) is a small presentation hint in ``PAGE`` below; a table without a hint gets a plain
section under "More tables", so a new table appears on the page without a change here.

Every number on the page is read from the release folder's Parquet files, the very files that are
published, and only formatted here; nothing is recomputed from record-level data. Charts are HTML
bars and a tile map laid out by CSS, so their text wraps and keeps its size on a phone. The markup
is in ``templates/report.html.j2`` (autoescaped: ESP names may hold ``<``, ``&`` or quotes). No
script, font, image or style sheet is fetched, so the page reads offline and prints.

The output is part of the release and must be byte-identical from run to run: no time stamp,
rows in published order, ties broken by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2
import pyarrow.parquet as pq
import pycountry

from pipelines.core.config import MIN_PUBLIC_COUNT
from pipelines.core.seeds import metric_catalog
from pipelines.tables import NO_COUNTRY, TableSpec, specs
from pipelines.tables.headline_metrics import display_text

FILE_NAME = "report.html"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"

QUALIFIERS = ("more than", "over")

# Tile-grid map of the 50 states, DC and Puerto Rico: USPS code -> (row, column).
STATE_TILES = {
    "AK": (0, 0),
    "ME": (0, 10),
    "VT": (1, 9),
    "NH": (1, 10),
    "WA": (2, 0),
    "ID": (2, 1),
    "MT": (2, 2),
    "ND": (2, 3),
    "MN": (2, 4),
    "IL": (2, 5),
    "WI": (2, 6),
    "MI": (2, 7),
    "NY": (2, 8),
    "RI": (2, 9),
    "MA": (2, 10),
    "OR": (3, 0),
    "NV": (3, 1),
    "WY": (3, 2),
    "SD": (3, 3),
    "IA": (3, 4),
    "IN": (3, 5),
    "OH": (3, 6),
    "PA": (3, 7),
    "NJ": (3, 8),
    "CT": (3, 9),
    "CA": (4, 0),
    "UT": (4, 1),
    "CO": (4, 2),
    "NE": (4, 3),
    "MO": (4, 4),
    "KY": (4, 5),
    "WV": (4, 6),
    "VA": (4, 7),
    "MD": (4, 8),
    "DE": (4, 9),
    "AZ": (5, 1),
    "NM": (5, 2),
    "KS": (5, 3),
    "AR": (5, 4),
    "TN": (5, 5),
    "NC": (5, 6),
    "SC": (5, 7),
    "DC": (5, 8),
    "OK": (6, 3),
    "LA": (6, 4),
    "MS": (6, 5),
    "AL": (6, 6),
    "GA": (6, 7),
    "HI": (7, 0),
    "TX": (7, 3),
    "FL": (7, 7),
    "PR": (7, 9),
}

# The tile map's colour ramp, from the smallest count to the largest.
LIGHT = (0xE3, 0xEE, 0xF7)
DARK = (0x12, 0x3F, 0x6E)
SHORT_LABEL = 12
"""A bar label of at most this many characters stays beside its bar on a phone."""
SEGMENTS = ("seg-1", "seg-2", "seg-3")
"""CSS classes of the parts of a stacked bar, in order (the page has colours for three)."""


# ---------------------------------------------------------------------------------------------
# The page: its parts, and how a table is shown beyond its plain section


@dataclass(frozen=True)
class Show:
    """How the report shows one table besides its section (title, header, rows, notes)."""

    chart: str | None = None
    """``bars`` (the total of each row), ``stacked`` (the parts of ``row_total``), ``map`` (a
    tile map of US states) or ``figures`` (the headline figures as cards instead of a table)."""
    top: int | None = None
    """Only the rows with the largest counts, then ``keep`` and the total row (every row is in
    the CSV next to the page)."""
    keep: tuple[str, ...] = ()
    """Rows shown after the top rows, outside the ranking (e.g. No Country Listed)."""
    hide: tuple[str, ...] = ()
    """Columns not shown on the page (still in the CSV)."""
    split: int = 1
    """A long table shown as this many tables side by side on a wide screen."""


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    lead: str  # "{year}" is the year
    tables: dict[str, Show]


FIND = Part(
    "find-missing-children",
    "Find Missing Children",
    "Cases of {year}: children reported missing in {year}, and children reported missing earlier and "
    "recovered in {year}. Active cases were still open on December 31.",
    {
        "missing_children_by_case_type": Show(chart="stacked"),
        "missing_children_by_age_and_race": Show(chart="bars"),
        "missing_children_by_state": Show(chart="map", split=3),
    },
)
REDUCE = Part(
    "reduce-child-sexual-exploitation",
    "Reduce Child Sexual Exploitation",
    "Reports to the CyberTipline received in {year}, and the work of the Child Victim Identification Program.",
    {
        "cybertipline_reports_by_source": Show(),
        "cybertipline_files_by_type": Show(),
        "cybertipline_reports_by_incident_type": Show(chart="bars"),
        "cybertipline_reports_by_esp": Show(chart="bars", top=10),
        "cybertipline_reports_by_country": Show(chart="bars", top=15, keep=(NO_COUNTRY,), hide=("country_code",)),
        "cvip_requests_by_agency": Show(),
        "offender_relationship_actively_traded": Show(chart="bars"),
    },
)
MORE = Part("more-tables", "More tables", "The year's other published tables.", {})
HEADLINE = Part(
    "headline-figures",
    "Headline figures",
    "The year's figures as they are written in prose, in metric-catalog order.",
    {"headline_metrics": Show(chart="figures")},
)
PAGE = (FIND, REDUCE, MORE, HEADLINE)
"""The parts of the page, top to bottom; a table no part names goes to ``MORE``."""


def show_of(table: str) -> Show:
    """The table's presentation hint; a plain section for a table without one."""
    return next((part.tables[table] for part in PAGE if table in part.tables), Show())


# ---------------------------------------------------------------------------------------------
# Formatting


def count(value: int | None) -> str:
    """A count as the tables show it: exact, with thousands separators."""
    return "" if value is None else f"{value:,}"


def short(value: int) -> str:
    """A count as the page writes it in a chart or a sentence: exact below a million, else in
    millions truncated (never rounded) to one decimal, the display rule of the headline figures:
    65,465,314 is "65.4 million"."""
    if abs(value) < 1_000_000:
        return count(value)
    text = display_text(abs(value), None, 100_000, "million")
    return f"-{text}" if value < 0 else text


SUPPRESSED = "–"
"""How the public-use report shows a suppressed cell (docs/public-use.md)."""


def shown(value: int | None) -> str:
    """A chart's value; a suppressed (null) count of the public-use tables is "–"."""
    return SUPPRESSED if value is None else short(value)


def suppressed_note(k: int = MIN_PUBLIC_COUNT) -> str:
    """The footnote of a public-use table with suppressed cells; ``k``: the release's K."""
    return (
        f"{SUPPRESSED} suppressed to protect children: a count from 1 to {k - 1}, or a "
        "cell withheld so that no such count can be worked out or shown to be small; which of the "
        "two is not said. suppressed_cells.csv lists every suppressed cell (flag C, confidential)."
    )


def read_suppressed(folder: Path) -> dict[str, dict[tuple[str, str], str]]:
    """The suppressed cells of a public-use folder: table -> {(row label, column): status};
    empty for a release folder (it holds the exact tables)."""
    path = Path(folder) / "suppressed_cells.parquet"
    if not path.exists():
        return {}
    found: dict[str, dict[tuple[str, str], str]] = {}
    for r in pq.read_table(path).to_pylist():
        found.setdefault(r["table_name"], {})[(r["row_label"], r["column_name"])] = r["conf_status"]
    return found


def percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}%"


def _cell(value, is_percent: bool = False) -> str:
    if value is None:
        return ""
    if is_percent:
        return percent(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, int):
        return count(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Charts: HTML bars (lengths in percent of the longest) and a tile map


@dataclass(frozen=True)
class Segment:
    width: float  # percent of the bar track
    css: str
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    segments: list[Segment]
    value: str


@dataclass
class BarChart:
    id: str
    title: str
    bars: list[Bar]
    legend: list[tuple[str, str]] = field(default_factory=list)
    kind: str = "bars"

    @property
    def long_labels(self) -> bool:
        """Labels too long to share a phone's line with their bar: shown above it there."""
        return any(len(bar.label) > SHORT_LABEL for bar in self.bars)


def bar_chart(
    chart_id: str,
    title: str,
    items: list[tuple[str, list[tuple[int | None, str, str]], str]],
    legend: list[tuple[str, str]] | None = None,
) -> BarChart:
    """Horizontal (optionally stacked) bars to one scale, top to bottom.

    ``items``: (label, [(value, css class, segment name)], value text) per bar. A suppressed
    (None) part of a public-use table draws nothing.
    """
    largest = max((sum(v or 0 for v, _, _ in parts) for _, parts, _ in items), default=0) or 1
    bars = []
    for label, parts, value_text in items:
        segments = [
            Segment(round(100 * value / largest, 2), css, f"{name}: {count(value)}")
            for value, css, name in parts
            if value
        ]
        bars.append(Bar(label, segments, value_text))
    return BarChart(id=chart_id, title=title, bars=bars, legend=legend or [])


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    row: int
    column: int
    fill: str
    dark: bool
    text: str


@dataclass
class TileMap:
    id: str
    title: str
    tiles: list[Tile]
    legend_low: str
    legend_high: str
    light: str
    dark: str
    international: str
    kind: str = "map"


def _hex(rgb: tuple[int, ...]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _luminance(rgb: tuple[int, ...]) -> float:
    """Relative luminance (WCAG 2.1)."""
    linear = [c / 255 / 12.92 if c <= 0.04045 * 255 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _shade(share: float) -> tuple[str, bool]:
    """The tile colour of a share of the largest count, and whether white text reads better on
    it than black (the larger contrast ratio; one of the two is always at least 4.5:1)."""
    rgb = tuple(round(lo + (hi - lo) * share) for lo, hi in zip(LIGHT, DARK))
    background = _luminance(rgb)
    return _hex(rgb), 1.05 / (background + 0.05) > (background + 0.05) / 0.05


@cache
def _state_codes() -> dict[str, str]:
    return {
        s.name: s.code.removeprefix("US-")
        for s in pycountry.subdivisions.get(country_code="US")
        if s.code.removeprefix("US-") in STATE_TILES
    }


def state_map(chart_id: str, title: str, rows: list[dict], label: str, value: str) -> TileMap:
    """A tile-grid map of ``value`` by state; ``rows`` are the category rows (no total row)."""
    codes = _state_codes()
    by_code = {codes[r[label]]: r for r in rows if r[label] in codes}
    missing = sorted(set(STATE_TILES) - set(by_code))
    if missing:
        raise ValueError(f"the state map has no row for {missing}")
    largest = max(r[value] or 0 for r in by_code.values()) or 1
    tiles = []
    for code, (row, column) in sorted(STATE_TILES.items(), key=lambda item: (item[1], item[0])):
        record = by_code[code]
        fill, dark = _shade((record[value] or 0) / largest)
        tiles.append(Tile(code, record[label], row + 1, column + 1, fill, dark, shown(record[value])))
    international = next((r for r in rows if r[label] not in codes), None)
    return TileMap(
        id=chart_id,
        title=title,
        tiles=tiles,
        legend_low="0",
        legend_high=short(largest),
        light=_hex(LIGHT),
        dark=_hex(DARK),
        international=(f"{international[label]}: {shown(international[value])}" if international else ""),
    )


# ---------------------------------------------------------------------------------------------
# Headline figures


@dataclass(frozen=True)
class Figure:
    text: str  # display_text as published, e.g. "more than 5 million"
    label: str
    note: str
    change: str = ""

    @property
    def qualifier(self) -> str:
        """The bound a display text starts with ("more than", "over"), shown on its own line."""
        for prefix in QUALIFIERS:
            if self.text.startswith(prefix + " "):
                return prefix
        return ""

    @property
    def figure(self) -> str:
        return self.text.removeprefix(self.qualifier).strip()


def _period_note(period: str, since: int | None, year: int) -> str:
    if period == "year":
        return f"in {year}"
    if period == "prior_year":
        return f"in {year - 1}"
    if period == "current":
        return f"at the end of {year}"
    if period == "cumulative":
        return f"since {since}, through {year}" if since else f"all years through {year}"
    raise ValueError(f"unknown period {period!r} in headline_metrics")


def change_note(change: int | None, year: int) -> str:
    """The published change from the same figure in last year's release, in words."""
    if change is None:
        return ""
    if change == 0:
        return f"unchanged since the {year - 1} release"
    return f"{'up' if change > 0 else 'down'} {short(abs(change))} since the {year - 1} release"


def headline_figures(rows: list[dict], year: int) -> list[Figure]:
    catalog = metric_catalog()
    figures = []
    for row in rows:
        key = (row["metric_id"], row["period"])
        if key not in catalog:
            raise KeyError(f"headline metric {key} is not in sql/seeds/metric_catalog.csv")
        figures.append(
            Figure(
                row["display_text"] or SUPPRESSED,
                catalog[key].label,
                _period_note(row["period"], row["since"], year),
                change_note(row.get("change_from_prior_year"), year),
            )
        )
    return figures


# ---------------------------------------------------------------------------------------------
# Sections, derived from the specs


@dataclass(frozen=True)
class ColumnView:
    title: str
    numeric: bool


@dataclass(frozen=True)
class Row:
    cells: list[str]
    total: bool = False


@dataclass
class Section:
    """One published table on the page."""

    id: str
    title: str
    file: str
    columns: list[ColumnView]
    parts: list[list[Row]]
    """The rows, in ``Show.split`` tables side by side (one table for most)."""
    notes: list[str] = field(default_factory=list)
    charts: list[BarChart | TileMap] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def read_table(folder: Path, table: str) -> list[dict]:
    """The rows of a published table, in published order, from the release's Parquet file."""
    return pq.read_table(Path(folder) / f"{table}.parquet").to_pylist()


def chunks(rows: list, parts: int) -> list[list]:
    size = max(-(-len(rows) // parts), 1)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def value_column(table: TableSpec) -> str:
    """The count a chart of the table draws: the row total, or the table's only count."""
    if table.row_total:
        return table.row_total[1]
    if len(table.count_columns) == 1:
        return table.count_columns[0]
    raise ValueError(f"{table.name}: a chart needs a row total or a single count column")


def shown_columns(table: TableSpec, show: Show) -> list[str]:
    """The label column first (the row headers), then the others in published order."""
    first = table.label or table.columns[0].name
    return [first] + [c.name for c in table.columns if c.name != first and c.name not in show.hide]


def ranked(table: TableSpec, show: Show, rows: list[dict]) -> tuple[list[dict], list[dict], str]:
    """(the category rows a chart draws, the rows the table shows, a note on what is left out)."""
    categories = rows[:-1] if table.total else rows
    total = rows[-1:] if table.total else []
    if show.top is None:
        return categories, rows, ""
    label, value = shown_columns(table, show)[0], value_column(table)
    candidates = [r for r in categories if r[label] not in show.keep]
    top = sorted(candidates, key=lambda r: (-(r[value] or 0), r[label]))[: show.top]
    kept = [r for r in categories if r[label] in show.keep]
    note = (
        f"Shown: the {len(top)} of {count(len(candidates))} rows with the most "
        f"{table.column(value).title.lower()}"
        + "".join(f", then {r[label]}" for r in kept)
        + (f", and the {table.total} of all rows" if total else "")
        + f". Every row is in {table.name}.csv."
    )
    if len(top) == len(candidates):
        note = ""  # every row is shown
    return top, top + kept + total, note


def chart(table: TableSpec, show: Show, rows: list[dict]) -> BarChart | TileMap | None:
    """The chart of a table's category rows, as its hint says; None without one."""
    if show.chart in (None, "figures"):
        return None
    label, value = shown_columns(table, show)[0], value_column(table)
    chart_id = "chart-" + table.name.replace("_", "-")
    what = f"{table.column(value).title.lower()} per {table.column(label).title.lower()}"
    if show.top and len(rows) == show.top:
        what += f", top {len(rows)}"
    title = f"{table.title}: {what}"
    if show.chart == "map":
        return state_map(chart_id, title, rows, label, value)
    if show.chart == "stacked":
        parts = list(zip(table.row_total[0], SEGMENTS, strict=False)) if table.row_total else []
        if not table.row_total or len(parts) != len(table.row_total[0]):
            raise ValueError(f"{table.name}: a stacked chart needs a row total of at most {len(SEGMENTS)} parts")
        return bar_chart(
            chart_id,
            title,
            [(r[label], [(r[c], css, table.column(c).title) for c, css in parts], shown(r[value])) for r in rows],
            legend=[(css, table.column(c).title) for c, css in parts],
        )
    if show.chart == "bars":
        share = next((p for p, c in table.percents if c == value), None)
        return bar_chart(
            chart_id,
            title,
            [
                (
                    r[label],
                    [(r[value], "bar", table.column(value).title)],
                    shown(r[value])
                    + (f" ({percent(r[share])})" if share and r[value] is not None and r[share] is not None else ""),
                )
                for r in rows
            ],
        )
    raise ValueError(f"{table.name}: unknown chart {show.chart!r}")


def section(
    table: TableSpec,
    show: Show,
    rows: list[dict],
    year: int,
    suppressed: dict[tuple[str, str], str] | None = None,
    k: int = MIN_PUBLIC_COUNT,
) -> Section:
    """A published table for display, from its spec: the shown columns with their titles, the
    label column as row headers, the total row marked; ``suppressed`` (public-use tables): the
    (row label, column) of cells shown as "–", footnoted once."""
    hidden = suppressed or {}
    columns = shown_columns(table, show)
    numeric = {c.name: c.is_count or c.dtype.is_numeric() for c in table.columns}
    percents = {p for p, _ in table.percents}
    chart_rows, rows, note = ranked(table, show, rows)
    body = [
        Row(
            [SUPPRESSED if (row[columns[0]], c) in hidden else _cell(row[c], c in percents) for c in columns],
            total=bool(table.total) and index == len(rows) - 1,
        )
        for index, row in enumerate(rows)
    ]
    notes = [note] if note else []
    if any(SUPPRESSED in row.cells for row in body):
        notes.append(suppressed_note(k))
    drawn = chart(table, show, chart_rows)
    return Section(
        id=table.name.replace("_", "-"),
        title=f"{table.title}: top {len(chart_rows)}" if note else table.title,
        file=f"{table.name}.csv",
        columns=[ColumnView(table.column(c).title, numeric[c]) for c in columns],
        parts=chunks(body, show.split),
        notes=notes,
        charts=[drawn] if drawn else [],
        figures=headline_figures(rows, year) if show.chart == "figures" else [],
    )


@dataclass
class PartView:
    id: str
    title: str
    lead: str
    sections: list[Section]


SYNTHETIC_NOTE = (
    "Made from synthetic demo exports (impact demo-data), not from real records: "
    "the figures show how the product works and describe no real child or case."
)
"""What a release made from demo exports says of itself (reports, data packages, index)."""


def report_context(
    folder: Path,
    year: int,
    revision: str = "",
    synthetic: bool = False,
    public_copy: str = "",
    k: int = MIN_PUBLIC_COUNT,
) -> dict:
    """Everything the template shows, read from the release folder's Parquet files.
    ``synthetic``: the release was made from demo exports (a banner says so); ``public_copy``:
    the line on the public-use copy (which release it reflects; why a release has none); ``k``:
    the K of the public copy's suppression."""
    tables = specs()
    t = {name: read_table(folder, name) for name in tables}
    for name, rows in t.items():
        if not rows:
            raise ValueError(f"{name}.parquet in {folder} has no rows")
        if any(r["year"] != year for r in rows):
            raise ValueError(f"{name}.parquet in {folder} holds rows of another year than {year}")
    hidden = read_suppressed(folder)
    placed = {name for part in PAGE for name in part.tables}
    parts = []
    for part in PAGE:
        names = list(part.tables) if part is not MORE else [n for n in tables if n not in placed]
        sections = [section(tables[n], show_of(n), t[n], year, hidden.get(n), k) for n in names if n in tables]
        if sections:
            parts.append(PartView(part.id, part.title, part.lead.format(year=year), sections))
    return {
        "year": year,
        "title": f"Our Impact {year}" + (" (public use)" if (folder / "suppressed_cells.parquet").exists() else ""),
        "revision": revision,
        "parts": parts,
        # The sibling report: the public one beside the exact one (in public/), and back; a link
        # only where the other report's tables are there (a folder written on its own has none).
        "public_use": (folder / "suppressed_cells.parquet").exists(),
        "sibling": (
            ("../report.html" if (folder.parent / "headline_metrics.parquet").exists() else "")
            if (folder / "suppressed_cells.parquet").exists()
            else ("public/report.html" if (folder / "public" / "suppressed_cells.parquet").exists() else "")
        ),
        "synthetic": SYNTHETIC_NOTE if synthetic else "",
        "public_copy": public_copy,
    }


@cache
def template_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_report(
    folder: Path,
    year: int,
    revision: str = "",
    synthetic: bool = False,
    public_copy: str = "",
    k: int = MIN_PUBLIC_COUNT,
) -> str:
    """The report page of the release in ``folder``, as HTML text; ``revision`` is the line
    saying what changed since the release it replaces (none for a year's first release)."""
    context = report_context(Path(folder), year, revision, synthetic, public_copy, k)
    return template_environment().get_template(TEMPLATE).render(**context)


def write_report(
    folder: Path,
    year: int,
    revision: str = "",
    synthetic: bool = False,
    public_copy: str = "",
    k: int = MIN_PUBLIC_COUNT,
) -> Path:
    """Write ``folder/report.html``; returns its path."""
    path = Path(folder) / FILE_NAME
    path.write_text(render_report(folder, year, revision, synthetic, public_copy, k), encoding="utf-8", newline="\n")
    return path
