"""CyberTipline files by type (sql/published/cybertipline_files_by_type.sql)."""

import polars as pl

from pipelines.tables import TOTAL, TableSpec, count, label, seed_categories
from pipelines.tables.raw_year import RawYear, catalog, published


def compute(raw: RawYear) -> pl.DataFrame:
    """Files per type: each type sums its own count column of the export (the seed's code names
    it); the Total sums every file of every report."""
    groups = raw.report_groups
    types = catalog("file_types")
    files = [groups[code].sum() for code in types["code"]]
    total = groups.select(pl.sum_horizontal("image_count", "video_count", "other_file_count").sum()).item()
    frame = pl.DataFrame({"file_type": [*types["label"], TOTAL], "files": [*files, total]})
    return published(raw.year, frame, ["files"])


SPEC = TableSpec(
    name="cybertipline_files_by_type",
    title="CyberTipline files by type",
    description="Files attached to CyberTipline reports: images, videos and other files, then the Total.",
    label="file_type",
    categories=seed_categories("file_types"),
    columns=(
        label("file_type", "File type", "Kind of file attached to the reports, then Total."),
        count("files", "Files", "Files attached to the reports received in the year."),
    ),
    primary_key=("year", "file_type"),
    second_computation=compute,
    counts_children=False,
)
