"""report.html's sections come from the table specs: every published table gets one (title,
column titles, row headers, total row, notes), and a new table gets one without a change to the
report's code. No Dagster here: the release folder holds each table as its second computation
(polars, straight from a small export) writes it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.publishing import report
from pipelines.tables import TOTAL, Column, TableSpec, count, label, specs
from pipelines.tables.raw_year import RawYear
from tests.exports import YearExports

YEAR = 2020


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every published table of a small year, as Parquet, in a release folder."""
    root = tmp_path_factory.mktemp("sections")
    raw = RawYear(YearExports.small(YEAR).write(root / "raw"), YEAR)
    folder = root / "release"
    folder.mkdir()
    for name, table in specs().items():
        table.second_computation(raw).write_parquet(folder / f"{name}.parquet")
    return folder


def articles(html: str) -> dict[str, str]:
    """Each section's markup by its id."""
    return dict(re.findall(r'<article class="block[^"]*" id="([^"]+)">(.*?)</article>', html, re.S))


def test_every_table_has_a_section_with_the_titles_of_its_spec(release: Path) -> None:
    html = report.render_report(release, YEAR)
    found = articles(html)
    for name, table in specs().items():
        body = found[name.replace("_", "-")]
        if name == "headline_metrics":
            assert 'class="figure-card"' in body
            continue
        assert f"<h3>{table.title}" in body
        headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', body)
        hidden = [table.column(c).title for c in report.show_of(name).hide]
        assert headers[0] == table.column(table.label).title
        assert sorted(set(headers)) == sorted({c.title for c in table.columns} - set(hidden))
        if table.total:
            assert f'<tr class="total"><th scope="row">{table.total}</th>' in body
        assert f'href="{name}.csv"' in body


def test_chart_labels_are_whole(release: Path) -> None:
    """A long category label is shown in full in its chart (it wraps; it is never cut)."""
    body = articles(report.render_report(release, YEAR))["missing-children-by-case-type"]
    labels = re.findall(r'<span class="bar-label">([^<]*)</span>', body)
    assert "Lost, Injured, or Otherwise Missing" in labels
    assert not any(label.endswith("…") for label in labels)


def test_a_new_table_gets_a_section_without_a_change_to_the_report(
    release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A twelfth table: its spec and its Parquet file are all the report needs."""
    twelfth = TableSpec(
        name="cvip_trainings_by_region",
        title="CVIP trainings by region",
        description="Trainings and attendees by region, then the Total.",
        label="region",
        columns=(
            label("region", "Region", "Region of the training, then Total."),
            count("trainings", "Trainings", "Trainings held in the year."),
            count("attendees", "Attendees", "People trained in the year."),
            Column("share", "Share", "Share of all trainings, in percent.", pl.Decimal(5, 2)),
        ),
        percents=(("share", "trainings"),),
        primary_key=("year", "region"),
        counts_children=False,
    )
    rows = [
        {"year": YEAR, "region": "North & East", "trainings": 2, "attendees": 1500, "share": Decimal("100.00")},
        {"year": YEAR, "region": TOTAL, "trainings": 2, "attendees": 1500, "share": Decimal("100.00")},
    ]
    pl.DataFrame(rows).write_parquet(release / "cvip_trainings_by_region.parquet")
    monkeypatch.setattr(report, "specs", lambda: {**specs(), twelfth.name: twelfth})
    try:
        html = report.render_report(release, YEAR)
    finally:
        (release / "cvip_trainings_by_region.parquet").unlink()
    assert '<li><a href="#more-tables">More tables</a></li>' in html
    more = html[html.index('<section class="part" id="more-tables">') :]
    body = articles(more)["cvip-trainings-by-region"]
    assert "<h3>CVIP trainings by region</h3>" in body
    assert re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', body) == ["Region", "Trainings", "Attendees", "Share"]
    cells = '<td class="num">2</td><td class="num">1,500</td><td class="num">100.00%</td>'
    assert f'<th scope="row">North &amp; East</th>{cells}' in body  # a percent column of the spec
    assert '<tr class="total"><th scope="row">Total</th>' in body
    assert 'href="cvip_trainings_by_region.csv"' in body


def test_a_footnote_shows_once_under_a_table_split_in_three(release: Path, tmp_path: Path) -> None:
    """The public-use state table, shown as three tables side by side, has one footnote."""
    table = pq.read_table(release / "missing_children_by_state.parquet").to_pylist()
    suppressed = []
    for row in table:
        if row["missing_state"] in ("Alabama", "Texas", "Wyoming"):
            row["active"] = None
            suppressed.append(
                {
                    "table_name": "missing_children_by_state",
                    "row_label": row["missing_state"],
                    "column_name": "active",
                    "conf_status": "C",
                }
            )
    folder = tmp_path / "public"
    folder.mkdir()
    for path in release.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    pq.write_table(pa.Table.from_pylist(table), folder / "missing_children_by_state.parquet")
    pq.write_table(pa.Table.from_pylist(suppressed), folder / "suppressed_cells.parquet")
    body = articles(report.render_report(folder, YEAR))["missing-children-by-state"]
    assert body.count("<table>") == 3
    assert body.count('<td class="num">–</td>') == 3
    assert body.count("suppressed to protect children") == 1
    assert body.count("Source file:") == 1


def test_the_change_from_the_prior_year_is_shown_where_it_is_published(release: Path, tmp_path: Path) -> None:
    rows = pq.read_table(release / "headline_metrics.parquet").to_pylist()
    assert rows[0]["change_from_prior_year"] is None and len(rows) >= 3
    rows[0]["change_from_prior_year"] = 65_465_314
    rows[1]["change_from_prior_year"] = -1_234
    rows[2]["change_from_prior_year"] = 0
    folder = tmp_path / "release"
    folder.mkdir()
    for path in release.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    pq.write_table(pa.Table.from_pylist(rows), folder / "headline_metrics.parquet")
    cards = re.findall(r'<div class="figure-card">(.*?)</div>', report.render_report(folder, YEAR))
    assert "up 65.4 million since the 2019 release" in cards[0]
    assert "down 1,234 since the 2019 release" in cards[1]
    assert "unchanged since the 2019 release" in cards[2]
    assert not any("since the 2019 release" in card for card in cards[3:])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (29_782, "29,782"),
        (999_999, "999,999"),
        (1_000_000, "1.0 million"),
        (65_465_314, "65.4 million"),  # truncated, never rounded
        (21_751_085, "21.7 million"),
        (1_234_567_890, "1,234.5 million"),
    ],
)
def test_one_number_style_for_charts_and_sentences(value: int, text: str) -> None:
    assert report.short(value) == text
