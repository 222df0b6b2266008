"""The Dagster code location: every asset, check, job, schedule, sensor and resource of the product.

Nothing is read from the environment or set in it when this module is imported. The code location
is built when it loads (``defs``, a ``@dg.definitions`` function that ``dagster dev``, the run
workers and ``impact run`` call): that is when ``IMPACT_FIRST_YEAR`` is read, since the yearly
partitions are part of the definitions. Every other setting (the folders, DuckDB's threads,
memory and spill folder, the band and the acknowledged figures, K) is a field of a resource,
read when a run starts: from the run's config when it sets it (``impact run`` sets its flags
there), else from the environment, else its default (pipelines/defs/resources.py).
"""

from __future__ import annotations

from functools import cache

import dagster as dg

from pipelines.core.config import Folders, first_year
from pipelines.core.modes import owner_only
from pipelines.defs.alerts import run_alerts
from pipelines.defs.graph import all_assets
from pipelines.defs.jobs import accepting_job, publishing_job
from pipelines.defs.logging import console_without_traces
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import Disclosure, ProjectFolders, Warehouse, YearOverYear
from pipelines.defs.schedules import yearly_release_schedule
from pipelines.defs.sensors import accepted_exports_sensor, raw_exports_sensor


def build_resources(folders: Folders | None = None) -> dict[str, dg.ConfigurableResource]:
    """The run's settings; ``folders`` fixed (tests, benchmarks), or left to the run's config and
    the environment when the run starts."""
    settings: dict[str, dg.ConfigurableResource] = {"year_over_year": YearOverYear(), "disclosure": Disclosure()}
    if folders is None:
        return {"folders": ProjectFolders(), "warehouse": Warehouse(), **settings}
    return {
        "folders": ProjectFolders(raw_dir=folders.raw_dir, published_dir=folders.published_dir),
        "warehouse": Warehouse(directory=folders.warehouse_dir),
        **settings,
    }


@cache
def build_definitions(first: int | None = None, folders: Folders | None = None) -> dg.Definitions:
    """The code location: yearly partitions from ``first`` (``IMPACT_FIRST_YEAR`` read now when
    not given), resources over ``folders`` when given. Built once per process and arguments."""
    partitions = yearly_partitions(first if first is not None else first_year())
    return dg.Definitions(
        assets=all_assets(partitions),
        jobs=[accepting_job, publishing_job],
        schedules=[yearly_release_schedule(accepting_job, partitions)],
        sensors=[
            raw_exports_sensor(accepting_job, partitions),
            accepted_exports_sensor(accepting_job, publishing_job),
            *run_alerts(),
        ],
        resources=build_resources(folders),
        loggers={"console": console_without_traces},  # the run's problems are listed at its end
        # One process per run: every step of a year opens that year's DuckDB file read-write, and
        # DuckDB allows one writing process per file. Years still run in parallel as separate runs.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location as it loads (``dagster dev``, a run worker, ``impact run``). Every process
    that loads it creates owner-only files from then on: the warehouse and the Dagster instance
    are confidential (pipelines/core/modes.py)."""
    owner_only()
    return build_definitions()
