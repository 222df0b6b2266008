"""Reference data the SQL models join to: category codes, labels and published order.

The category catalogs are versioned CSV files in ``sql/seeds/`` (the dbt "seed" idiom); US
states and countries come from pycountry, a maintained ISO 3166 package, rather than a
hand-typed list (docs/published-tables.md). Every seed lands in the year's warehouse as ``seed_<name>``.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pycountry

from pipelines.core.config import SEEDS_DIR

if TYPE_CHECKING:  # imported where used: the GX suites read the state codes, not the frames
    import duckdb
    import polars as pl


@cache
def read_seed(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``sql/seeds/<name>.csv`` as text, in published order (``sort_order`` when the
    seed has one, else file order). Every reader of a seed comes through here: the warehouse's
    ``seed_*`` tables, the expectations' code lists, the table specs, the data package, the
    report. It needs only the csv module (the GX worker reads code lists without polars)."""
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        rows = tuple(csv.DictReader(handle))
    if rows and "sort_order" in rows[0]:
        rows = tuple(sorted(rows, key=lambda row: int(row["sort_order"])))
    return rows


@dataclass(frozen=True)
class Metric:
    """One figure of the metric catalog (sql/seeds/metric_catalog.csv)."""

    metric_id: str
    period: str
    label: str
    unit: str
    computed_from: str | None
    """The published table the pipeline computes it from; None when it is kept in another system
    and arrives in program_metrics.csv."""
    display_prefix: str | None
    display_step: int
    display_scale: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.metric_id, self.period)


@cache
def metric_catalog() -> dict[tuple[str, str], Metric]:
    """The metric catalog by (metric_id, period), in catalog order: the one reader of it for the
    expectations, the headline rules, the report and the demo generator."""
    return {
        (row["metric_id"], row["period"]): Metric(
            metric_id=row["metric_id"],
            period=row["period"],
            label=row["label"],
            unit=row["unit"],
            computed_from=row["computed_from"] or None,
            display_prefix=row["display_prefix"] or None,
            display_step=int(row["display_step"]),
            display_scale=row["display_scale"] or None,
        )
        for row in read_seed("metric_catalog")
    }


def seed_label(name: str, code: str) -> str:
    """The label of one code of a seed (e.g. reporter type ESP)."""
    return next(row["label"] for row in read_seed(name) if row["code"] == code)


def seed_names() -> list[str]:
    return sorted(path.stem for path in SEEDS_DIR.glob("*.csv"))


INTERNATIONAL = ("INTL", "International")
"""The pseudo-state of a child who went missing outside the US (raw/README.md)."""

KOSOVO = ("XK", "Kosovo")
"""XK is a user-assigned code, absent from ISO 3166-1 and pycountry, that the contract allows."""

US_STATE_TYPES = {"State", "District"}
US_TERRITORIES_PUBLISHED = {"US-PR"}


def _alphabetical_key(name: str) -> str:
    """English alphabetical order: accents do not move a name (Åland Islands sorts under A)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def us_state_rows() -> list[tuple[str, str]]:
    """(code, name) of the 50 states, DC and Puerto Rico alphabetically by name, then
    International."""
    subdivisions = [
        s
        for s in pycountry.subdivisions.get(country_code="US")
        if s.type in US_STATE_TYPES or s.code in US_TERRITORIES_PUBLISHED
    ]
    rows = sorted(((s.code.removeprefix("US-"), s.name) for s in subdivisions), key=lambda r: r[1])
    rows.append(INTERNATIONAL)
    return rows


def us_states() -> pl.DataFrame:
    """The 50 states, DC and Puerto Rico alphabetically by name, then International."""
    import polars as pl

    rows = us_state_rows()
    return pl.DataFrame(
        {
            "code": [code for code, _ in rows],
            "name": [name for _, name in rows],
            "sort_order": list(range(1, len(rows) + 1)),
        }
    )


def countries() -> pl.DataFrame:
    """ISO 3166-1 countries (English short names) plus Kosovo, ordered by name."""
    import polars as pl

    rows = [(c.alpha_2, c.name) for c in pycountry.countries] + [KOSOVO]
    rows.sort(key=lambda r: (_alphabetical_key(r[1]), r[0]))
    return pl.DataFrame(
        {
            "code": [code for code, _ in rows],
            "name": [name for _, name in rows],
            "sort_order": list(range(1, len(rows) + 1)),
        }
    )


def _seed_frame(name: str) -> pl.DataFrame:
    """A seed as a typed frame: a column whose every value is an integer becomes Int64, an empty
    field is null; ``sort_order`` is the file order where the seed has none."""
    import polars as pl

    rows = read_seed(name)
    data: dict[str, list] = {}
    schema: dict[str, type[pl.DataType]] = {}
    for column in rows[0] if rows else []:
        values = [row[column] or None for row in rows]
        integers = any(values) and all(v is None or v.lstrip("-").isdigit() for v in values)
        data[column] = [int(v) if integers and v is not None else v for v in values]
        schema[column] = pl.Int64 if integers else pl.String
    frame = pl.DataFrame(data, schema=schema)
    if "sort_order" not in frame.columns:
        frame = frame.with_columns(sort_order=pl.int_range(1, frame.height + 1, dtype=pl.Int64))
    return frame


def load_seeds(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create every ``seed_*`` table in the warehouse; returns the row count of each."""
    frames = {name: _seed_frame(name) for name in seed_names()}
    frames.update(us_states=us_states(), countries=countries())
    counts: dict[str, int] = {}
    for name, frame in frames.items():
        table = f"seed_{name}"
        con.register("seed_frame", frame)
        con.sql(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM seed_frame")
        con.unregister("seed_frame")
        counts[table] = frame.height
    return counts
