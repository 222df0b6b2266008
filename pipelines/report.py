"""The release's ``report.html``: the year's tables and charts on one self-contained page.

The page mirrors the sections of the "Our Impact" page: headline figures, Find Missing Children
and Reduce Child Sexual Exploitation. Every number on it is read from the release folder's
Parquet files, the very files that are published, and only formatted here; nothing is
recomputed from record-level data. Charts are inline SVG whose geometry is computed below; the
markup is in ``templates/report.html.j2`` (autoescaped: ESP names may hold ``<``, ``&`` or
quotes). No script, font, image or style sheet is fetched, so the page reads offline and prints.

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

from pipelines.config import MIN_PUBLIC_COUNT
from pipelines.seeds import read_seed
from pipelines.tables import spec, specs

FILE_NAME = "report.html"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "report.html.j2"

TOP_ESPS = 10
TOP_COUNTRIES = 15
NO_COUNTRY = "No Country Listed"
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

# Chart geometry, in SVG user units = CSS pixels at natural size (an SVG shrinks with the page).
CHART_WIDTH = 900
HALF_WIDTH = 500  # a chart beside a table
ROW_HEIGHT = 26
BAR_HEIGHT = 17
CHAR_WIDTH = 7.0  # average width of a 12.5px sans-serif character, to size the label column
MAX_LABEL_WIDTH = 380
VALUE_WIDTH = 150
TILE = 62
TILE_GAP = 4
LIGHT = (0xE3, 0xEE, 0xF7)
DARK = (0x12, 0x3F, 0x6E)


# ---------------------------------------------------------------------------------------------
# Formatting


def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


SUPPRESSED = "–"
"""How the public-use report shows a suppressed cell (docs/public-use.md)."""


def shown(value: int | None) -> str:
    """A count of a chart label; a suppressed (null) count of the public-use tables is "–"."""
    return SUPPRESSED if value is None else count(value)


def suppressed_note() -> str:
    return (
        f"{SUPPRESSED} suppressed to protect children: a count from 1 to {MIN_PUBLIC_COUNT - 1} "
        "(status C), or a cell from which such a count could be worked out with the totals "
        "(status D). suppressed_cells.csv lists every suppressed cell and its status."
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


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, int):
        return count(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class Column:
    title: str
    numeric: bool


@dataclass(frozen=True)
class Row:
    cells: list[str]
    total: bool = False


@dataclass
class TableView:
    id: str
    title: str
    file: str
    columns: list[Column]
    rows: list[Row]
    note: str = ""


def read_table(folder: Path, table: str) -> list[dict]:
    """The rows of a published table, in published order, from the release's Parquet file."""
    return pq.read_table(Path(folder) / f"{table}.parquet").to_pylist()


def table_view(
    table: str,
    rows: list[dict],
    columns: list[str],
    *,
    title: str | None = None,
    note: str = "",
    percent_columns: tuple[str, ...] = (),
    ends_with_total: bool = True,
    suppressed: dict[tuple[str, str], str] | None = None,
) -> TableView:
    """A published table for display: the given columns; the last row is the total row.
    ``suppressed`` (public-use tables): (row label, column) of cells shown as "–", footnoted."""
    hidden = suppressed or {}
    views = []
    for name in columns:
        sample = next((r[name] for r in rows if r[name] is not None), None)
        views.append(Column(spec(table).column(name).title, isinstance(sample, (int, Decimal))))
    body = []
    for index, row in enumerate(rows):
        cells = [
            SUPPRESSED if (row[columns[0]], c) in hidden else percent(row[c]) if c in percent_columns else _cell(row[c])
            for c in columns
        ]
        body.append(Row(cells, total=ends_with_total and index == len(rows) - 1))
    if any(SUPPRESSED in row.cells for row in body):
        note = f"{note} {suppressed_note()}".strip()
    return TableView(
        id=table.replace("_", "-"),
        title=title or spec(table).title,
        file=f"{table}.csv",
        columns=views,
        rows=body,
        note=note,
    )


