"""The year-over-year rules of the headline figures, as a blocking check on ``headline_metrics``.

The rules are a SQL audit (``sql/audits/headline_metrics_previous_year.sql``): a query that
returns one row per violation. Last year's figures come from its release through the
``previous_year_headline_metrics`` table that the ``headline_metrics`` asset loads via its
partition mapping on the previous year.
"""

import dagster as dg

from pipelines.config import SQL_DIR
from pipelines.partitions import yearly_partitions
from pipelines.resources import Warehouse

AUDIT = SQL_DIR / "audits" / "headline_metrics_previous_year.sql"


@dg.asset_check(
    asset=dg.AssetKey("headline_metrics"),
    name="consistent_with_previous_year",
    blocking=True,
    partitions_def=yearly_partitions,
    description=(
        "Prior-year figures of program_metrics.csv equal last year's published yearly figures, "
        "and cumulative figures never go down from one year to the next "
        "(sql/audits/headline_metrics_previous_year.sql)."
    ),
)
def consistent_with_previous_year(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse
) -> dg.AssetCheckResult:
    year = int(context.partition_key)
    with warehouse.connect(year) as con:
        compared = con.sql("SELECT count(*) FROM previous_year_headline_metrics").fetchall()[0][0]
        violations = con.sql(AUDIT.read_text(encoding="utf-8")).fetchall()
    if not violations:
        return dg.AssetCheckResult(
            passed=True,
            description=(
                f"consistent with the {year - 1} release ({compared} figures compared)"
                if compared
                else f"no {year - 1} release to compare with"
            ),
        )
    lines = [
        f"headline_metrics {metric}/{period}: rule \"{rule}\": {this_year:,} in {year}, "
        f"{last_year:,} in the {year - 1} release"
        for metric, period, rule, this_year, last_year in violations
    ]
    return dg.AssetCheckResult(
        passed=False,
        description=f"{len(lines)} figure(s) inconsistent with the {year - 1} release, nothing is published:",
        metadata={"failure": dg.MetadataValue.text("\n".join(lines))},
    )
