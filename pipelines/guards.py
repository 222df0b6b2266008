"""Every guard of the product, declared once: the one place that says what refuses a wrong release.

A guard is whatever stops a wrong number or a leaked detail from being published: a Dagster asset
check of the yearly run, a proof ingest makes, a gate of the release step, the golden
verification. Each is declared here once (:data:`DECLARED`) with

* what it protects: cells of published tables (a table, some rows, some columns; the exact
  tables or their public-use copy), or the whole release;
* where it runs: the asset and the step;
* what it proves, in one sentence;
* the test whose input makes it fail, marked ``@pytest.mark.guard("<name>")``.

From here come the Dagster check specs' descriptions (pipelines/defs/checks.py), the "What guards
it" section of every docs/tables/<table>.md (pipelines/reference_docs.py) and ``impact guards
TABLE [--row LABEL] [--column NAME]``. tests/test_guards.py fails when a failing test does not
exist or is not marked for its guard, and when a check of the code location is not declared here.

A declaration that runs on several assets (``schema_and_totals`` on every published table) is
written once and expands into one :class:`Guard` per asset (:func:`guards`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.core.config import REPO_ROOT
from pipelines.core.contract import RAW_EXPORTS, RawExport
from pipelines.core.seeds import metric_catalog
from pipelines.core.sql_models import upstream
from pipelines.public_copy.suppression import LAYOUTS
from pipelines.tables import SharedCell, TableSpec, specs

CHECK = "check"
"""A Dagster asset check of the yearly run."""
INGEST = "ingest"
"""A proof ingest makes in a raw asset's step; when it fails, so does the asset's export_contract."""
GATE = "release gate"
"""A condition the release asset refuses to publish without."""
VERIFICATION = "verification"
"""Run outside the yearly run: a command and a test of ``make test``."""

REFUSED = "nothing of the year is published; the previous release stays as it was"

HEADLINE = "headline_metrics"
REFERENCE = REPO_ROOT / "tests" / "reference" / "2020"
"""The 2020 tables as the clearinghouse published them (tests/reference/README.md)."""


@dataclass(frozen=True)
class Cells:
    """Cells of one published table a guard protects: every row and column unless named.

    ``via`` says how when the guard reaches them through something else (a raw export they are
    read from, a figure they are equal to); ``public``: their copy in ``public/``, not the exact
    table."""

    table: str
    rows: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    via: str | None = None
    public: bool = False

    def covers(self, table: str, row: str | None = None, column: str | None = None) -> bool:
        return (
            self.table == table
            and (row is None or self.rows is None or row in self.rows)
            and (column is None or self.columns is None or column in self.columns)
        )

    def __str__(self) -> str:
        where = []
        if self.rows is not None:
            where.append(f"row{'s' if len(self.rows) > 1 else ''} {', '.join(self.rows)}")
        if self.columns is not None:
            where.append(f"column{'s' if len(self.columns) > 1 else ''} {', '.join(self.columns)}")
        text = f"{self.table}" + (f" ({'; '.join(where)})" if where else "")
        return ("the public copy of " if self.public else "") + text


@dataclass(frozen=True)
class Guard:
    """One guard as it runs: on one asset (or none, outside the run), protecting its cells."""

    name: str
    kind: str
    asset: str | None
    """The Dagster asset it runs on or in; None outside the yearly run."""
    step: str
    """Where in the run (or outside it) it is evaluated."""
    proves: str
    failing_test: str
    """``tests/<path>.py::<test>``: its input makes the guard fail."""
    on_failure: str
    remedy: str
    """What the operator does when it fails."""
    protects: tuple[Cells, ...] = ()
    whole_release: bool = False
    """True when it protects every file of the release (the release's own gates)."""

    @property
    def where(self) -> str:
        return f"{self.asset}: {self.step}" if self.asset else self.step

    def cells_of(self, table: str, row: str | None = None, column: str | None = None) -> list[Cells]:
        return [cells for cells in self.protects if cells.covers(table, row, column)]

    def guards(self, table: str, row: str | None = None, column: str | None = None) -> bool:
        return self.whole_release or bool(self.cells_of(table, row, column))


@dataclass(frozen=True)
class Declared:
    """A guard as declared: once, whatever the number of assets it runs on. ``on`` lists, when
    asked, each asset it runs on with the cells it protects there."""

    name: str
    kind: str
    step: str
    proves: str
    failing_test: str
    on: Callable[[], Iterable[tuple[str | None, tuple[Cells, ...]]]]
    remedy: str
    on_failure: str = REFUSED
    whole_release: bool = False


# ---------------------------------------------------------------------------------------------
# What the guards protect, from the table specs and the SQL models


def tables_reading(export: RawExport) -> list[str]:
    """The published tables built, directly or through other tables, from a raw export."""
    return [name for name in specs() if export.table in upstream(name)]


def _reading(export: RawExport) -> tuple[Cells, ...]:
    return tuple(Cells(t, via=f"reads {export.file_name}") for t in tables_reading(export))


def _every_table() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    for name in specs():
        yield name, (Cells(name),)


def _share_pairs() -> list[tuple[tuple[str, str, str], tuple[str, str, str]]]:
    return [
        ((name, cell.row, cell.column), (cell.table, cell.other_row, cell.other_column))
        for name, table in specs().items()
        for cell in table.shares
    ]


def equal_cells(table: str, row: str, column: str) -> list[tuple[str, str, str]]:
    """Every cell of another table the specs' ``shares`` make equal to this one, directly or
    through a third table (by_state Total = by_case_type Total = the headline population)."""
    pairs = _share_pairs()
    found, todo = [(table, row, column)], [(table, row, column)]
    while todo:
        current = todo.pop(0)
        for a, b in pairs:
            for this, other in ((a, b), (b, a)):
                if this == current and other not in found:
                    found.append(other)
                    todo.append(other)
    return found[1:]


def cell_name(table: str, row: str, column: str) -> str:
    return f"{table}[{row}, {column}]"


def _with_equal_cells(table: str, row: str, column: str) -> list[Cells]:
    """A cell and the cells equal to it, the latter reached through it."""
    label = cell_name(table, row, column)
    return [
        Cells(table, (row,), (column,)),
        *(Cells(t, (r,), (c,), via=f"equal to {label}") for t, r, c in equal_cells(table, row, column)),
    ]


def _shared_cells() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    for name, table in specs().items():
        if table.shares:
            yield name, tuple(cells for share in table.shares for cells in _share_cells(name, share))


def _share_cells(name: str, share: SharedCell) -> tuple[Cells, Cells]:
    this, other = (name, share.row, share.column), (share.table, share.other_row, share.other_column)
    return (
        Cells(name, (share.row,), (share.column,), via=f"equal to {cell_name(*other)}"),
        Cells(share.table, (share.other_row,), (share.other_column,), via=f"equal to {cell_name(*this)}"),
    )


def table_total_figures() -> list[tuple[str, str]]:
    """(metric_id, period) of each table's total among the headline figures: the first figure
    the metric catalog computes from the table (sql/audits/previous_year_band.sql bands them)."""
    first: dict[str, tuple[str, str]] = {}
    for metric in metric_catalog().values():
        if metric.computed_from:
            first.setdefault(metric.computed_from, metric.key)
    return list(first.values())


def _band() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    cells: list[Cells] = []
    for metric_id, period in table_total_figures():
        cells += _with_equal_cells(HEADLINE, f"{metric_id}/{period}", "value")
    for table in specs():
        files = [export.file_name for export in RAW_EXPORTS if table in tables_reading(export)]
        if files:
            cells.append(Cells(table, via=f"the row count of {', '.join(files)}"))
    yield HEADLINE, tuple(cells)


def _consistent() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    cells: list[Cells] = []
    for metric in metric_catalog().values():
        if metric.period in ("prior_year", "cumulative"):
            cells += _with_equal_cells(HEADLINE, f"{metric.metric_id}/{metric.period}", "value")
    yield HEADLINE, tuple(cells)


def _public_copy() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    yield "public_use_tables", tuple(Cells(t, public=True) for t in LAYOUTS)


def _release() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    yield "release", ()


def _accepted() -> Iterator[tuple[str, tuple[Cells, ...]]]:
    yield "accepted_exports", ()


def _reference_rows(table: TableSpec, path: Path) -> tuple[str, ...] | None:
    """The rows a partial reference file lists (by the table's label), None for a whole table."""
    if not path.stem.endswith("_partial") or table.label is None:
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(row[table.label] for row in csv.DictReader(handle))


def _golden() -> Iterator[tuple[str | None, tuple[Cells, ...]]]:
    cells = []
    for path in sorted(REFERENCE.glob("*.csv")):
        table = specs()[path.stem.removesuffix("_partial")]
        cells.append(Cells(table.name, _reference_rows(table, path), via="in the 2020 release"))
    yield None, tuple(cells)


# ---------------------------------------------------------------------------------------------
# The declarations


def _raw_exports(cells: Callable[[RawExport], tuple[Cells, ...]]):
    def on() -> Iterator[tuple[str, tuple[Cells, ...]]]:
        for export in RAW_EXPORTS:
            yield export.table, cells(export)

    return on


DECLARED: tuple[Declared, ...] = (
    Declared(
        name="export_contract",
        kind=CHECK,
        step="the raw exports' step (raw_exports), right after the export's ingest",
        proves=(
            "Every row of the export follows every rule of the raw export contract (raw/README.md): "
            "Great Expectations on the CSV exports, one SQL audit per rule (sql/audits/) on the "
            "CyberTipline Parquet export; a file ingest refuses fails it with ingest's lines."
        ),
        failing_test="tests/accepting/test_raw_validation.py::test_each_rule_names_file_column_rule_count_and_rows",
        remedy=(
            "Fix the export at the rows named (row 1 = the first data row), or ask the source system's owner; re-run."
        ),
        on=_raw_exports(_reading),
    ),
    Declared(
        name="complete_ingest",
        kind=INGEST,
        step="the raw exports' step (raw_exports), while ingesting; reported by its export_contract",
        proves=(
            "Every record of the file is in the warehouse: the rows DuckDB loaded equal the records "
            "Python's csv module streams from a CSV export, or the Parquet footer's row count."
        ),
        failing_test="tests/accepting/test_raw_validation.py::test_the_loader_and_the_streaming_count_must_agree",
        remedy="The file is damaged or was read while being written: export it again, then re-run.",
        on=_raw_exports(_reading),
    ),
    Declared(
        name="schema_and_totals",
        kind=CHECK,
        step="the published tables' step (published_tables), right after the SQL model built the table",
        proves=(
            "The table has its spec's columns, types and order, its categories in published order "
            "(or each key once and the total row last), no null or negative count, each row's parts "
            "adding up to its total, each column to the total row, and percents that are the rounded "
            "shares (a Pandera schema generated from the spec)."
        ),
        failing_test="tests/proving/test_published_invariants.py::test_table_invariant_fails_when_a_cell_is_tampered",
        remedy=(
            "A SQL model or a seed is wrong, or the raw rules missed a case: read the named rows, fix sql/, add a test."
        ),
        on=_every_table,
    ),
    Declared(
        name="second_computation",
        kind=CHECK,
        step="the published tables' step (published_tables), after schema_and_totals",
        proves=(
            "Every cell equals the same table computed a second time, independently: in polars, "
            "straight from the raw exports as raw/README.md describes them, never from the SQL "
            "models; a difference names the row, the column and both values."
        ),
        failing_test="tests/proving/test_second_computation.py::test_a_wrong_business_rule_is_refused_and_named",
        remedy=(
            "A business rule differs between the SQL and the second computation (the message names the "
            "table, row, column and both values): find which one is wrong against raw/README.md, fix it, "
            "add a test."
        ),
        on=_every_table,
    ),
    Declared(
        name="shared_cells",
        kind=CHECK,
        step=(
            "the published tables' step (published_tables), after second_computation, once the tables it "
            "shares cells with are built"
        ),
        proves=(
            "Each cell the table shares with another (its spec's shares: the population in every "
            "missing-children table and the headline figures, the reports in every CyberTipline "
            "reports table) holds the same figure in both exact tables."
        ),
        failing_test="tests/proving/test_shared_cells.py::test_a_shared_cell_that_differs_is_named_with_both_figures",
        remedy=(
            "Two SQL models disagree on a figure they both state (the message names both cells and both "
            "values): the second computation of each says which one is wrong."
        ),
        on=_shared_cells,
    ),
    Declared(
        name="consistent_with_previous_year",
        kind=CHECK,
        step="the published tables' step (published_tables), after second_computation",
        proves=(
            "A prior-year figure of program_metrics.csv equals the yearly figure of last year's release, "
            "and a cumulative figure is never below last year's (sql/audits/headline_metrics_previous_year.sql)."
        ),
        failing_test="tests/sql/test_year_over_year.py::test_the_consistency_check_names_each_figure_and_rule",
        remedy="Correct program_metrics.csv, or publish last year again if its release was wrong.",
        on=_consistent,
    ),
    Declared(
        name="within_previous_year_band",
        kind=CHECK,
        step="the published tables' step (published_tables), after second_computation",
        proves=(
            "Each export's row count and each table's total (its first figure in the metric catalog) "
            "is within the band around last year's release (IMPACT_PREVIOUS_YEAR_BAND, default ±50%) "
            "unless the operator acknowledges the change (impact run --acknowledge-change FIGURE, listed "
            "in the manifest; sql/audits/previous_year_band.sql)."
        ),
        failing_test=(
            "tests/sql/test_year_over_year.py::test_the_band_check_names_each_figure_and_how_to_acknowledge_it"
        ),
        remedy=(
            "If the export is wrong, fix it; if the change is real, run again with impact run "
            "--acknowledge-change FIGURE (or IMPACT_ACKNOWLEDGED_CHANGES=FIGURE,...): the manifest lists "
            "it under acknowledged_changes with both years' values and the band."
        ),
        on=_band,
    ),
    Declared(
        name="disclosure_audit",
        kind=CHECK,
        step="its own step, after the suppression",
        proves=(
            "Read with every earlier public copy of the year (no cell moved by more than R between two), "
            "public/ gives nothing away: told which withheld cells are small, an attacker pins none (its "
            "least and greatest value over every whole-number table agreeing with the cells, totals, "
            "shared totals and percents published differ), and from what is published alone, under one "
            "flag, no small count can be shown to be below K (its largest value is at least K); LP and "
            "MILP, HiGHS."
        ),
        failing_test="tests/public_copy/test_disclosure.py::test_dropping_a_secondary_cell_of_2020_fails_the_audit",
        remedy=(
            "When no pattern can protect the copy (a count published earlier became small, a published 0 "
            'became small: docs/public-use.md, "What cannot be protected") there is nothing to fix: the '
            "year's last protected public copy stays current until a later revision can be protected. When "
            "the check says the audit refused the suppression's own pattern, that is a bug: read the named "
            "cell, add a test in tests/public_copy/; never publish around it."
        ),
        on=_public_copy,
        on_failure=(
            "the public copy is withheld (severity WARN): the exact tables are published without a public/ of "
            "their own, and the year's last protected public copy stays current"
        ),
    ),
    Declared(
        name="all_checks_ran",
        kind=GATE,
        step="its step, before writing anything",
        proves=(
            "Every check of the publishing job ran and passed in this run: materializing the release alone "
            "never publishes tables no check saw."
        ),
        failing_test="tests/e2e/test_atomic_release.py::test_release_alone_refuses_to_publish_unchecked_tables",
        remedy=(
            "Run the year's publishing job whole: impact run --year Y, or launch yearly_release for the "
            "partition in the UI."
        ),
        on=_release,
        whole_release=True,
    ),
    Declared(
        name="raw_unchanged_since_ingest",
        kind=GATE,
        step="its step, while the tables are written; before anything is published",
        proves=(
            "Every raw export still holds the bytes ingested: its size, modification and change times are "
            "those taken before ingest read it (every write changes the change time), or else its SHA-256 is "
            "the one computed at ingest; a file written to while it was ingested was refused then."
        ),
        failing_test="tests/accepting/test_ingest_csv.py::test_a_raw_file_changed_after_ingest_is_named",
        remedy=(
            "An export was rewritten during the run: wait until its producer has finished (raw/README.md, "
            '"When a year is complete") and run again.'
        ),
        on=_release,
        whole_release=True,
    ),
    Declared(
        name="exports_accepted",
        kind=GATE,
        step="its step, the first of the publishing run; the release asks again before writing anything",
        proves=(
            "The year is published from accepted exports only: each export's export_contract evaluation "
            "that completed last passed and its raw asset was materialized in that accepting run, and the "
            "year's warehouse holds exactly those files (by SHA-256)."
        ),
        failing_test=(
            "tests/e2e/test_blocking_checks.py::test_a_publishing_run_of_exports_not_accepted_fails_at_its_first_step"
        ),
        remedy=(
            "Accept the year's exports first: impact run --year Y runs both steps; in the UI, launch "
            "accept_exports for the partition, and its publishing run follows."
        ),
        on=_accepted,
        whole_release=True,
    ),
    Declared(
        name="demo_mark",
        kind=GATE,
        step="its step, before writing anything",
        proves=(
            "The release says it is synthetic exactly when its exports are the demo generator's "
            "(their SHA-256 recorded in demo-exports.json); a mark the generator did not write is refused."
        ),
        failing_test="tests/accepting/test_demo_mark.py::test_a_marker_that_is_not_the_generators_is_refused_in_one_line",
        remedy="Delete demo-exports.json from the year's folder if the exports are real; run again.",
        on=_release,
        whole_release=True,
    ),
    Declared(
        name="golden_2020",
        kind=VERIFICATION,
        step="impact verify --year 2020 --reference tests/reference/2020, and tests/e2e/test_golden_2020.py",
        proves=(
            "The 2020 release of the 2020 demo exports, run through the real job, reproduces the "
            "published 2020 tables and figures exactly, cell by cell (tests/reference/2020)."
        ),
        failing_test="tests/publishing/test_verify.py::test_verify_names_every_cell_that_differs",
        remedy=(
            "A change moved a published 2020 figure: read the named cell and find the change of sql/ or "
            "pipelines/tables/ that moved it."
        ),
        on=_golden,
        on_failure="impact verify prints each differing cell and exits 1; make test fails",
    ),
)


@cache
def guards() -> tuple[Guard, ...]:
    """Every guard, one per asset it runs on, in declaration order."""
    return tuple(
        Guard(
            name=declared.name,
            kind=declared.kind,
            asset=asset,
            step=declared.step,
            proves=declared.proves,
            failing_test=declared.failing_test,
            on_failure=declared.on_failure,
            remedy=declared.remedy,
            protects=cells,
            whole_release=declared.whole_release,
        )
        for declared in DECLARED
        for asset, cells in declared.on()
    )


def guard(name: str, asset: str | None = None) -> Guard:
    """The guard ``name`` on ``asset`` (KeyError when none is declared)."""
    for found in guards():
        if found.name == name and found.asset == asset:
            return found
    raise KeyError(f"no guard {name!r} on {asset!r} in pipelines/guards.py")


def guards_of(table: str, row: str | None = None, column: str | None = None) -> list[Guard]:
    """Every guard of a table, or of its cells in ``row`` and ``column``."""
    return [g for g in guards() if g.guards(table, row, column)]


def known_rows(table: str) -> list[str] | None:
    """The row labels a table always has (its categories and total row; the headline figures of
    the metric catalog), None when its rows follow the data."""
    if table == HEADLINE:
        return [f"{metric_id}/{period}" for metric_id, period in metric_catalog()]
    return specs()[table].expected_labels()


def check_keys() -> set[tuple[str, str]]:
    """(asset, check) of every guard that is a Dagster asset check."""
    return {(g.asset, g.name) for g in guards() if g.kind == CHECK and g.asset}
