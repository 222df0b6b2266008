"""The cross-table invariants of one year (docs/published-tables.md): a blocking check on ``headline_metrics``.

Grand totals that must agree between the published tables and with the staging tables they are
counted from, the computed headline figures against the tables they come from, cumulative
figures against yearly ones. Each table on its own is checked by its Pandera model
(pipelines/checks/published_tables.py); last year's figures by pipelines/checks/across_years.py.
"""

import dagster as dg
import duckdb
import polars as pl

from pipelines.checks.published_tables import (
    GRAND_TOTAL,
    LABEL_COLUMNS,
    MODELS,
    TOTAL,
    check_result,
    load_published_table,
    seed_label,
)
from pipelines.resources import Warehouse

CROSS_CHECK_NAME = "cross_table_invariants"


STAGING_FACTS_SQL = {
    "population": "SELECT count(*) FROM stg_missing_children",
    "reports": "SELECT coalesce(sum(reports), 0) FROM stg_cybertipline_report_counts",
    "esp_reports": (
        "SELECT coalesce(sum(reports), 0) FROM stg_cybertipline_report_counts WHERE reporter_type = 'ESP'"
    ),
    "images": "SELECT coalesce(sum(images), 0) FROM stg_cybertipline_report_counts",
    "videos": "SELECT coalesce(sum(videos), 0) FROM stg_cybertipline_report_counts",
    "other_files": "SELECT coalesce(sum(other_files), 0) FROM stg_cybertipline_report_counts",
    "cvip_requests": "SELECT count(*) FROM stg_cvip_requests",
    "cvip_images": "SELECT coalesce(sum(image_count), 0) FROM stg_cvip_requests",
    "cvip_videos": "SELECT coalesce(sum(video_count), 0) FROM stg_cvip_requests",
    "relationships": "SELECT count(*) FROM stg_cvip_offender_relationships",
    "victims": "SELECT count(DISTINCT victim_id) FROM stg_cvip_offender_relationships",
}
"""What the published tables are counted from, read from the staging tables."""

FACT_NAMES = {
    "population": "stg_missing_children rows (the population size)",
    "reports": "stg_cybertipline_report_counts reports",
    "esp_reports": "stg_cybertipline_report_counts ESP reports",
    "images": "stg_cybertipline_report_counts images",
    "videos": "stg_cybertipline_report_counts videos",
    "other_files": "stg_cybertipline_report_counts other files",
    "cvip_requests": "stg_cvip_requests rows",
    "cvip_images": "stg_cvip_requests images",
    "cvip_videos": "stg_cvip_requests videos",
    "relationships": "stg_cvip_offender_relationships rows",
    "victims": "stg_cvip_offender_relationships distinct victim_id",
}


def load_cross_table_inputs(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, pl.DataFrame], dict[str, int], list[str]]:
    """Every published table (published order) and the staging facts of a year's warehouse."""
    tables: dict[str, pl.DataFrame] = {}
    problems: list[str] = []
    for table in MODELS:
        frame, load_problems = load_published_table(con, table)
        if frame is None:
            problems.extend(load_problems)
        else:
            tables[table] = frame
    facts: dict[str, int] = {}
    for name, query in STAGING_FACTS_SQL.items():
        try:
            facts[name] = int(con.sql(query).fetchall()[0][0])
        except duckdb.Error as error:
            problems.append(f"cross-table: cannot read {FACT_NAMES[name]} ({error})")
    return tables, facts, problems


class _Figures:
    """Looks up single cells by row label; a missing cell becomes a problem, not a crash."""

    def __init__(self, tables: dict[str, pl.DataFrame], facts: dict[str, int]) -> None:
        self.tables = tables
        self.facts = facts
        self.problems: list[str] = []

    def cell(self, table: str, label: str, column: str) -> tuple[str, int | None]:
        name = f"{table}.{column} ['{label}' row]"
        frame = self.tables.get(table)
        label_column = LABEL_COLUMNS[table]
        if frame is None or label_column not in frame.columns or column not in frame.columns:
            self.problems.append(f"cross-table: {name}: the table or column is missing")
            return name, None
        rows = frame.filter(pl.col(label_column) == label)
        if rows.height != 1:
            self.problems.append(f"cross-table: {name}: expected one such row, found {rows.height}")
            return name, None
        return name, rows[column].item()

    def fact(self, key: str) -> tuple[str, int | None]:
        return FACT_NAMES[key], self.facts.get(key)

    def equal(self, rule: str, *figures: tuple[str, int | None]) -> None:
        known = [(name, value) for name, value in figures if value is not None]
        if len({value for _, value in known}) > 1:
            listed = ", ".join(f"{name} = {value}" for name, value in known)
            self.problems.append(f"cross-table: {rule}: {listed}")


