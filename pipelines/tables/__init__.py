"""One declaration per published table: ``pipelines/tables/<table>.py`` beside ``sql/published/<table>.sql``.

A table is its SQL (what it reads is read from the SELECT itself, pipelines/core/sql_models.py)
and its spec, which states, once, every other fact everything else derives from:

* its title and description;

* its columns after ``year``: name, title, description, dtype, nullability, range, and which
  columns are counts (a count column adds up to the total row);
* the label column, the expected categories and where they come from (a seed in ``sql/seeds/``
  or pycountry), and the label of the total row (last);
* which columns add up to which (``row_total``), extra rules (``rules``);
* its primary key, and whether it counts children (``counts_children``: the public-use release
  suppresses small counts in those tables);
* its second computation: the same figures computed a second time, straight from the raw
  exports in polars (``second_computation``, over pipelines/tables/raw_year.py; compared by
  pipelines/proving/second_computation.py);
* the cells it shares with other tables (``shares``, checked by ``shared_cells``).

Derived from the specs: the Pandera models (pipelines/proving/schemas.py), the data package
(pipelines/publishing/datapackage.py), the report's sections (pipelines/publishing/report.py),
the Dagster asset's description and ``dagster/column_schema`` (pipelines/defs/), the public
copy's relations (pipelines/public_copy/suppression.py), the guards that protect each cell
(pipelines/guards.py) and the table's page (docs/tables/, pipelines/reference_docs.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import duckdb
import polars as pl

from pipelines.core.seeds import read_seed
from pipelines.core.sql_models import MACROS_SQL, models
from pipelines.tables.raw_year import RawYear

TOTAL = "Total"
"""The label of most tables' last row, which holds the column totals (a spec's ``total``)."""
GRAND_TOTAL = "Grand Total"
NO_COUNTRY = "No Country Listed"
"""The row of the CyberTipline reports without an incident country (empty code), before Total."""


@dataclass(frozen=True, eq=False)
class Rule:
    """A table invariant, row by row, as polars expressions over the table in published order.

    ``holds`` is one Boolean per row (null counts as broken), so a validator names the rows that
    break it; ``detail`` says in words what is wrong with a broken row (None: the row's label
    says it all). Table-wide facts are stated per row too: the rows out of place are the ones
    that fail (a missing row shows as the last row failing, its detail naming what is missing).
    """

    name: str
    column: str
    """The column the problem is about, named in the error."""
    problem: str
    """What is wrong, in words, e.g. "row parts do not sum to the row total"."""
    holds: pl.Expr
    detail: pl.Expr | None = None


@dataclass(frozen=True)
class Column:
    """One published column."""

    name: str
    title: str
    description: str
    dtype: Any  # a polars dtype (instance or class)
    nullable: bool = False
    minimum: int | None = None
    maximum: int | None = None
    is_count: bool = False
    """A count: never negative, and the category rows add up to the total row."""
    not_empty: bool = False
    """Text that must hold a non-blank character."""


def duckdb_type(dtype: Any) -> str:
    """The DuckDB type of a published column's polars dtype."""
    if isinstance(dtype, pl.Decimal):
        return f"DECIMAL({dtype.precision}, {dtype.scale})"
    names = {pl.Int64: "BIGINT", pl.Int32: "INTEGER", pl.String: "VARCHAR"}
    for polars_type, name in names.items():
        if dtype == polars_type:
            return name
    raise TypeError(f"no DuckDB type for the published dtype {dtype}")


def year_column() -> Column:
    return Column("year", "Year", "The calendar year the figures are about.", pl.Int32)


def label(name: str, title: str, description: str) -> Column:
    """The column naming each row (a category, then the total row)."""
    return Column(name, title, description, pl.String)


def count(name: str, title: str, description: str) -> Column:
    return Column(name, title, description, pl.Int64, minimum=0, is_count=True)


@dataclass(frozen=True)
class Categories:
    """The expected category rows of a table, in published order, and where they come from."""

    source: str  # e.g. "sql/seeds/case_types.csv"
    labels: Callable[[], list[str]]


def seed_categories(name: str, column: str = "label") -> Categories:
    def labels() -> list[str]:
        return [row[column] for row in read_seed(name)]

    return Categories(f"sql/seeds/{name}.csv", labels)


