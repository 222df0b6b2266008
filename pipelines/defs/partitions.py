"""Yearly partitions: one partition per export year.

Dagster has no YearlyPartitionsDefinition; a time-window definition with a January 1st cron and
``%Y`` keys is the idiom. A year appears once it has ended, which is when its exports exist.
"""

import warnings

import dagster as dg

from pipelines.core.config import FIRST_YEAR

yearly_partitions = dg.TimeWindowPartitionsDefinition(start=str(FIRST_YEAR), cron_schedule="0 0 1 1 *", fmt="%Y")

# Dagster 1.13 marks two features this project relies on as preview/beta and warns at every
# import of the definitions (the CLI, the UI, every test): a partitions_def on a check, so that
# check results are recorded per year, and code references to the SQL files. Their behaviour
# here is pinned by tests/e2e/test_dagster_ui.py.
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
warnings.filterwarnings(
    "ignore", message="Class `(CodeReferencesMetadataValue|LocalFileCodeReference)` is currently in beta"
)


def partition_years() -> list[int]:
    """Every year that is a partition now: from IMPACT_FIRST_YEAR to the last year that has ended."""
    return [int(key) for key in yearly_partitions.get_partition_keys()]
