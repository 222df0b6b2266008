"""The published years beside a demo year.

The product compares a year with last year's release (pipelines/core/year_over_year.py): a
prior-year figure of program_metrics.csv must equal last year's published yearly figure, a
cumulative figure must not go below last year's, and every export's row count and table total
must stay within a band around last year's. ``--scale`` resizes the CyberTipline export, so
demo years written at different scales disagree unless the figures kept in other systems follow
the releases beside them: ``program_metrics`` derives the prior-year and cumulative figures of
year Y from the release of Y-1 when there is one (``released``). What no derivation can fix (a
CyberTipline export far larger or smaller than last year's release, or a release of Y+1 made
beside a different Y) the generator says in one line before writing (``warnings``), from the
product's own rules run on the figures it is about to write (``expected``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.core import contract
from pipelines.core.seeds import load_seeds
from pipelines.core.year_over_year import inconsistent, load_previous_export_rows, manifest_export_rows, outside_band
from pipelines.demo.cybertipline_reports import cybertipline_plan
from pipelines.demo.profiles import PROFILES_DIR, load_profile

Figure = tuple[str, str]
"""(metric_id, period) of a headline figure."""


@dataclass(frozen=True)
class YearFigures:
    """What the year-over-year rules read of a year: its headline figures (those kept in other
    systems as program_metrics.csv states them, and those computed from the exports) and each
    export's row count."""

    year: int
    headline: dict[Figure, int]
    export_rows: dict[str, int]


def released(published_root: Path | None, year: int) -> YearFigures | None:
    """The figures of ``year``'s current release under ``published_root`` (None: not published)."""
    if published_root is None:
        return None
    release = Path(published_root) / str(year)
    parquet = release / "headline_metrics.parquet"
    if not parquet.is_file():
        return None
    with duckdb.connect() as con:
        rows = con.execute("SELECT metric_id, period, value FROM read_parquet(?)", [str(parquet)]).fetchall()
    return YearFigures(
        year,
        {(metric, period): int(value) for metric, period, value in rows},
        manifest_export_rows(release / "manifest.json"),
    )


def expected(profile: dict[str, Any], year: int, scale: float, metrics: Sequence[Sequence[Any]]) -> YearFigures:
    """The figures the demo exports of ``profile`` at ``scale`` will have, ``metrics`` being the
    rows of program_metrics.csv: the computed ones follow from the profile's counts (the
    population, the CyberTipline plan, the CVIP requests and victims), as the exports' rows
    reproduce them."""
    plan = cybertipline_plan(profile, scale)
    cases = profile["cases"]
    population = sum(sum(row) for row in cases["status_by_case_type"].values())
    excluded = sum(count for rule, count in cases["rule_rows"].items() if rule.startswith("excluded_"))
    requests = list(profile["cvip"]["requests_by_agency"].values())
    relationships = profile["cvip"]["relationships"]
    public = sum(count for name, count in plan["sources"] if name is None)
    files = {f"cybertipline_{column.replace('_count', 's')}": total for column, total in plan["files"].items()}
    computed = {
        ("missing_children_cases_assisted", "year"): population,
        ("cybertipline_reports", "year"): plan["n"],
        ("cybertipline_public_reports", "year"): public,
        ("cybertipline_esp_reports", "year"): plan["n"] - public,
        ("cybertipline_files", "year"): sum(files.values()),
        **{(metric, "year"): total for metric, total in files.items()},
        ("cvip_law_enforcement_requests", "year"): sum(r[0] for r in requests),
        ("cvip_request_images_videos", "year"): sum(r[1] + r[2] for r in requests),
        ("cvip_actively_traded_children", "cumulative"): relationships["distinct_victims"],
    }
    export_rows = {
        contract.CASES.file_name: population + excluded,
        contract.CYBERTIPLINE_REPORTS.file_name: plan["n"],
        contract.CVIP_REQUESTS.file_name: sum(r[0] for r in requests),
        contract.CVIP_OFFENDER_RELATIONSHIPS.file_name: sum(relationships["counts"].values()),
        contract.PROGRAM_METRICS.file_name: len(metrics),
    }
    headline = {(str(row[0]), str(row[1])): int(row[2]) for row in metrics} | computed
    return YearFigures(year, headline, export_rows)


