"""The raw exports of a year as the second computation reads them: polars, straight from the files.

The second computation is every published table computed again, straight from the raw exports.
Dual running, as official statistics and the Aqua Book's quality assurance of business-critical
models do it: the figures are computed a second time by separate code on a separate engine and
compared with the SQL models' tables, cell by cell, before anything is published. The business
rules are stated here a second time from the export contract (raw/README.md) and the published
tables' description (docs/published-tables.md), in polars, reading the raw files themselves: not
the warehouse, not the staging models, not the ingest's tables. A rule applied wrongly in the SQL
(the population, the status date, a column mixed up) gives a different cell here, and the
check ``second_computation`` of that table names the table, the row, the column and
both values.

Each table's computation is in its spec (pipelines/tables/<table>.py, ``second_computation``);
this module reads the exports (:class:`RawYear`) and holds what the computations share;
pipelines/proving/second_computation.py compares. The property tests
(tests/sql/test_sql_properties.py) use the same computations as their oracle.

Memory stays bounded at any size: the CyberTipline export is reduced to its groups by a lazy
scan collected with polars' streaming engine (a few thousand rows whatever the number of
reports); the CSV exports are small. The check runs after the raw exports passed their contract
checks, so every value here is known to be valid; the CSV files are read as text and typed here,
as the contract says (UTF-8 with or without a byte-order mark, LF or CRLF).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import polars as pl

from pipelines.core.contract import (
    CASES,
    CVIP_OFFENDER_RELATIONSHIPS,
    CVIP_REQUESTS,
    CYBERTIPLINE_REPORTS,
    PROGRAM_METRICS,
)
from pipelines.core.seeds import read_seed

GROUP_KEYS = ("reporter_type", "esp_name", "incident_type", "incident_country")


@dataclass(frozen=True)
class RawYear:
    """The raw exports of one year, read as the contract says (raw/README.md).

    Each CSV export is read with every column of the contract, typed, so a new table's second
    computation can use any of them; the CyberTipline export only as its groups
    (``report_groups``: one row per reporter type, ESP, incident type and country), which keeps
    its memory bounded: a table by another of its columns adds that column to the groups."""

    folder: Path
    year: int
    previous_release: Path | None = None
    """Last year's release folder (``published/<year - 1>``), for the headline figures."""

    def _csv(self, file_name: str) -> pl.DataFrame:
        """The export as text columns; the contract's types are applied by the callers.

        An empty field is null whether it is quoted or not (``""``, as exporters that quote every
        field write it; polars would otherwise read it as an empty string). Blank lines at the end
        of the file are not records (polars would read each as a row of nulls); the ingest refuses
        blank lines between records before this check runs."""
        text = (self.folder / file_name).read_bytes().rstrip(b"\r\n")
        return pl.read_csv(text, infer_schema=False, null_values=[""])

    @cached_property
    def cases(self) -> pl.DataFrame:
        return self._csv(CASES.file_name).select(
            "case_number",
            pl.col("intake_date").str.to_date("%Y-%m-%d"),
            pl.col("resolved_date").str.to_date("%Y-%m-%d"),
            "case_type",
            pl.col("age_at_missing").cast(pl.Int64),
            "race",
            "missing_state",
        )

    @cached_property
    def population(self) -> pl.DataFrame:
        """The cases of the year with their status.

        A case counts for year Y when it was opened in Y, or opened before Y and resolved in Y.
        It is Resolved when resolved on or before December 31 of Y, otherwise Active (missing on
        Dec 31, found on Jan 2: Active). An empty race is Unknown, like ``U``.
        """
        first, last = date(self.year, 1, 1), date(self.year, 12, 31)
        opened = pl.col("intake_date")
        resolved = pl.col("resolved_date")
        in_year = opened.is_between(first, last) | (
            (opened < first) & resolved.is_not_null() & resolved.is_between(first, last)
        )
        return self.cases.filter(in_year).with_columns(
            resolved=resolved.is_not_null() & (resolved <= last),
            race=pl.col("race").fill_null("U"),
        )

    @cached_property
    def report_groups(self) -> pl.DataFrame:
        """The CyberTipline export reduced to (reporter type, ESP, incident type, country) with
        its reports and files: one streaming pass over the Parquet file, bounded memory."""
        counts = ("image_count", "video_count", "other_file_count")
        return (
            pl.scan_parquet(self.folder / CYBERTIPLINE_REPORTS.file_name)
            # Any integer width and dictionary-encoded strings: the contract names values.
            .select(*(pl.col(k).cast(pl.String) for k in GROUP_KEYS), *(pl.col(c).cast(pl.Int64) for c in counts))
            .group_by(GROUP_KEYS)
            .agg(
                pl.len().cast(pl.Int64).alias("reports"),
                *(pl.col(c).sum().alias(c) for c in counts),
            )
            .collect(engine="streaming")
        )

    @cached_property
    def cvip_requests(self) -> pl.DataFrame:
        return self._csv(CVIP_REQUESTS.file_name).select(
            "request_id",
            pl.col("received_date").str.to_date("%Y-%m-%d"),
            "agency_type",
            pl.col("image_count").cast(pl.Int64),
            pl.col("video_count").cast(pl.Int64),
        )

    @cached_property
    def relationships(self) -> pl.DataFrame:
        return self._csv(CVIP_OFFENDER_RELATIONSHIPS.file_name)

    @cached_property
    def program_metrics(self) -> pl.DataFrame:
        return self._csv(PROGRAM_METRICS.file_name).select(
            "metric_id",
            "period",
            pl.col("value").cast(pl.Int64),
            pl.col("since").cast(pl.Int32),
            "source",
        )

    @cached_property
    def previous_headline(self) -> pl.DataFrame | None:
        """Last year's published headline figures, when last year was released."""
        if self.previous_release is None:
            return None
        path = self.previous_release / "headline_metrics.parquet"
        return pl.read_parquet(path) if path.is_file() else None


