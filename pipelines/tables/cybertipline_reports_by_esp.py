"""CyberTipline reports by electronic service provider (sql/published/cybertipline_reports_by_esp.sql)."""

import polars as pl

from pipelines.core.seeds import seed_label
from pipelines.tables import TOTAL, SharedCell, TableSpec, count, label
from pipelines.tables.raw_year import RawYear, published
from pipelines.tables.rules import esp_rows_by_reports


def compute(raw: RawYear) -> pl.DataFrame:
    """Reports per ESP, most first, ties by name, then the Total of all ESP reports."""
    esp = raw.report_groups.filter(pl.col("reporter_type") == "ESP")
    per_esp = (
        esp.group_by("esp_name").agg(pl.col("reports").sum()).sort(["reports", "esp_name"], descending=[True, False])
    )
    total = esp.select(pl.lit(TOTAL).alias("esp_name"), pl.col("reports").sum())
    return published(raw.year, pl.concat([per_esp, total], how="vertical_relaxed"), ["reports"])


SPEC = TableSpec(
    name="cybertipline_reports_by_esp",
    title="CyberTipline reports by electronic service provider",
    description=(
        "CyberTipline reports by electronic service provider: every ESP that reported, most "
        "reports first, ties broken by name, then the Total of all ESP reports."
    ),
    label="esp_name",
    columns=(
        label(
            "esp_name",
            "Electronic service provider",
            "Name of the reporting company, most reports first, then Total.",
        ),
        count("reports", "Reports", "CyberTipline reports received in the year."),
    ),
    rules=(esp_rows_by_reports,),
    primary_key=("year", "esp_name"),
    second_computation=compute,
    counts_children=False,
    shares=(
        SharedCell(TOTAL, "reports", "cybertipline_reports_by_source", seed_label("reporter_types", "ESP"), "reports"),
    ),
)