def violations(this: YearFigures, last: YearFigures, band: float) -> tuple[list[tuple], list[tuple]]:
    """The product's two year-over-year rules on ``this`` year beside ``last`` year's release:
    (inconsistent figures, figures outside the band), as the checks of ``headline_metrics`` list
    them."""
    with duckdb.connect() as con:
        load_seeds(con)
        for table, figures in (("headline_metrics", this), ("previous_year_headline_metrics", last)):
            con.sql(f"CREATE TABLE {table} (metric_id VARCHAR, period VARCHAR, value BIGINT)")
            rows = [(*key, value) for key, value in sorted(figures.headline.items())]
            if rows:
                con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)
        con.sql("CREATE TABLE stg_program_metrics AS SELECT * FROM headline_metrics WHERE period = 'prior_year'")
        con.sql("CREATE TABLE ingest_log (file_name VARCHAR, rows BIGINT)")
        if this.export_rows:
            con.executemany("INSERT INTO ingest_log VALUES (?, ?)", sorted(this.export_rows.items()))
        load_previous_export_rows(con, last.export_rows)
        return inconsistent(con), outside_band(con, band)


def _described(wrong: list[tuple], outside: list[tuple], here: int, there: int) -> str:
    """The figures that break a rule, each with both years' values."""
    figures = [(f"{metric}/{period}", a, b) for metric, period, _, a, b in wrong] + outside
    return "; ".join(f"{figure} {a:,} in {here} against {b:,} in {there}" for figure, a, b in figures)


def warnings(
    this: YearFigures, scale: float, previous: YearFigures | None, following: YearFigures | None, band: float
) -> list[str]:
    """One line per published neighbour the demo exports of ``this`` year will not publish
    beside, saying why and what to do; empty when they publish beside both."""
    lines = [_beside_previous(this, scale, previous, band)] if previous is not None else []
    lines += [_beside_following(this, following, band)] if following is not None else []
    return [line for line in lines if line]


def _beside_previous(this: YearFigures, scale: float, previous: YearFigures, band: float) -> str | None:
    wrong, outside = violations(this, previous, band)
    figures = _described(wrong, outside, this.year, previous.year)
    if wrong:  # program_metrics.rows derives them from the release: a bug, or a release not of the catalog
        return (
            f"{this.year} will not publish beside the published {previous.year} ({figures}): a prior-year "
            f"figure must equal last year's yearly one, a cumulative one never go below last year's"
        )
    if not outside:
        return None
    flags = " ".join(f"--acknowledge-change {figure}" for figure, _, _ in outside)
    return (
        f"{this.year} at scale {scale:g} moves outside ±{band:.0%} of the published {previous.year} ({figures}): "
        f"impact run publishes it only with {flags}; or write {this.year} at a scale nearer "
        f"{previous.year}'s{_apparent_scale(previous)}"
    )


def _apparent_scale(release: YearFigures) -> str:
    """The scale of the year's demo profile that its release's CyberTipline export matches."""
    reports = release.export_rows.get(contract.CYBERTIPLINE_REPORTS.file_name)
    if reports is None or not (PROFILES_DIR / f"{release.year}.toml").is_file():
        return ""
    full = cybertipline_plan(load_profile(release.year))["n"]
    return f" (its release is its profile at scale {reports / full:.2g}: {reports:,} CyberTipline reports)"


def _beside_following(this: YearFigures, following: YearFigures, band: float) -> str | None:
    wrong, outside = violations(following, this, band)
    if not (wrong or outside):
        return None
    return (
        f"the published {following.year} was made beside another {this.year} "
        f"({_described(wrong, outside, following.year, this.year)}): once {this.year} is published from "
        f"these exports, {following.year} no longer publishes from its own"
        + ("" if wrong else " without --acknowledge-change")
        + f"; run impact demo-data --year {following.year} again after publishing {this.year}"
    )