def computed_headline_figures(figures: _Figures) -> dict[tuple[str, str], tuple[str, int | None]]:
    """The headline figures computed from the tables: (metric_id, period) -> (source, value)."""
    source, files, cvip = "cybertipline_reports_by_source", "cybertipline_files_by_type", "cvip_requests_by_agency"
    esp, public = (seed_label("reporter_types", code) for code in ("ESP", "PUBLIC"))
    images, videos, other = (
        seed_label("file_types", code) for code in ("image_count", "video_count", "other_file_count")
    )
    cvip_images = figures.cell(cvip, GRAND_TOTAL, "images")
    cvip_videos = figures.cell(cvip, GRAND_TOTAL, "videos")
    both = None if None in (cvip_images[1], cvip_videos[1]) else cvip_images[1] + cvip_videos[1]
    return {
        ("missing_children_cases_assisted", "year"): figures.cell(
            "missing_children_by_case_type", TOTAL, "total"
        ),
        ("cybertipline_reports", "year"): figures.cell(source, TOTAL, "reports"),
        ("cybertipline_public_reports", "year"): figures.cell(source, public, "reports"),
        ("cybertipline_esp_reports", "year"): figures.cell(source, esp, "reports"),
        ("cybertipline_files", "year"): figures.cell(files, TOTAL, "files"),
        ("cybertipline_images", "year"): figures.cell(files, images, "files"),
        ("cybertipline_videos", "year"): figures.cell(files, videos, "files"),
        ("cybertipline_other_files", "year"): figures.cell(files, other, "files"),
        ("cvip_law_enforcement_requests", "year"): figures.cell(cvip, GRAND_TOTAL, "requests"),
        ("cvip_request_images_videos", "year"): (f"{cvip_images[0]} + {cvip_videos[0]}", both),
        ("cvip_actively_traded_children", "cumulative"): figures.fact("victims"),
    }


def cross_table_problems(tables: dict[str, pl.DataFrame], facts: dict[str, int]) -> list[str]:
    """Every cross-table invariant of one year (last year's: pipelines/checks/across_years.py).

    ``tables`` are the published tables in published order, ``facts`` the staging figures of
    :data:`STAGING_FACTS_SQL`.
    """
    f = _Figures(tables, facts)
    case = "missing_children_by_case_type"
    state = "missing_children_by_state"
    age = "missing_children_by_age_and_race"
    f.equal(
        "grand totals of the missing-children tables equal the population size",
        f.cell(case, TOTAL, "total"),
        f.cell(age, TOTAL, "total"),
        f.cell(state, TOTAL, "total"),
        f.fact("population"),
    )
    f.equal("Active totals agree", f.cell(case, TOTAL, "active"), f.cell(state, TOTAL, "active"))
    f.equal("Resolved totals agree", f.cell(case, TOTAL, "resolved"), f.cell(state, TOTAL, "resolved"))

    source = "cybertipline_reports_by_source"
    f.equal(
        "CyberTipline report totals are equal",
        f.cell(source, TOTAL, "reports"),
        f.cell("cybertipline_reports_by_incident_type", TOTAL, "reports"),
        f.cell("cybertipline_reports_by_country", TOTAL, "reports"),
        f.fact("reports"),
    )
    f.equal(
        "the ESP table's Total equals the Electronic Service Provider reports",
        f.cell("cybertipline_reports_by_esp", TOTAL, "reports"),
        f.cell(source, seed_label("reporter_types", "ESP"), "reports"),
        f.fact("esp_reports"),
    )
    for code, fact in (("image_count", "images"), ("video_count", "videos"), ("other_file_count", "other_files")):
        f.equal(
            "files by type equal the files of the reports",
            f.cell("cybertipline_files_by_type", seed_label("file_types", code), "files"),
            f.fact(fact),
        )
    for column, fact in (("requests", "cvip_requests"), ("images", "cvip_images"), ("videos", "cvip_videos")):
        f.equal(
            "CVIP Grand Total equals the request rows",
            f.cell("cvip_requests_by_agency", GRAND_TOTAL, column),
            f.fact(fact),
        )
    f.equal(
        "known relationships equal the relationship rows",
        f.cell("offender_relationship_actively_traded", TOTAL, "known_relationships"),
        f.fact("relationships"),
    )

    headline = tables.get("headline_metrics")
    if headline is None or not {"metric_id", "period", "value"} <= set(headline.columns):
        f.problems.append("cross-table: headline_metrics: the table or its columns are missing")
        return f.problems
    values: dict[tuple[str, str], list[int]] = {}
    for metric, period, value in headline.select("metric_id", "period", "value").iter_rows():
        values.setdefault((metric, period), []).append(value)

    rule = "cross-table: headline computed figure equals its table"
    for (metric, period), (name, expected) in computed_headline_figures(f).items():
        found = values.get((metric, period))
        label = f"headline_metrics.value ['{metric}/{period}' row]"
        if not found:
            f.problems.append(f"{rule}: {label} is missing; {name} = {expected}")
        elif expected is not None and any(v != expected for v in found):
            f.problems.append(f"{rule}: {label} = {found[0]} but {name} = {expected}")

    rule = "cross-table: a cumulative figure is never below the same year's yearly figure"
    for (metric, period), found in values.items():
        yearly = values.get((metric, "year"))
        if period == "cumulative" and yearly and None not in found + yearly and min(found) < max(yearly):
            f.problems.append(
                f"{rule}: headline_metrics.value ['{metric}/cumulative' row] = {min(found)} < "
                f"['{metric}/year' row] = {max(yearly)}"
            )

    return f.problems


def check_cross_table(con: duckdb.DuckDBPyConnection) -> list[str]:
    tables, facts, problems = load_cross_table_inputs(con)
    return problems + cross_table_problems(tables, facts)



@dg.asset_check(
    asset=dg.AssetKey("headline_metrics"),
    name=CROSS_CHECK_NAME,
    blocking=True,
    additional_deps=[dg.AssetKey(t) for t in MODELS if t != "headline_metrics"],
    description=(
        "Totals that must agree across the published tables of one year and with the staging "
        "tables they are counted from; computed headline figures equal their tables; cumulative "
        "figures are never below the same year's yearly figure."
    ),
)
def cross_table_invariants(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse
) -> dg.AssetCheckResult:
    year = int(context.partition_key)
    with warehouse.connect(year) as con:
        problems = check_cross_table(con)
    return check_result(problems, f"all cross-table invariants of {year} hold", {})
