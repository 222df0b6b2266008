"""The public-use tables of a year in the warehouse: the published tables with small counts of
children suppressed (pipelines/public_copy/suppression.py), and the list of suppressed cells.

Warehouse tables written (each keeps the ``sort_order`` column of its published table):

* ``public_<table>`` for every table that takes part in suppression (``LAYOUTS``): suppressed
  cells are NULL, the columns keep their types; a suppressed headline value empties its
  ``display_text`` too. Every other published table goes to ``public/`` as it is.
* ``public_suppressed_cells``: one row per withheld cell — table, row label, column and the one
  public flag (SDMX CONF_STATUS ``C``), in table, row and column order. Which withheld cells are
  small counts is not in it: only the exact tables say.

The release (pipelines/publishing/release.py) writes them under ``published/<year>/public/`` when
the audit (pipelines/public_copy/audit.py) has passed; otherwise the public copy is withheld
(:func:`public_copy`): the tables are dropped and the release has no ``public/`` of its own.

A revised year: every earlier release of the year that has a ``public/`` folder is read back
(:func:`earlier_releases`); the suppression keeps every cell they withheld and protects all of
them together, and the audit attacks them together with the new one (docs/public-use.md, "A
revised year").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import duckdb
import polars as pl

from pipelines.core.sql_models import ORDER_COLUMN
from pipelines.public_copy.audit import THIS_RELEASE, AuditResult, PublicRelease, joint_audit, small_counts
from pipelines.public_copy.suppression import (
    LAYOUTS,
    PRIMARY,
    SECONDARY,
    WITHHELD,
    CellKey,
    Earlier,
    LinkedTables,
    Pattern,
    Revision,
    SuppressionError,
    apply_pattern,
    suppress,
    suppressed_cells,
)
from pipelines.tables import Column, TableSpec

PUBLIC_PREFIX = "public_"
SUPPRESSED_CELLS = "suppressed_cells"
"""Name of the list of suppressed cells in ``public/`` (warehouse: ``public_suppressed_cells``)."""
SUPPRESSED_SPEC = TableSpec(
    name=SUPPRESSED_CELLS,
    title="Suppressed cells of the public-use tables",
    description=(
        "Every suppressed (empty) cell of the public-use tables, each with the same flag, SDMX "
        "CONF_STATUS C (confidential): a count from 1 to K-1 of children, or a cell suppressed so "
        "that no such count can be derived, or shown to be small, from the rest of the release; "
        "which of the two is not said."
    ),
    columns=(
        Column(
            "table_name",
            "Table",
            "The public-use table of the suppressed cell (its CSV file has the same name).",
            pl.String,
        ),
        Column(
            "row_label",
            "Row",
            "The row of the cell: its category, or metric_id/period for headline figures.",
            pl.String,
        ),
        Column("column_name", "Column", "The column of the cell.", pl.String),
        Column(
            "conf_status",
            "Confidentiality status",
            f"SDMX CONF_STATUS, {WITHHELD} (confidential) for every withheld cell: a small count of "
            "children or a cell withheld to protect one; which is not said.",
            pl.String,
        ),
    ),
    primary_key=("year", "table_name", "row_label", "column_name"),
    counts_children=False,
    total=None,
)
"""The columns of the list (its data package resource)."""


def public_name(table: str) -> str:
    return PUBLIC_PREFIX + table


def read_tables(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, pl.DataFrame]:
    """Warehouse tables in published order, ``sort_order`` kept."""
    return {table: con.sql(f"SELECT * FROM {table} ORDER BY {ORDER_COLUMN}").pl() for table in tables}


@dataclass(frozen=True)
class EarlierRelease:
    """An earlier release of the year with a ``public/`` folder: its exact tables (to know how
    much each cell changed since, and which cells are small), its public tables and list of
    withheld cells (what anyone can read), and the K it was made with."""

    name: str
    exact: dict[str, pl.DataFrame]
    public: dict[str, pl.DataFrame]
    listed: dict[CellKey, str]
    k: int


def _read_listed(path: Path) -> dict[CellKey, str]:
    frame = pl.read_parquet(path, columns=["table_name", "row_label", "column_name", "conf_status"])
    return {(t, r, c): code for t, r, c, code in frame.iter_rows()}


def read_release(folder: Path) -> EarlierRelease | None:
    """A release folder as :class:`EarlierRelease`; None when it has no ``public/`` (a release
    made before the public-use tables existed: nothing public to attack)."""
    public = Path(folder) / "public"
    if not (public / f"{SUPPRESSED_CELLS}.parquet").is_file():
        return None
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    present = [t for t in LAYOUTS if (Path(folder) / f"{t}.parquet").is_file()]
    return EarlierRelease(
        name=Path(folder).name,
        exact={t: pl.read_parquet(Path(folder) / f"{t}.parquet") for t in present},
        public={t: pl.read_parquet(public / f"{t}.parquet") for t in present},
        listed=_read_listed(public / f"{SUPPRESSED_CELLS}.parquet"),
        k=int(manifest["public"]["min_public_count"]),
    )


def earlier_releases(folders: Iterable[Path]) -> list[EarlierRelease]:
    """The releases among ``folders`` (oldest first) that have a ``public/`` folder."""
    return [release for release in map(read_release, folders) if release is not None]


def max_change(first: Mapping[str, pl.DataFrame], second: Mapping[str, pl.DataFrame], **model_options) -> int:
    """R: the largest change of any cell of a table that counts children present in both sets
    of exact tables (0 when none changed). ``model_options``: layouts and links (tests)."""
    a, b = LinkedTables.from_tables(first, **model_options), LinkedTables.from_tables(second, **model_options)
    changes = [
        abs(b.values[j] - a.values[i])
        for key, i in a.index.items()
        if a.counts_children[i] and (j := b.index.get(key)) is not None
    ]
    return max(changes, default=0)


def max_changes(exact: Sequence[Mapping[str, pl.DataFrame]], **model_options) -> dict[tuple[int, int], int]:
    """R for every pair of releases (positions, oldest first)."""
    pairs = combinations(range(len(exact)), 2)
    return {(r, s): max_change(exact[r], exact[s], **model_options) for r, s in pairs}


@dataclass(frozen=True)
class PublicTables:
    """The public copies, the published list and the pattern (roles by cell of ``model``, the
    exact tables' cells)."""

    tables: dict[str, pl.DataFrame]
    listed: dict[CellKey, str]
    pattern: Pattern
    model: LinkedTables


def _roles(model: LinkedTables, listed: Mapping[CellKey, str], k: int) -> dict[int, str]:
    """The role of each withheld cell of an earlier release (``model``: its exact tables): a
    small count or not. The public list does not say; the exact tables do."""
    return {
        model.index[c]: PRIMARY
        if model.counts_children[model.index[c]] and 0 < model.values[model.index[c]] < k
        else SECONDARY
        for c in listed
        if c in model.index
    }


def public_tables(exact: Mapping[str, pl.DataFrame], k: int, earlier: Sequence[EarlierRelease] = ()) -> PublicTables:
    """The suppressed copies of the exact tables and the list of suppressed cells; ``earlier``:
    the year's earlier public releases, oldest first, protected together with this one."""
    model = LinkedTables.from_tables(exact)
    revision = None
    if earlier:
        models = [LinkedTables.from_tables(e.exact) for e in earlier]
        known = [Earlier(m, _roles(m, e.listed, e.k), e.k, e.name) for m, e in zip(models, earlier)]
        revision = Revision.of(model, known, max_changes([*(e.exact for e in earlier), exact]), k)
    pattern = suppress(model, k, revision)
    listed = suppressed_cells(model, pattern.status)
    public = apply_pattern(exact, listed)
    headline = public.get("headline_metrics")
    if headline is not None:
        public["headline_metrics"] = headline.with_columns(
            pl.when(pl.col("value").is_null()).then(None).otherwise(pl.col("display_text")).alias("display_text")
        )
    return PublicTables(public, listed, pattern, model)


def suppressed_frame(listed: Mapping[CellKey, str], year: int) -> pl.DataFrame:
    rows = list(listed.items())
    return pl.DataFrame(
        {
            "year": [year] * len(rows),
            "table_name": [cell[0] for cell, _ in rows],
            "row_label": [cell[1] for cell, _ in rows],
            "column_name": [cell[2] for cell, _ in rows],
            "conf_status": [flag for _, flag in rows],
            ORDER_COLUMN: list(range(len(rows))),
        },
        schema={
            "year": pl.Int32,
            "table_name": pl.String,
            "row_label": pl.String,
            "column_name": pl.String,
            "conf_status": pl.String,
            ORDER_COLUMN: pl.Int64,
        },
    )


def build_public_tables(
    con: duckdb.DuckDBPyConnection, year: int, k: int, earlier: Sequence[EarlierRelease] = ()
) -> PublicTables:
    """Compute and store the year's public-use tables in the warehouse."""
    built = public_tables(read_tables(con, list(LAYOUTS)), k, earlier)
    for table, frame in built.tables.items():
        con.register("public_frame", frame.to_arrow())
        con.sql(f"CREATE OR REPLACE TABLE {public_name(table)} AS SELECT * FROM public_frame")
        con.unregister("public_frame")
    listed = suppressed_frame(built.listed, year).to_arrow()
    con.register("listed_frame", listed)
    con.sql(f"CREATE OR REPLACE TABLE {public_name(SUPPRESSED_CELLS)} AS SELECT * FROM listed_frame")
    con.unregister("listed_frame")
    return built


def _attacked_view(tables: Mapping[str, pl.DataFrame], listed: Mapping[CellKey, str]) -> tuple:
    """What an attacker reads of a public release: its cells, values, percents and list."""
    model = LinkedTables.from_tables(tables)
    return model.cells, model.values, [(key, value) for key, _, _, value in model.percents], sorted(listed.items())


def audit_warehouse(con: duckdb.DuckDBPyConnection, k: int, earlier: Sequence[EarlierRelease] = ()) -> AuditResult:
    """The audit of the stored public-use tables, from them and the stored list alone (and,
    from the exact tables, which cells are small), together with the year's earlier public
    releases (``earlier``, oldest first; R from their exact tables and this run's). An earlier
    release with the same counts (R = 0) and the same public tables and list as now is left
    out: a second copy of the same release tells an attacker nothing more (and a re-run of
    unchanged inputs stays byte-identical to the current release)."""
    tables = {
        table: frame.drop(ORDER_COLUMN) for table, frame in read_tables(con, [public_name(t) for t in LAYOUTS]).items()
    }
    tables = {name.removeprefix(PUBLIC_PREFIX): frame for name, frame in tables.items()}
    listed = {
        (table, row, column): flag
        for table, row, column, flag in con.sql(
            f"SELECT table_name, row_label, column_name, conf_status FROM {public_name(SUPPRESSED_CELLS)} "
            f"ORDER BY {ORDER_COLUMN}"
        ).fetchall()
    }
    view = _attacked_view(tables, listed)
    exact = {t: frame.drop(ORDER_COLUMN) for t, frame in read_tables(con, list(LAYOUTS)).items()}
    others = [e for e in earlier if max_change(e.exact, exact) > 0 or _attacked_view(e.public, e.listed) != view]
    releases = [PublicRelease(e.name, e.public, e.listed, e.k, small_counts(e.exact, e.k)) for e in others]
    releases.append(PublicRelease(THIS_RELEASE, tables, listed, k, small_counts(exact, k)))
    return joint_audit(releases, max_changes([*(e.exact for e in others), exact]))


PUBLISHED, WITHHELD_COPY = "published", "withheld"
"""The two outcomes of a year's public copy (the manifest's ``public.status``)."""
NO_PATTERN = "no pattern of withheld cells passes the audit"
UNSAFE_PATTERN = "the audit found the suppression's own pattern unsafe: a product error, to be reported"


@dataclass(frozen=True)
class PublicCopy:
    """What became of the year's public copy: published (``audit`` passed) or withheld, with the
    reason and the cells that gave themselves away (names only, never a value), and which
    release's public copy is then the year's current one (None: the year has none)."""

    built: PublicTables | None
    audit: AuditResult | None
    reason: str = ""
    cells: tuple[str, ...] = ()
    current: str | None = THIS_RELEASE
    detail: str = ""
    """The suppressor's or the audit's own words (cells named, never a value)."""
    audit_seconds: float = 0.0
    """How long the audit took (0 when none ran: ``audit`` is None)."""
    solver_seconds: float = 0.0
    """How long the suppressor searched when it found no pattern (a pattern's own time is
    ``built.pattern.seconds``)."""

    @property
    def published(self) -> bool:
        return not self.reason


def public_copy(
    con: duckdb.DuckDBPyConnection, year: int, k: int, earlier: Sequence[EarlierRelease] = ()
) -> PublicCopy:
    """Build and audit the year's public copy, together with the earlier public releases. When
    no pattern passes both attacks, or the audit finds the pattern unsafe, the copy is withheld:
    its tables are dropped from the warehouse, so nothing of it can be published, and the year's
    current public copy stays the last one kept (``earlier``)."""
    current = earlier[-1].name if earlier else None
    searching = time.perf_counter()
    try:
        built = build_public_tables(con, year, k, earlier)
    except SuppressionError as error:
        drop_public_tables(con)
        searched = time.perf_counter() - searching
        return PublicCopy(None, None, NO_PATTERN, error.cells, current, str(error), solver_seconds=searched)
    started = time.perf_counter()
    result = audit_warehouse(con, k, earlier)
    seconds = time.perf_counter() - started
    if not result.passed:
        drop_public_tables(con)
        problems = "\n".join(result.problems)
        return PublicCopy(built, result, UNSAFE_PATTERN, result.exposed, current, problems, seconds)
    return PublicCopy(built, result, audit_seconds=seconds)


def drop_public_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in [*LAYOUTS, SUPPRESSED_CELLS]:
        con.sql(f"DROP TABLE IF EXISTS {public_name(table)}")


def manifest_public(copy: PublicCopy, k: int) -> dict[str, object]:
    """The manifest's ``public`` entry (pipelines/publishing/manifest.py), as JSON values:
    whether the public copy is published or withheld, which release's public copy is the year's
    current one (``this release`` when published), K and the flag; when published, the audit's
    figures per table and the releases audited together; when withheld, why and the cells that
    gave themselves away. The audit check records it in its metadata and ``release`` copies it
    from there, so the audit is run once."""
    entry: dict[str, object] = {
        "status": PUBLISHED if copy.published else WITHHELD_COPY,
        "current": copy.current,
        "min_public_count": k,
        "flag": WITHHELD,
    }
    if copy.published and copy.audit is not None:
        entry |= {"tables": copy.audit.figures(), "joint_audit": copy.audit.joint()}
    else:
        entry |= {"reason": copy.reason, "cells": list(copy.cells)}
    return json.loads(json.dumps(entry))


def withheld_summary(entry: Mapping[str, object]) -> str:
    """What the run's line, the alert and the reports say of a withheld public copy (the
    manifest's ``public`` entry): the cell that gave itself away and how many more, or the
    reason when no cell is named; "" when the copy is published."""
    if entry.get("status") != WITHHELD_COPY:
        return ""
    cells = list(entry.get("cells") or [])
    if not cells:
        return str(entry["reason"])
    return cells[0] + (f" and {len(cells) - 1} more" if len(cells) > 1 else "")
