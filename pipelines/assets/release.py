"""Group ``release``: the year's published folder, written only after every table is built."""

import dagster as dg

from pipelines.partitions import yearly_partitions
from pipelines.release import write_release
from pipelines.resources import ProjectFolders, Warehouse
from pipelines.sql_models import models

PUBLISHED_TABLES = [m.name for m in models("published")]


@dg.asset(
    group_name="release",
    partitions_def=yearly_partitions,
    deps=PUBLISHED_TABLES,
    description=(
        "The year's release, published/<year>/: every published table as Parquet and CSV. "
        "Built in a staging folder and swapped in atomically, so it appears whole or not at all."
    ),
    kinds={"parquet", "csv"},
    owners=["team:data-engineering"],
)
def release(
    context: dg.AssetExecutionContext, folders: ProjectFolders, warehouse: Warehouse
) -> dg.MaterializeResult:
    year = int(context.partition_key)
    with warehouse.connect(year) as con:
        folder = write_release(con, PUBLISHED_TABLES, folders.published_root(), year)
    context.log.info(f"Release of {year} published at {folder}")
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(str(folder)),
            "release": dg.MetadataValue.path(str(folder.resolve())),
            "tables": len(PUBLISHED_TABLES),
        }
    )
