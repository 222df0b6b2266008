"""Missing children by case type (sql/published/missing_children_by_case_type.sql)."""

import polars as pl

from pipelines.tables import TOTAL, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, per_category, published

COUNTS = ("active", "resolved", "total")


def status_counts() -> list[pl.Expr]:
    """Active (not resolved by December 31), Resolved and all cases."""
    return [
        (~pl.col("resolved")).sum().alias("active"),
        pl.col("resolved").sum().alias("resolved"),
        pl.len().alias("total"),
    ]


def compute(raw: RawYear) -> pl.DataFrame:
    """Active and Resolved cases of the year's population per case type, then the Total row."""
    population = raw.population
    counts = population.group_by("case_type").agg(status_counts())
    total = population.select(pl.lit(TOTAL).alias("case_type"), *status_counts())
    return published(raw.year, per_category(catalog("case_types"), "case_type", counts, total), COUNTS)


SPEC = TableSpec(
    name="missing_children_by_case_type",
    title="Missing children by case type",
    description=(
        "Missing children by case type: Active and Resolved cases of the year's population per "
        "case type in published order, then the Total row. The total column and the Total row are "
        "counted from the population itself, not summed from the rows above, so the invariants "
        "that compare them (pipelines/proving/schemas.py, sql/audits) catch a case whose type is "
        "not in the catalog."
    ),
    label="case_type",
    categories=seed_categories("case_types"),
    columns=(
        label("case_type", "Case type", "Type of missing-child case, then Total."),
        count("active", "Active", "Cases of the year still open on December 31 of the year."),
        count("resolved", "Resolved", "Cases of the year resolved by December 31 of the year."),
        count("total", "Total", "Active and resolved cases of the row."),
    ),
    row_total=(("active", "resolved"), "total"),
    primary_key=("year", "case_type"),
    second_computation=compute,
    counts_children=True,
)
