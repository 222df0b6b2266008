"""Yearly partitions: one partition per export year.

Dagster has no YearlyPartitionsDefinition; a time-window definition with a January 1st cron and
``%Y`` keys is the idiom. A year appears once it has ended, which is when its exports exist.
"""

import dagster as dg

from pipelines.config import FIRST_YEAR

yearly_partitions = dg.TimeWindowPartitionsDefinition(
    start=str(FIRST_YEAR), cron_schedule="0 0 1 1 *", fmt="%Y"
)