@dataclass(frozen=True)
class SharedCell:
    """A cell of a table (its row label and column) equal to a cell of another table: a shared
    total. The public can read one from the other, so disclosure control links them."""

    row: str
    column: str
    table: str
    other_row: str
    other_column: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    description: str
    """What the table holds, in words: the Dagster asset's, the data package's and the table
    page's description."""
    columns: tuple[Column, ...]
    """The columns after ``year``, in published order."""
    primary_key: tuple[str, ...]
    counts_children: bool
    """True when a count is a number of children (or their cases): the public-use release
    suppresses small counts in these tables."""
    label: str | None = None
    """The column naming each row; None when rows are keyed by several columns."""
    categories: Categories | None = None
    """The fixed category rows, in published order; None when the rows follow the data."""
    total: str | None = TOTAL
    """The label of the last row, which holds the column totals; None when there is none."""
    row_total: tuple[tuple[str, ...], str] | None = None
    """(parts, total column): the parts of each row add up to its total column."""
    percents: tuple[tuple[str, str], ...] = ()
    """(percent column, count column): the percent is the count's share of the total row's count,
    rounded half away from zero to two decimals (100.00 on the total row)."""
    shares: tuple[SharedCell, ...] = ()
    """Cells of this table that hold the same figure as a cell of another table."""
    rules: tuple[Callable[[], Sequence[Rule]], ...] = ()
    """Further invariants of the table, each a function building its rules (called when the
    schema is built, so importing a spec reads no catalog)."""
    second_computation: Callable[[RawYear], pl.DataFrame] | None = field(default=None, compare=False)
    """The table computed from the raw exports in polars, independently of the SQL model."""

    @property
    def all_columns(self) -> tuple[Column, ...]:
        return (year_column(), *self.columns)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.all_columns]

    def duckdb_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, DuckDB type) of every published column, e.g. last year's release as a SQL model
        reads it (``previous_year_<table>``)."""
        return tuple((c.name, duckdb_type(c.dtype)) for c in self.all_columns)

    def column(self, name: str) -> Column:
        for column in self.all_columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def count_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.is_count]

    def expected_labels(self) -> list[str] | None:
        """The label column top to bottom: the categories, then the total row."""
        if self.categories is None:
            return None
        return self.categories.labels() + ([self.total] if self.total else [])

    def row_labels(self, frame: pl.DataFrame) -> list[str]:
        """A readable label per row: its label, or its primary key after ``year``."""
        keys = [self.label] if self.label else [k for k in self.primary_key if k != "year"]
        if not set(keys) <= set(frame.columns):
            return [f"row {i + 1}" for i in range(frame.height)]
        return [
            "/".join(f"row {i + 1}" if v is None else str(v) for v in values)
            for i, values in enumerate(frame.select(keys).iter_rows())
        ]


@cache
def specs() -> dict[str, TableSpec]:
    """Every published table's spec, in the order of the SQL files (one spec per SQL model)."""
    found = {}
    for model in models("published"):
        module = importlib.import_module(f"{__name__}.{model.name}")
        spec = module.SPEC
        if spec.name != model.name:
            raise ValueError(f"{module.__name__}: SPEC.name is {spec.name!r}, not {model.name!r}")
        found[spec.name] = spec
    return found


def spec(table: str) -> TableSpec:
    return specs()[table]


def sql_macros() -> str:
    """The labels the SQL models take from the specs, as DuckDB macros: ``total_label('<table>')``,
    the label of a table's total row (``total``), and ``no_country_label()``. Defined with the
    project's macros whenever a year's database opens (define_macros), so each
    label is stated once, in the spec."""
    totals = " ".join(f"WHEN '{t.name}' THEN '{t.total}'" for t in specs().values() if t.total)
    return (
        f"CREATE OR REPLACE MACRO total_label(table_name) AS CASE table_name {totals} END;\n"
        f"CREATE OR REPLACE MACRO no_country_label() AS '{NO_COUNTRY}';\n"
    )


def define_macros(con: duckdb.DuckDBPyConnection, year: int) -> None:
    """(Re)define every macro the SQL models use on a year's database: ``report_year()``, the
    project's (sql/macros.sql) and the labels of the specs (``sql_macros``). They are stored in
    the database, so every cursor sees them. The warehouse resource calls it when it opens a
    year's database; tests/harness.py when it builds the tables without Dagster."""
    con.execute(f"CREATE OR REPLACE MACRO report_year() AS {int(year)};\n{MACROS_SQL}\n{sql_macros()}")
