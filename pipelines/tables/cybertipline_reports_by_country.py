"""CyberTipline reports by country (sql/published/cybertipline_reports_by_country.sql)."""

import polars as pl

from pipelines.core.seeds import countries
from pipelines.tables import TOTAL, Column, SharedCell, TableSpec, count, label
from pipelines.tables.raw_year import RawYear, published
from pipelines.tables.rules import NO_COUNTRY, country_rows_in_catalog_order


def compute(raw: RawYear) -> pl.DataFrame:
    """Reports per listed country by English short name, then No Country Listed, then Total."""

    groups = raw.report_groups
    listed = (
        groups.filter(pl.col("incident_country").is_not_null())
        .group_by("incident_country")
        .agg(pl.col("reports").sum())
        .join(countries(), left_on="incident_country", right_on="code")
        .sort("sort_order")
        .select(pl.col("incident_country").alias("country_code"), pl.col("name").alias("country"), "reports")
    )
    unlisted = pl.DataFrame(
        {
            "country_code": [None, None],
            "country": [NO_COUNTRY, TOTAL],
            "reports": [groups.filter(pl.col("incident_country").is_null())["reports"].sum(), groups["reports"].sum()],
        },
        schema={"country_code": pl.String, "country": pl.String, "reports": pl.Int64},
    )
    return published(raw.year, pl.concat([listed, unlisted], how="vertical_relaxed"), ["reports"])


SPEC = TableSpec(
    name="cybertipline_reports_by_country",
    title="CyberTipline reports by country",
    description=(
        "CyberTipline reports by the country of the incident: every country with a report, by "
        'English short name (ISO 3166-1 as maintained by pycountry, plus XK Kosovo), then "No '
        'Country Listed" (empty code), then the Total of all reports. A code outside the catalog '
        "appears in no row but in the Total, which the row-sum invariant then reports."
    ),
    label="country",
    columns=(
        Column(
            "country_code",
            "Country code",
            "ISO 3166-1 alpha-2 code (XK for Kosovo); empty for No Country Listed and Total.",
            pl.String,
            nullable=True,
        ),
        label(
            "country",
            "Country",
            "Country of the incident (English short name), then No Country Listed, then Total.",
        ),
        count("reports", "Reports", "CyberTipline reports received in the year."),
    ),
    rules=(country_rows_in_catalog_order,),
    primary_key=("year", "country"),
    second_computation=compute,
    counts_children=False,
    shares=(SharedCell(TOTAL, "reports", "cybertipline_reports_by_source", TOTAL, "reports"),),
)