def chunks(rows: list, parts: int) -> list[list]:
    size = -(-len(rows) // parts)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


# ---------------------------------------------------------------------------------------------
# Charts


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    css: str
    title: str


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    y: float
    segments: list[Segment]
    value_x: float
    value_text: str


@dataclass
class BarChart:
    id: str
    title: str
    width: int
    height: int
    label_width: float
    bars: list[Bar]
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def bar_height(self) -> int:
        return BAR_HEIGHT


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def bar_chart(
    chart_id: str,
    title: str,
    items: list[tuple[str, list[tuple[int, str, str]], str]],
    legend: list[tuple[str, str]] | None = None,
    *,
    width: int = CHART_WIDTH,
    max_label_width: float = MAX_LABEL_WIDTH,
    value_width: int = VALUE_WIDTH,
) -> BarChart:
    """Horizontal (optionally stacked) bars; ``width`` is the chart's natural width in pixels.

    ``items``: (label, [(value, css class, segment name)], value text) per bar, top to bottom.
    Labels longer than the label column are shortened with an ellipsis (the full label is the
    tooltip; the table next to the chart has it in full).
    """
    longest = max((len(label) for label, _, _ in items), default=0)
    label_width = min(longest * CHAR_WIDTH + 14, max_label_width)
    label_chars = int((label_width - 14) / CHAR_WIDTH)
    plot = width - label_width - value_width
    # a suppressed (None) part of a public-use table draws no bar
    largest = max((sum(v or 0 for v, _, _ in parts) for _, parts, _ in items), default=0) or 1
    bars = []
    for index, (label, parts, value_text) in enumerate(items):
        x = label_width
        segments = []
        for value, css, name in parts:
            length = round(plot * (value or 0) / largest, 2)
            if length > 0:
                segments.append(Segment(round(x, 2), length, css, f"{name}: {count(value)}"))
            x += length
        bars.append(
            Bar(
                label=_shorten(label, label_chars),
                full_label=label,
                y=6 + index * ROW_HEIGHT,
                segments=segments,
                value_x=round(x + 6, 2),
                value_text=value_text,
            )
        )
    return BarChart(
        id=chart_id,
        title=title,
        width=width,
        height=12 + len(items) * ROW_HEIGHT,
        label_width=round(label_width, 2),
        bars=bars,
        legend=legend or [],
    )


def simple_bars(
    chart_id: str, title: str, table: str, rows: list[dict], label: str, value: str, **geometry
) -> BarChart:
    return bar_chart(
        chart_id,
        title,
        [(r[label], [(r[value], "bar", spec(table).column(value).title)], shown(r[value])) for r in rows],
        **geometry,
    )


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    x: int
    y: int
    fill: str
    dark: bool
    text: str


@dataclass
class TileMap:
    id: str
    title: str
    width: int
    height: int
    tiles: list[Tile]
    legend_low: str
    legend_high: str
    light: str
    dark: str
    international: str


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _shade(share: float) -> tuple[str, bool]:
    rgb = tuple(round(lo + (hi - lo) * share) for lo, hi in zip(LIGHT, DARK))
    return _hex(rgb), share > 0.5


@cache
def _state_codes() -> dict[str, str]:
    return {
        s.name: s.code.removeprefix("US-")
        for s in pycountry.subdivisions.get(country_code="US")
        if s.code.removeprefix("US-") in STATE_TILES
    }


def state_map(rows: list[dict]) -> TileMap:
    """A tile-grid map of cases by state; rows are missing_children_by_state without Total."""
    codes = _state_codes()
    by_code = {codes[r["missing_state"]]: r for r in rows if r["missing_state"] in codes}
    missing = sorted(set(STATE_TILES) - set(by_code))
    if missing:
        raise ValueError(f"missing_children_by_state has no row for {missing}")
    largest = max(r["total"] or 0 for r in by_code.values()) or 1
    tiles = []
    for code, (row, col) in sorted(STATE_TILES.items(), key=lambda item: (item[1], item[0])):
        record = by_code[code]
        fill, dark = _shade((record["total"] or 0) / largest)
        tiles.append(
            Tile(
                code=code,
                name=record["missing_state"],
                x=col * (TILE + TILE_GAP),
                y=row * (TILE + TILE_GAP),
                fill=fill,
                dark=dark,
                text=shown(record["total"]),
            )
        )
    international = next((r for r in rows if r["missing_state"] not in codes), None)
    return TileMap(
        id="chart-state-map",
        title="Missing children by state (all cases of the year)",
        width=11 * (TILE + TILE_GAP),
        height=8 * (TILE + TILE_GAP),
        tiles=tiles,
        legend_low="0",
        legend_high=count(largest),
        light=_hex(LIGHT),
        dark=_hex(DARK),
        international=(f"{international['missing_state']}: {shown(international['total'])}" if international else ""),
    )


# ---------------------------------------------------------------------------------------------
# Headline figures


@dataclass(frozen=True)
class Figure:
    text: str  # display_text as published, e.g. "more than 5 million"
    label: str
    note: str

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


def _catalog() -> dict[tuple[str, str], dict]:
    return {(r["metric_id"], r["period"]): r for r in read_seed("metric_catalog")}


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


def headline_figures(rows: list[dict], year: int) -> list[Figure]:
    catalog = _catalog()
    figures = []
    for row in rows:
        key = (row["metric_id"], row["period"])
        if key not in catalog:
            raise KeyError(f"headline metric {key} is not in sql/seeds/metric_catalog.csv")
        figures.append(
            Figure(
                row["display_text"] or SUPPRESSED,
                catalog[key]["label"],
                _period_note(row["period"], row["since"], year),
            )
        )
    return figures


# ---------------------------------------------------------------------------------------------
# The page


def _without_total(rows: list[dict]) -> list[dict]:
    return rows[:-1]


OWN_SECTIONS = {
    "missing_children_by_case_type",
    "missing_children_by_age_and_race",
    "missing_children_by_state",
    "cvip_requests_by_agency",
    "offender_relationship_actively_traded",
    "cybertipline_reports_by_source",
    "cybertipline_files_by_type",
    "cybertipline_reports_by_incident_type",
    "cybertipline_reports_by_esp",
    "cybertipline_reports_by_country",
    "headline_metrics",
}
"""Tables the page lays out with charts of their own; every other published table gets a plain
section from its spec (its title, its columns' titles), so a new table shows without a change
here."""


def report_context(folder: Path, year: int, revision: str = "") -> dict:
    """Everything the template shows, read from the release folder's Parquet files."""
    t = {name: read_table(folder, name) for name in specs()}
    for name, rows in t.items():
        if not rows:
            raise ValueError(f"{name}.parquet in {folder} has no rows")
        if any(r["year"] != year for r in rows):
            raise ValueError(f"{name}.parquet in {folder} holds rows of another year than {year}")

    case_type = t["missing_children_by_case_type"]
    age_race = t["missing_children_by_age_and_race"]
    state = t["missing_children_by_state"]
    esp = t["cybertipline_reports_by_esp"]
    country = t["cybertipline_reports_by_country"]
    relationships = t["offender_relationship_actively_traded"]
    hidden = read_suppressed(folder)

    esps = _without_total(esp)
    top_esps = esps[:TOP_ESPS] + esp[-1:]
    countries = [r for r in _without_total(country) if r["country"] != NO_COUNTRY]
    no_country = [r for r in country if r["country"] == NO_COUNTRY]
    top_countries = sorted(countries, key=lambda r: (-r["reports"], r["country"]))[:TOP_COUNTRIES]
    race_columns = [c for c in age_race[0] if c not in ("year", "age_group")]

    state_columns = ["missing_state", "active", "resolved", "total"]
    state_parts = chunks(state, 3)  # three tables side by side; the Total is in the last
    state_tables = [
        table_view(
            "missing_children_by_state",
            part,
            state_columns,
            ends_with_total=part is state_parts[-1],
            suppressed=hidden.get("missing_children_by_state"),
        )
        for part in state_parts
    ]

    return {
        "year": year,
        "title": f"Our Impact {year}" + (" (public use)" if (folder / "suppressed_cells.parquet").exists() else ""),
        "revision": revision,
        "headline": headline_figures(t["headline_metrics"], year),
        "case_type": table_view(
            "missing_children_by_case_type",
            case_type,
            ["case_type", "active", "resolved", "total"],
            suppressed=hidden.get("missing_children_by_case_type"),
        ),
        "case_type_chart": bar_chart(
            "chart-case-type",
            "Missing children by case type: active and resolved cases",
            [
                (
                    r["case_type"],
                    [
                        (r["active"], "seg-active", spec("missing_children_by_case_type").column("active").title),
                        (r["resolved"], "seg-resolved", spec("missing_children_by_case_type").column("resolved").title),
                    ],
                    shown(r["total"]),
                )
                for r in _without_total(case_type)
            ],
            legend=[
                ("seg-active", spec("missing_children_by_case_type").column("active").title),
                ("seg-resolved", spec("missing_children_by_case_type").column("resolved").title),
            ],
            width=HALF_WIDTH,
            max_label_width=230,
            value_width=64,
        ),
        "age_race": table_view(
            "missing_children_by_age_and_race",
            age_race,
            ["age_group", *race_columns],
            suppressed=hidden.get("missing_children_by_age_and_race"),
        ),
        "age_chart": simple_bars(
            "chart-age-group",
            "Missing children by age group",
            "missing_children_by_age_and_race",
            _without_total(age_race),
            "age_group",
            "total",
        ),
        "state_map": state_map(_without_total(state)),
        "state_tables": state_tables,
        "state_file": "missing_children_by_state.csv",
        "source": table_view(
            "cybertipline_reports_by_source", t["cybertipline_reports_by_source"], ["reporter_type", "reports"]
        ),
        "files": table_view("cybertipline_files_by_type", t["cybertipline_files_by_type"], ["file_type", "files"]),
        "incident": table_view(
            "cybertipline_reports_by_incident_type",
            t["cybertipline_reports_by_incident_type"],
            ["incident_type", "reports"],
        ),
        "incident_chart": simple_bars(
            "chart-incident-type",
            "CyberTipline reports by incident type",
            "cybertipline_reports_by_incident_type",
            _without_total(t["cybertipline_reports_by_incident_type"]),
            "incident_type",
            "reports",
        ),
        "esp": table_view(
            "cybertipline_reports_by_esp",
            top_esps,
            ["esp_name", "reports"],
            title=f"CyberTipline reports by electronic service provider: top {min(TOP_ESPS, len(esps))}",
            note=(
                f"{count(len(esps))} electronic service providers reported in {year}; "
                "the Total is of all of them. Every one is in cybertipline_reports_by_esp.csv."
            ),
        ),
        "esp_chart": simple_bars(
            "chart-esp",
            "CyberTipline reports of the largest reporting ESPs",
            "cybertipline_reports_by_esp",
            esps[:TOP_ESPS],
            "esp_name",
            "reports",
            width=HALF_WIDTH,
            max_label_width=180,
            value_width=90,
        ),
        "country": table_view(
            "cybertipline_reports_by_country",
            top_countries + no_country + country[-1:],
            ["country", "reports"],
            title=f"CyberTipline reports by country: top {min(TOP_COUNTRIES, len(countries))}",
            note=(
                f"Reports name {count(len(countries))} countries in {year}; the Total is of all "
                "reports. Every country is in cybertipline_reports_by_country.csv."
            ),
        ),
        "country_chart": simple_bars(
            "chart-country",
            "CyberTipline reports of the countries with the most reports",
            "cybertipline_reports_by_country",
            top_countries,
            "country",
            "reports",
            width=HALF_WIDTH,
            max_label_width=190,
            value_width=90,
        ),
        "cvip": table_view(
            "cvip_requests_by_agency",
            t["cvip_requests_by_agency"],
            ["agency_type", "requests", "images", "videos"],
        ),
        "relationships": table_view(
            "offender_relationship_actively_traded",
            relationships,
            ["relationship", "known_relationships", "percent_of_total"],
            percent_columns=("percent_of_total",),
            suppressed=hidden.get("offender_relationship_actively_traded"),
        ),
        "more_tables": [
            table_view(name, t[name], spec(name).column_names[1:], ends_with_total=spec(name).total is not None)
            for name in specs()
            if name not in OWN_SECTIONS
        ],
        "relationships_chart": bar_chart(
            "chart-relationships",
            "Known offender relationships of children in actively traded imagery",
            [
                (
                    r["relationship"],
                    [
                        (
                            r["known_relationships"],
                            "bar-alt",
                            spec("offender_relationship_actively_traded").column("known_relationships").title,
                        )
                    ],
                    f"{count(r['known_relationships'])} ({percent(r['percent_of_total'])})"
                    if r["known_relationships"] is not None
                    else SUPPRESSED,
                )
                for r in _without_total(relationships)
            ],
            width=HALF_WIDTH,
            max_label_width=190,
            value_width=110,
        ),
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


def render_report(folder: Path, year: int, revision: str = "") -> str:
    """The report page of the release in ``folder``, as HTML text; ``revision`` is the line
    saying what changed since the release it replaces (none for a year's first release)."""
    return template_environment().get_template(TEMPLATE).render(**report_context(Path(folder), year, revision))


def write_report(folder: Path, year: int, revision: str = "") -> Path:
    """Write ``folder/report.html``; returns its path."""
    path = Path(folder) / FILE_NAME
    path.write_text(render_report(folder, year, revision), encoding="utf-8", newline="\n")
    return path
