"""Missing children by state (sql/published/missing_children_by_state.sql)."""

import polars as pl

from pipelines.core.seeds import us_state_rows
from pipelines.tables import TOTAL, Categories, SharedCell, TableSpec, count, label
from pipelines.tables.missing_children_by_case_type import COUNTS, status_counts
from pipelines.tables.raw_year import RawYear, per_category, published


def _states() -> list[str]:
    return [name for _, name in us_state_rows()]


def compute(raw: RawYear) -> pl.DataFrame:
    """Active and Resolved cases per state (every state, DC, PR, International), then Total."""

    states = pl.DataFrame(us_state_rows(), schema=["code", "label"], orient="row")
    population = raw.population
    counts = population.group_by("missing_state").agg(status_counts())
    total = population.select(pl.lit(TOTAL).alias("missing_state"), *status_counts())
    return published(raw.year, per_category(states, "missing_state", counts, total), COUNTS)


SPEC = TableSpec(
    name="missing_children_by_state",
    title="Missing children by state",
    description=(
        "Missing children by the state they went missing from: the 50 states, DC and Puerto Rico "
        "in alphabetical order, then International, then Total. States without a case show zeros."
    ),
    label="missing_state",
    categories=Categories("pycountry (US states, DC, Puerto Rico), then International", _states),
    columns=(
        label(
            "missing_state",
            "State",
            "Where the child went missing: a US state, DC, Puerto Rico or International, then Total.",
        ),
        count("active", "Active", "Cases of the year still open on December 31 of the year."),
        count("resolved", "Resolved", "Cases of the year resolved by December 31 of the year."),
        count("total", "Total", "Active and resolved cases of the row."),
    ),
    row_total=(("active", "resolved"), "total"),
    primary_key=("year", "missing_state"),
    second_computation=compute,
    counts_children=True,
    shares=tuple(
        SharedCell(TOTAL, column, "missing_children_by_case_type", TOTAL, column)
        for column in ("total", "active", "resolved")
    ),
)
