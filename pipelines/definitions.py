"""The Dagster code location: every asset, check, job, schedule and resource of the product."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.models import published_assets, staging_assets
from pipelines.assets.raw import raw_assets
from pipelines.assets.release import release
from pipelines.checks.across_years import consistent_with_previous_year
from pipelines.checks.cross_table import cross_table_invariants
from pipelines.checks.raw_exports import raw_export_checks
from pipelines.config import Folders, duckdb_memory_limit, duckdb_threads
from pipelines.resources import ProjectFolders, Warehouse
from pipelines.schedules import yearly_release_schedule

all_assets = [*raw_assets, *staging_assets, *published_assets, release]
all_checks: list[dg.AssetChecksDefinition] = [
    *raw_export_checks,
    cross_table_invariants,
    consistent_with_previous_year,
]
all_check_keys: frozenset[dg.AssetCheckKey] = frozenset(
    key for definition in [*all_assets, *all_checks] for key in definition.check_keys
)
"""Every check of the code location: those above and those run in their asset's step (the
published tables' ``schema_and_totals``)."""


def build_resources(folders: Folders) -> dict[str, dg.ConfigurableResource]:
    return {
        "folders": ProjectFolders(raw_dir=folders.raw_dir, published_dir=folders.published_dir),
        "warehouse": Warehouse(
            directory=folders.warehouse_dir, threads=duckdb_threads(), memory_limit=duckdb_memory_limit()
        ),
    }


yearly_release_job = dg.define_asset_job(
    name="yearly_release",
    selection=dg.AssetSelection.all(),
    description="Ingest, validate, build and publish one year's impact statistics.",
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[yearly_release_job],
    schedules=[yearly_release_schedule(yearly_release_job)],
    resources=build_resources(Folders.from_environment()),
    # One process per run: every step of a year opens that year's DuckDB file read-write, and
    # DuckDB allows one writing process per file. Years still run in parallel as separate runs.
    executor=dg.in_process_executor,
)