# --------------------------------------------------------------------------------------------
# What the computations share.
# --------------------------------------------------------------------------------------------


def catalog(name: str) -> pl.DataFrame:
    """A category seed as text columns (an empty field is null), in published order."""
    rows = read_seed(name)
    return pl.DataFrame(
        {column: [row[column] or None for row in rows] for column in rows[0]},
        schema={column: pl.String for column in rows[0]},
    )


def per_category(
    categories: pl.DataFrame, label: str, counts: pl.DataFrame, total: pl.DataFrame, code: str = "code"
) -> pl.DataFrame:
    """Every category of a catalog, in published order, labelled, with its counts (``counts``:
    the category code first, then the count columns; 0 when a category has no record), then the
    total row ``total`` (counted from all records, not summed from the rows)."""
    key, *columns = counts.columns
    rows = (
        categories.select(pl.col(code).alias("_code"), pl.col("label").alias(label))
        .join(counts.rename({key: "_code"}), on="_code", how="left", maintain_order="left")
        .drop("_code")
        .with_columns(pl.col(columns).fill_null(0))
    )
    return pl.concat([rows, total.select(rows.columns)], how="vertical_relaxed")


def published(year: int, frame: pl.DataFrame, counts: Sequence[str]) -> pl.DataFrame:
    """``year`` first, then the columns, counts as Int64."""
    return frame.select(
        pl.lit(year, pl.Int32).alias("year"),
        *(pl.col(c).cast(pl.Int64) if c in counts else pl.col(c) for c in frame.columns),
    )


# --------------------------------------------------------------------------------------------
# One reading of the raw exports per run and year.
# --------------------------------------------------------------------------------------------

_LOCK = threading.Lock()
_CACHE: dict[tuple, RawYear] = {}


def _signature(folder: Path) -> tuple:
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def raw_year(folder: Path, year: int, previous_release: Path | None) -> RawYear:
    """The year's exports, read once per process while the files are unchanged: the tables of a
    run share one scan of the CyberTipline export."""
    key = (
        str(folder),
        year,
        str(previous_release),
        _signature(folder),
        _signature(previous_release) if previous_release else (),
    )
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            _CACHE.clear()  # keep one year: bounded memory in a backfill
            found = _CACHE[key] = RawYear(folder, year, previous_release)
        return found
