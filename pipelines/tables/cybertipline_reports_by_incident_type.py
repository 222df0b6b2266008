"""CyberTipline reports by incident type (sql/published/cybertipline_reports_by_incident_type.sql)."""

import polars as pl

from pipelines.tables import TOTAL, SharedCell, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, per_category, published


def compute(raw: RawYear) -> pl.DataFrame:
    """Reports per incident type in published order, then the Total of all reports."""
    groups = raw.report_groups
    counts = groups.group_by("incident_type").agg(pl.col("reports").sum())
    total = groups.select(pl.lit(TOTAL).alias("incident_type"), pl.col("reports").sum())
    return published(raw.year, per_category(catalog("incident_types"), "incident_type", counts, total), ["reports"])


SPEC = TableSpec(
    name="cybertipline_reports_by_incident_type",
    title="CyberTipline reports by incident type",
    description="CyberTipline reports by incident type in published order, then the Total of all reports.",
    label="incident_type",
    categories=seed_categories("incident_types"),
    columns=(
        label("incident_type", "Incident type", "Type of incident reported, in published order, then Total."),
        count("reports", "Reports", "CyberTipline reports received in the year."),
    ),
    primary_key=("year", "incident_type"),
    second_computation=compute,
    counts_children=False,
    shares=(SharedCell(TOTAL, "reports", "cybertipline_reports_by_source", TOTAL, "reports"),),
)
