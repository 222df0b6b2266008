"""Yearly partitions: one partition per export year.

Dagster has no YearlyPartitionsDefinition; a time-window definition with a January 1st cron and
``%Y`` keys is the idiom. A year appears once it has ended, which is when its exports exist.
"""

import warnings
from functools import cache

import dagster as dg


@cache
def yearly_partitions(first_year: int) -> dg.TimeWindowPartitionsDefinition:
    """The yearly partitions from ``first_year`` (``IMPACT_FIRST_YEAR``, read when the code location
    loads: pipelines/definitions.py) to the last year that has ended. One object per first year,
    shared by every asset and check of the code location."""
    return dg.TimeWindowPartitionsDefinition(start=str(first_year), cron_schedule="0 0 1 1 *", fmt="%Y")


# Dagster 1.13 marks two features this project relies on as preview/beta and warns at every
# import of the definitions (the CLI, the UI, every test): a partitions_def on a check, so that
# check results are recorded per year, and code references to the SQL files. Their behaviour
# here is pinned by tests/e2e/test_dagster_ui.py.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
warnings.filterwarnings(
    "ignore", message="Class `(CodeReferencesMetadataValue|LocalFileCodeReference)` is currently in beta"
)


def partition_years(partitions: dg.PartitionsDefinition) -> list[int]:
    """Every year that is a partition now: from the first year to the last year that has ended."""
    return [int(key) for key in partitions.get_partition_keys()]


def first_partition(partitions: dg.TimeWindowPartitionsDefinition) -> int:
    """The first year of the partitions."""
    return partitions.start.year
