"""CyberTipline reports by source (sql/published/cybertipline_reports_by_source.sql)."""

import polars as pl

from pipelines.tables import TOTAL, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, per_category, published


def compute(raw: RawYear) -> pl.DataFrame:
    """Reports per reporter type, then the Total of all reports."""
    groups = raw.report_groups
    counts = groups.group_by("reporter_type").agg(pl.col("reports").sum())
    total = groups.select(pl.lit(TOTAL).alias("reporter_type"), pl.col("reports").sum())
    return published(raw.year, per_category(catalog("reporter_types"), "reporter_type", counts, total), ["reports"])


SPEC = TableSpec(
    name="cybertipline_reports_by_source",
    title="CyberTipline reports by source",
    description="CyberTipline reports by who made them: electronic service providers and the public.",
    label="reporter_type",
    categories=seed_categories("reporter_types"),
    columns=(
        label("reporter_type", "Source", "Who made the reports, then Total."),
        count("reports", "Reports", "CyberTipline reports received in the year."),
    ),
    primary_key=("year", "reporter_type"),
    second_computation=compute,
    counts_children=False,
)
