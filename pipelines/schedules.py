"""The yearly schedule: every January 15 at 06:00 UTC, publish the year that just ended.

Exports arrive after year end (README.md), so the run for year Y starts on Y+1-01-15.
"""

import dagster as dg

from pipelines.config import FIRST_YEAR


def yearly_release_schedule(job) -> dg.ScheduleDefinition:
    """The schedule of ``job`` (the yearly asset job of pipelines/definitions.py)."""

    @dg.schedule(
        name="yearly_release_schedule",
        cron_schedule="0 6 15 1 *",
        execution_timezone="UTC",
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Publishes the previous year every January 15 at 06:00 UTC.",
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        year = context.scheduled_execution_time.year - 1
        if year < FIRST_YEAR:
            return dg.SkipReason(f"{year} is before the first yearly partition, IMPACT_FIRST_YEAR={FIRST_YEAR}")
        return dg.RunRequest(run_key=f"release-{year}", partition_key=str(year))

    return schedule
