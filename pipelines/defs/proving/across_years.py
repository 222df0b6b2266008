"""The year-over-year rules, as checks on ``headline_metrics``: the consistency of the headline
figures with last year's, and the band every figure must stay within.

Each rule is a SQL audit (``sql/audits/``): a query that returns one row per violation. Last
year's figures come from its release through the ``previous_year_headline_metrics`` table that
the ``headline_metrics`` asset loads via its partition mapping on the previous year. Both checks
run in that asset's step, after its own (pipelines/defs/proving/assets.py), so that a failure
leaves the year's headline figures unmaterialized and fails the run like any other check
(pipelines/defs/gate.py).
"""

import dagster as dg
import duckdb

from pipelines.core.year_over_year import inconsistent, load_previous_export_rows, manifest_export_rows, outside_band
from pipelines.defs.checks import check_spec
from pipelines.defs.resources import ProjectFolders, YearOverYear

TABLE = "headline_metrics"
"""The table whose step runs the checks of this module."""
CONSISTENT = "consistent_with_previous_year"
WITHIN_BAND = "within_previous_year_band"


def across_years_specs(partitions: dg.PartitionsDefinition) -> list[dg.AssetCheckSpec]:
    return [check_spec(CONSISTENT, TABLE, partitions), check_spec(WITHIN_BAND, TABLE, partitions)]


def across_years_checks(
    con: duckdb.DuckDBPyConnection, year: int, folders: ProjectFolders, settings: YearOverYear
) -> list[dg.AssetCheckResult]:
    """Both checks, on the year's warehouse once ``headline_metrics`` is built."""
    return [consistent_with_previous_year(con, year), within_previous_year_band(con, year, folders, settings)]


def consistent_with_previous_year(con: duckdb.DuckDBPyConnection, year: int) -> dg.AssetCheckResult:
    compared = con.sql("SELECT count(*) FROM previous_year_headline_metrics").fetchall()[0][0]
    violations = inconsistent(con)
    if not violations:
        return dg.AssetCheckResult(
            asset_key=TABLE,
            check_name=CONSISTENT,
            passed=True,
            description=(
                f"consistent with the {year - 1} release ({compared} figures compared)"
                if compared
                else f"no {year - 1} release to compare with"
            ),
        )
    lines = [
        f'headline_metrics {metric}/{period}: rule "{rule}": {this_year:,} in {year}, '
        f"{last_year:,} in the {year - 1} release"
        for metric, period, rule, this_year, last_year in violations
    ]
    return dg.AssetCheckResult(
        asset_key=TABLE,
        check_name=CONSISTENT,
        passed=False,
        description=f"{len(lines)} figure(s) inconsistent with the {year - 1} release, nothing is published:",
        metadata={"failure": dg.MetadataValue.text("\n".join(lines))},
    )


ACKNOWLEDGED_TABLE = "acknowledged_changes"
"""The figures outside the band that the operator acknowledged in this run: the release manifest
lists them (pipelines/publishing/release.py)."""


def within_previous_year_band(
    con: duckdb.DuckDBPyConnection, year: int, folders: ProjectFolders, settings: YearOverYear | None = None
) -> dg.AssetCheckResult:
    """The band check; ``settings``: the run's band and acknowledged figures (unset: the
    environment's, as a run without them in its config)."""
    settings = settings if settings is not None else YearOverYear()
    band = settings.band_fraction()
    acknowledged = settings.acknowledged_figures()
    load_previous_export_rows(con, manifest_export_rows(folders.published_root() / str(year - 1) / "manifest.json"))
    outside = outside_band(con, band)
    accepted = [row for row in outside if row[0] in acknowledged]
    columns = "figure VARCHAR, this_year BIGINT, last_year BIGINT, band DOUBLE"
    con.sql(f"CREATE OR REPLACE TABLE {ACKNOWLEDGED_TABLE} ({columns})")
    if accepted:
        con.executemany(f"INSERT INTO {ACKNOWLEDGED_TABLE} VALUES (?, ?, ?, ?)", [(*row, band) for row in accepted])
    lines = [
        f"{figure}: {this_year:,} in {year}, {last_year:,} in the {year - 1} release, outside "
        f"±{band:.0%} (rule: within the band of last year's release; if the change is real, "
        f"acknowledge it: impact run --acknowledge-change {figure})"
        for figure, this_year, last_year in outside
        if figure not in acknowledged
    ]
    description = (
        f"{len(lines)} figure(s) outside ±{band:.0%} of the {year - 1} release"
        if lines
        else f"every figure within ±{band:.0%} of the {year - 1} release, or acknowledged "
        f"({len(accepted)} acknowledged)"
    )
    return dg.AssetCheckResult(
        asset_key=TABLE,
        check_name=WITHIN_BAND,
        passed=not lines,
        description=description,
        metadata={
            "failure": dg.MetadataValue.text("\n".join(lines)),
            "acknowledged": dg.MetadataValue.json([figure for figure, *_ in accepted]),
        },
    )
