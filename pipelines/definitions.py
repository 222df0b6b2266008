"""The Dagster code location: every asset, check, job, schedule, sensor and resource of the product."""

from __future__ import annotations

import dagster as dg

from pipelines.core.config import Folders, duckdb_memory_limit, duckdb_threads
from pipelines.core.modes import owner_only
from pipelines.defs.alerts import run_alerts
from pipelines.defs.graph import checked_assets
from pipelines.defs.jobs import accepting_job, publishing_job
from pipelines.defs.logging import console_without_traces
from pipelines.defs.publishing.assets import release
from pipelines.defs.resources import ProjectFolders, Warehouse
from pipelines.defs.schedules import yearly_release_schedule
from pipelines.defs.sensors import accepted_exports_sensor, raw_exports_sensor

# Every process that loads the code location (`impact`, code servers, run workers) creates
# owner-only files: the warehouse and the Dagster instance are confidential (core/modes.py).
owner_only()

all_assets = [*checked_assets, release]


def build_resources(folders: Folders) -> dict[str, dg.ConfigurableResource]:
    return {
        "folders": ProjectFolders(raw_dir=folders.raw_dir, published_dir=folders.published_dir),
        "warehouse": Warehouse(
            directory=folders.warehouse_dir, threads=duckdb_threads(), memory_limit=duckdb_memory_limit()
        ),
    }


def build_definitions(folders: Folders) -> dg.Definitions:
    """The code location over the given folders (``impact run`` passes its flags here)."""
    return dg.Definitions(
        assets=all_assets,
        jobs=[accepting_job, publishing_job],
        schedules=[yearly_release_schedule(accepting_job, folders)],
        sensors=[
            raw_exports_sensor(accepting_job, folders),
            accepted_exports_sensor(accepting_job, publishing_job),
            *run_alerts(folders),
        ],
        resources=build_resources(folders),
        loggers={"console": console_without_traces},  # the run's problems are listed at its end
        # One process per run: every step of a year opens that year's DuckDB file read-write, and
        # DuckDB allows one writing process per file. Years still run in parallel as separate runs.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Folders.from_environment())
