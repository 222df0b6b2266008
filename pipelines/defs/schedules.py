"""The yearly schedule: every January 15 at 06:00 UTC, the deadline for the year that just ended.

Exports arrive after year end (README.md), and ``raw_exports_sensor`` publishes a year as soon as
its exports are complete (pipelines/defs/sensors.py). The schedule is the deadline: on Y+1-01-15 it
asks for the run of year Y unless the year is already published from the exports in ``raw/``,
is being published, or those exports already have a run (the sensor's rule, ``decide``);
when they are not complete it skips, naming the missing or unfinished files (shown on the tick in
the UI), instead of starting a run that would fail on a missing file. The sensor publishes the
year when they arrive.
"""

from datetime import UTC, datetime

import dagster as dg

from pipelines.core.config import ENV_FIRST_YEAR, Folders
from pipelines.defs.jobs import YEAR_TAG
from pipelines.defs.partitions import first_partition
from pipelines.defs.resources import ProjectFolders, Warehouse, run_folders
from pipelines.defs.sensors import ExportChanged, content_hashes, decide, look_at


def next_tick(now: datetime) -> datetime:
    """The schedule's first tick after ``now``: the next January 15 at 06:00 UTC."""
    tick = datetime(now.year, 1, 15, 6, tzinfo=UTC)
    return tick if now < tick else tick.replace(year=now.year + 1)


def describe(now: datetime, first_year: int) -> str:
    """What the schedule page shows: which year the next tick publishes, without opening a dialog."""
    tick = next_tick(now)
    return (
        f"Publishes the year that just ended, every January 15 at 06:00 UTC: the next tick, "
        f"{tick:%Y-%m-%d %H:%M} UTC, publishes {tick.year - 1} (run tag {YEAR_TAG}), unless it is "
        f"already published from its exports or they already ran (a content runs once). It is the "
        f"deadline: when the exports are not complete it skips, naming the missing or unfinished files, "
        f"and raw_exports_sensor publishes the year when they arrive. Ticks for years before "
        f"{ENV_FIRST_YEAR}={first_year} skip."
    )


def yearly_release_schedule(job, partitions: dg.TimeWindowPartitionsDefinition) -> dg.ScheduleDefinition:
    """The schedule of ``job`` (the accepting job of pipelines/definitions.py) over the code
    location's partitions; it reads the folders of the resources ``folders`` and ``warehouse``."""
    first_year = first_partition(partitions)

    @dg.schedule(
        name="yearly_release_schedule",
        cron_schedule="0 6 15 1 *",
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=describe(datetime.now(UTC), first_year),
    )
    def schedule(
        context: dg.ScheduleEvaluationContext, folders: ProjectFolders, warehouse: Warehouse
    ) -> dg.RunRequest | dg.SkipReason:
        year = context.scheduled_execution_time.year - 1
        if year < first_year:
            return dg.SkipReason(f"{year} is before the first yearly partition, {ENV_FIRST_YEAR}={first_year}")
        return _deadline(context, year, run_folders(folders, warehouse))

    return schedule


def _deadline(context: dg.ScheduleEvaluationContext, year: int, folders: Folders) -> dg.RunRequest | dg.SkipReason:
    """The schedule's tick for ``year``, the year that just ended."""
    exports = look_at(folders.raw_dir, year)
    if not exports.complete:
        return dg.SkipReason(f"not published on its deadline: {exports.problem()}")
    try:
        hashes = content_hashes(exports, {})  # once a year: no cache to keep
    except ExportChanged as changed:
        return dg.SkipReason(f"not published on its deadline: {changed}")
    decision = decide(context.instance, folders, year, hashes)
    return decision.request or dg.SkipReason(decision.reason)
