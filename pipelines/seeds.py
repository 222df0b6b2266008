"""Reference data the SQL models join to: category codes, labels and published order.

The category catalogs are versioned CSV files in ``sql/seeds/`` (the dbt "seed" idiom); US
states and countries come from pycountry, a maintained ISO 3166 package, rather than a
hand-typed list (docs/published-tables.md). Every seed lands in the year's warehouse as ``seed_<name>``.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import pycountry

from pipelines.config import SEEDS_DIR

if TYPE_CHECKING:  # imported where used: the GX worker reads the state codes, not the frames
    import duckdb
    import polars as pl

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


def load_seeds(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create every ``seed_*`` table in the warehouse; returns the row count of each."""
    counts: dict[str, int] = {}
    for path in sorted(SEEDS_DIR.glob("*.csv")):
        table = f"seed_{path.stem}"
        # File order is the published order where a seed has no explicit sort_order column.
        con.sql(
            f"""
            CREATE OR REPLACE TABLE {table} AS
            SELECT * FROM (
                SELECT *, row_number() OVER () AS file_row
                FROM read_csv(?, header = true, auto_detect = true, sample_size = -1)
            )
            """,
            params=[str(path)],
        )
        columns = [row[0] for row in con.sql(f"DESCRIBE {table}").fetchall()]
        if "sort_order" not in columns:
            con.sql(f"ALTER TABLE {table} RENAME COLUMN file_row TO sort_order")
        counts[table] = con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    for table, frame in (("seed_us_states", us_states()), ("seed_countries", countries())):
        con.register("seed_frame", frame)
        con.sql(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM seed_frame")
        con.unregister("seed_frame")
        counts[table] = frame.height
    return counts
