"""Child Victim Identification Program requests by agency (sql/published/cvip_requests_by_agency.sql)."""

import polars as pl

from pipelines.tables import GRAND_TOTAL, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, per_category, published

COUNTS = ("requests", "images", "videos")


def request_counts() -> list[pl.Expr]:
    return [
        pl.len().alias("requests"),
        pl.col("image_count").sum().alias("images"),
        pl.col("video_count").sum().alias("videos"),
    ]


def compute(raw: RawYear) -> pl.DataFrame:
    """Requests, images and videos per agency type, then the Grand Total of all requests."""
    requests = raw.cvip_requests
    counts = requests.group_by("agency_type").agg(request_counts())
    total = requests.select(pl.lit(GRAND_TOTAL).alias("agency_type"), *request_counts())
    return published(raw.year, per_category(catalog("agency_types"), "agency_type", counts, total), COUNTS)


SPEC = TableSpec(
    name="cvip_requests_by_agency",
    title="Child Victim Identification Program requests by agency",
    description=(
        "Law-enforcement requests to the Child Victim Identification Program by agency type, with "
        "the images and videos submitted, then the Grand Total row counted from all requests."
    ),
    label="agency_type",
    categories=seed_categories("agency_types"),
    total=GRAND_TOTAL,
    columns=(
        label(
            "agency_type",
            "Agency type",
            "Type of law-enforcement agency that made the requests, then Grand Total.",
        ),
        count("requests", "Requests", "Requests received in the year."),
        count("images", "Images", "Images submitted with the requests."),
        count("videos", "Videos", "Videos submitted with the requests."),
    ),
    primary_key=("year", "agency_type"),
    second_computation=compute,
    counts_children=False,
)
