"""The yearly schedule fires every January 15 at 06:00 UTC for the year that just ended (what it
asks for, given the raw folder: tests/e2e/test_sensors.py)."""

from datetime import UTC, datetime

import dagster as dg

from pipelines.definitions import build_definitions


def test_schedule_fires_on_january_15_at_six_utc() -> None:
    schedule = build_definitions().resolve_schedule_def("yearly_release_schedule")
    assert schedule.cron_schedule == "0 6 15 1 *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "accept_exports"


def test_the_2020_partition_exists_for_the_schedule() -> None:
    job = build_definitions().resolve_job_def("yearly_release")
    assert "2020" in job.partitions_def.get_partition_keys()
    assert job.partitions_def.get_partition_keys()[0] == "2019"


def test_schedule_skips_ticks_for_years_before_the_first_partition() -> None:
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("yearly_release_schedule")
    with dg.build_schedule_context(
        repository_def=defs.get_repository_def(),
        scheduled_execution_time=datetime(2019, 1, 15, 6, 0, tzinfo=UTC),  # for 2018
        resources=defs.resources,
    ) as context:
        tick = schedule.evaluate_tick(context)
    assert not tick.run_requests
    assert "IMPACT_FIRST_YEAR=2019" in tick.skip_message


def test_the_schedule_says_which_year_its_next_tick_publishes() -> None:
    from pipelines.defs.schedules import describe

    assert "the next tick, 2027-01-15 06:00 UTC, publishes 2026" in describe(datetime(2026, 12, 2, tzinfo=UTC), 2019)
    assert "the next tick, 2027-01-15 06:00 UTC, publishes 2026" in describe(datetime(2027, 1, 15, 5, tzinfo=UTC), 2019)
    assert "the next tick, 2028-01-15 06:00 UTC, publishes 2027" in describe(datetime(2027, 1, 15, 6, tzinfo=UTC), 2019)
