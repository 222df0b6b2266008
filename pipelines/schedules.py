"""The yearly schedule: every January 15 at 06:00 UTC, publish the year that just ended.

Exports arrive after year end (README.md), so the run for year Y starts on Y+1-01-15.
"""

from datetime import UTC, datetime

import dagster as dg

from pipelines.config import FIRST_YEAR

YEAR_TAG = "impact/year"
"""The tag of a scheduled run (and of its tick's run request) naming the year it publishes."""


def next_tick(now: datetime) -> datetime:
    """The schedule's first tick after ``now``: the next January 15 at 06:00 UTC."""
    tick = datetime(now.year, 1, 15, 6, tzinfo=UTC)
    return tick if now < tick else tick.replace(year=now.year + 1)


def describe(now: datetime) -> str:
    """What the schedule page shows: which year the next tick publishes, without opening a dialog."""
    tick = next_tick(now)
    return (
        f"Publishes the year that just ended, every January 15 at 06:00 UTC: the next tick, "
        f"{tick:%Y-%m-%d %H:%M} UTC, publishes {tick.year - 1} (run tag {YEAR_TAG}). Ticks for "
        f"years before IMPACT_FIRST_YEAR={FIRST_YEAR} skip."
    )


def yearly_release_schedule(job) -> dg.ScheduleDefinition:
    """The schedule of ``job`` (the yearly asset job of pipelines/definitions.py)."""

    @dg.schedule(
        name="yearly_release_schedule",
        cron_schedule="0 6 15 1 *",
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=describe(datetime.now(UTC)),
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        year = context.scheduled_execution_time.year - 1
        if year < FIRST_YEAR:
            return dg.SkipReason(f"{year} is before the first yearly partition, IMPACT_FIRST_YEAR={FIRST_YEAR}")
        return dg.RunRequest(run_key=f"release-{year}", partition_key=str(year), tags={YEAR_TAG: str(year)})

    return schedule
