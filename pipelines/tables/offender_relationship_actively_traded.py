"""Offender relationships of children in actively traded imagery
(sql/published/offender_relationship_actively_traded.sql)."""

from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from pipelines.tables import TOTAL, Column, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, per_category, published


def share(part: int, whole: int) -> Decimal | None:
    """part / whole in percent, two decimals, half away from zero; none of nothing."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def compute(raw: RawYear) -> pl.DataFrame:
    """Known relationships per relationship, then Total, with each one's share of the Total."""
    relationships = raw.relationships
    counts = relationships.group_by("relationship").agg(pl.len().alias("known_relationships"))
    total = relationships.select(pl.lit(TOTAL).alias("relationship"), pl.len().alias("known_relationships"))
    frame = published(
        raw.year, per_category(catalog("relationships"), "relationship", counts, total), ["known_relationships"]
    )
    whole = relationships.height
    percents = [share(part, whole) for part in frame["known_relationships"].to_list()]
    return frame.with_columns(percent_of_total=pl.Series(percents, dtype=pl.Decimal(5, 2)))


SPEC = TableSpec(
    name="offender_relationship_actively_traded",
    title="Offender relationships of children in actively traded imagery",
    description=(
        "Known offender relationships of children in actively traded imagery, with each "
        "relationship's share of all known relationships (two decimals, half away from zero); the "
        "Total row is 100.00."
    ),
    label="relationship",
    categories=seed_categories("relationships"),
    columns=(
        label("relationship", "Relationship", "Known relationship of the offender to the child, then Total."),
        count(
            "known_relationships",
            "Known relationships",
            "Known offender relationships (a child can have several).",
        ),
        Column(
            "percent_of_total",
            "Percent of total",
            "Share of all known relationships, in percent, two decimals rounded half away from zero.",
            pl.Decimal(5, 2),
            # Null only when there is no known relationship at all (a share of 0 is undefined).
            nullable=True,
            minimum=0,
            maximum=100,
        ),
    ),
    percents=(("percent_of_total", "known_relationships"),),
    primary_key=("year", "relationship"),
    second_computation=compute,
    counts_children=True,
)
