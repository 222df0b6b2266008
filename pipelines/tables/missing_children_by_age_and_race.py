"""Missing children by age group and race (sql/published/missing_children_by_age_and_race.sql).

The race columns, their titles and their order come from sql/seeds/races.csv.
"""

import polars as pl

from pipelines.core.seeds import read_seed
from pipelines.tables import TOTAL, SharedCell, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, per_category, published

RACE_COLUMNS = tuple(
    count(row["column_name"], row["label"], f"Cases of the age group whose race is {row['label']}.")
    for row in read_seed("races")
)


def age_group() -> pl.Expr:
    """The age group of a case (sql/seeds/age_groups.csv): an empty age is the group without
    bounds, any other age the group whose bounds hold it."""
    group = pl.lit(None, pl.String)
    for name, low, high in catalog("age_groups").select("label", "min_age", "max_age").iter_rows():
        age = pl.col("age_at_missing")
        holds = age.is_null() if low is None else age.is_between(int(low), int(high))
        group = pl.when(holds).then(pl.lit(name)).otherwise(group)
    return group


def race_counts() -> list[pl.Expr]:
    """Cases per race column (``U`` and an empty race are both unknown), then all cases."""
    races = catalog("races").select("code", "column_name").iter_rows()
    return [*((pl.col("race") == code).sum().alias(column) for code, column in races), pl.len().alias("total")]


def compute(raw: RawYear) -> pl.DataFrame:
    """Cases per age group and race, then the Total row."""
    population = raw.population.with_columns(age_group=age_group())
    counts = population.group_by("age_group").agg(race_counts())
    total = population.select(pl.lit(TOTAL).alias("age_group"), *race_counts())
    groups = catalog("age_groups").with_columns(code=pl.col("label"))
    counted = [c.name for c in RACE_COLUMNS] + ["total"]
    return published(raw.year, per_category(groups, "age_group", counts, total), counted)


SPEC = TableSpec(
    name="missing_children_by_age_and_race",
    title="Missing children by age group and race",
    description=(
        'Missing children by age group (rows) and race (columns). An empty age is the "Unknown" '
        'group; an empty race or U is "unknown". Totals are counted from the population, not '
        "summed."
    ),
    label="age_group",
    categories=seed_categories("age_groups"),
    columns=(
        label("age_group", "Age group", "Age of the child when missing, in years, then Total."),
        *RACE_COLUMNS,
        count("total", "Total", "Cases of the age group, all races."),
    ),
    row_total=(tuple(c.name for c in RACE_COLUMNS), "total"),
    primary_key=("year", "age_group"),
    second_computation=compute,
    counts_children=True,
    shares=(SharedCell(TOTAL, "total", "missing_children_by_case_type", TOTAL, "total"),),
)
