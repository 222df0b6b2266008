"""The Pandera schemas of the published tables: nothing wrong is ever published (docs/published-tables.md).

1. One Pandera schema (polars backend) per published table, generated from the table's spec
   (pipelines/tables/): the columns, their dtypes and order (``strict`` + ``ordered``), nulls and
   ranges, and one dataframe check per table invariant (pipelines/tables/rules.py: one year,
   category set and order, or for rows that follow the data each key once and the total row
   last; each row's parts add up to its total, each count column's category rows add up to the
   total row, percents, and the table's own rules). The schemas describe the
   table as published, without the warehouse's trailing ``sort_order`` column, so they validate
   a released file as well.
2. Validation of one table (:func:`validate_table`) in one lazy pass: every problem on one line
   naming the table, column, rule and rows.
The Dagster check ``schema_and_totals`` (pipelines/defs/proving/schema_and_totals.py)
runs them in the published tables' step, right after each table is built; a failure keeps the
``release`` asset from running.

Every check returns one Boolean per row, never one bool for the table, so Pandera itself names
the failing rows (its ``check_output``; the row's label comes from the spec), and its lazy mode
can report column and table failures together: a scalar-bool check's failure case (``False``)
beside a column check's text failure cases crashes it (``polars.exceptions.SchemaError: type
Boolean is incompatible with expected type String``, the family of pandera issue 1659; aggregate
checks returning one row misbehave too, pandera issue 2482). tests/proving/test_published_invariants.py
(``test_pandera_lazy_validation_reports_row_wise_and_column_failures_together``) shows both.
Only eager frames are validated: a LazyFrame gets the schema checks only (pandera issue 1566).
"""

import os
from functools import cache
from typing import Any

import duckdb

_ARROW_TZ_PRESET = "PYARROW_IGNORE_TIMEZONE" in os.environ
import pandera.polars as pa

if not _ARROW_TZ_PRESET:
    # pandera sets PYARROW_IGNORE_TIMEZONE=1 on import (for pyspark, not installed here); pyarrow
    # would then store offset datetimes as local clock time in the whole process
    # (tests/accepting/test_raw_validation.py shows it).
    os.environ.pop("PYARROW_IGNORE_TIMEZONE", None)
import polars as pl
from pandera.api.polars.components import Column
from pandera.api.polars.types import PolarsData
from pandera.constants import CHECK_OUTPUT_KEY
from pandera.errors import SchemaError, SchemaErrorReason, SchemaErrors

from pipelines.tables import Rule, TableSpec, spec
from pipelines.tables.rules import (
    categories_exactly,
    category_rows_sum_to_total_row,
    key_unique,
    one_year,
    percents_are_rounded_shares,
    row_parts_sum_to_total,
    rows_end_with,
)

MAX_LISTED = 12
"""At most this many rows are named per broken rule; the rest are counted."""


def listing(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


# --------------------------------------------------------------------------------------------
# Pandera schemas, generated from the specs.
# --------------------------------------------------------------------------------------------


def table_check(rule: Rule) -> pa.Check:
    """A Pandera dataframe check of one invariant: one Boolean per row, null counting as broken.

    The rule travels as a check keyword argument, so ``Check.statistics["rule"]`` explains the
    failing rows afterwards.
    """

    def check(data: PolarsData, rule: Rule) -> pl.LazyFrame:
        return data.lazyframe.select(rule.holds.alias(CHECK_OUTPUT_KEY))

    return pa.Check(check, name=rule.name, error=rule.problem, ignore_na=False, rule=rule)


def table_rules(table: TableSpec) -> list[Rule]:
    """Every invariant of a table: those every table has, those its spec implies, its own.

    A table with fixed categories has exactly them in order, then its total row (which makes its
    key unique); a table whose rows follow the data (ESPs, countries, months...) has each key
    (the primary key after ``year``) once and its total row last, so a new table of that kind is
    guarded without a rule of its own."""
    rules = [one_year()]
    if table.categories is not None and table.label is not None:
        rules.append(categories_exactly(table.label, table.categories.labels(), table.total))
    else:
        keys = [k for k in table.primary_key if k != "year"]
        if keys:
            rules.append(key_unique(keys))
        if table.total is not None and table.label is not None:
            rules.append(rows_end_with(table.label, [table.total]))
    if table.row_total is not None:
        parts, total = table.row_total
        described = " + ".join(parts) if len(parts) <= 3 else f"the {len(parts)} race columns"
        rules.append(row_parts_sum_to_total(parts, total, described))
    if table.total is not None and table.label is not None:
        rules.extend(category_rows_sum_to_total_row(table.label, c, table.total) for c in table.count_columns)
    for percent, count in table.percents:
        rules.append(percents_are_rounded_shares(table.label, percent, count, table.total))
    for own in table.rules:
        rules.extend(own())
    return rules


def _column_checks(column) -> list[pa.Check]:
    checks = []
    if column.minimum is not None:
        checks.append(pa.Check.ge(column.minimum))
    if column.maximum is not None:
        checks.append(pa.Check.le(column.maximum))
    if column.not_empty:
        checks.append(pa.Check.str_contains(r"\S"))
    return checks


@cache
def schema(table: str) -> pa.DataFrameSchema:
    """The Pandera schema of a published table, generated from its spec."""
    described = spec(table)
    return pa.DataFrameSchema(
        {
            c.name: pa.Column(c.dtype, checks=_column_checks(c), nullable=c.nullable, required=True)
            for c in described.all_columns
        },
        checks=[table_check(rule) for rule in table_rules(described)],
        name=table,
        strict=True,
        ordered=True,
    )


# --------------------------------------------------------------------------------------------
# Validation of one table: failures explained with row labels.
# --------------------------------------------------------------------------------------------


def row_labels(table: str, frame: pl.DataFrame) -> list[str]:
    """A readable label per row (the category, or metric_id/period for headline figures)."""
    return spec(table).row_labels(frame)


COLUMN_RULES = {
    "greater_than_or_equal_to": "a count must not be negative",
    "less_than_or_equal_to": "must not exceed the maximum",
    "str_contains": "must not be empty",
    "equal_to": "must be the year of the partition",
}


def _failing(error: SchemaError) -> list[int]:
    """The rows Pandera found failing (its row-wise check output), 0 for the first."""
    output = error.check_output
    if not isinstance(output, pl.DataFrame) or CHECK_OUTPUT_KEY not in output.columns:
        return []
    return output.with_row_index("row").filter(~pl.col(CHECK_OUTPUT_KEY).fill_null(False))["row"].to_list()


def _named(rows: list[int], labels: list[str], notes: list[Any]) -> str:
    """The rows by label, each with its note (the failing value, or what is wrong) when there is one."""
    notes = notes + [None] * (len(rows) - len(notes))
    return listing([f"'{labels[r]}'" if n is None or n == "" else f"'{labels[r]}' ({n})" for r, n in zip(rows, notes)])


def describe_column_error(table: str, error: SchemaError, labels: list[str]) -> str:
    """One readable line per column-level Pandera error: table, column, rule and rows."""
    reason = error.reason_code
    column = error.schema.name if isinstance(error.schema, Column) else None
    case = error.failure_cases
    if reason == SchemaErrorReason.COLUMN_NOT_IN_SCHEMA:
        return f"{table}: column {case}: not a column of the published table (rule: strict columns)"
    if reason == SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME:
        return f"{table}: column {case}: missing (rule: every published column is present)"
    if reason == SchemaErrorReason.COLUMN_NOT_ORDERED:
        expected = ", ".join(spec(table).column_names)
        return f"{table}: column {case}: out of order (rule: columns in the order {expected})"
    if reason == SchemaErrorReason.WRONG_DATATYPE:
        expected = getattr(error.schema, "dtype", None)
        return f"{table}: column {column}: dtype is {case}, expected {expected} (rule: column dtypes)"
    values = case.to_series().to_list() if isinstance(case, pl.DataFrame) and case.width == 1 else []
    rows = _named(_failing(error), labels, values)
    if reason == SchemaErrorReason.SERIES_CONTAINS_NULLS:
        return f"{table}: column {column}: null value (rule: no null) in row(s) {rows}"
    name = getattr(error.check, "name", None) or str(error.check)
    spelled = getattr(error.check, "error", None) or name
    rule = COLUMN_RULES.get(name, spelled)
    return f"{table}: column {column}: {rule} ({spelled}), broken in row(s) {rows}"


def _rule(error: SchemaError) -> Rule | None:
    check = error.check
    return getattr(check, "statistics", {}).get("rule") if check is not None else None


def describe_rule_error(table: str, rule: Rule, error: SchemaError, frame: pl.DataFrame, labels: list[str]) -> str:
    """One line for a broken invariant: table, column, the rows Pandera found failing, rule."""
    if error.reason_code == SchemaErrorReason.CHECK_ERROR:
        return f"{table}: column {rule.column}: could not be evaluated ({error.failure_cases}) (rule: {rule.name})"
    failing = _failing(error)
    details = [] if rule.detail is None else frame.select(rule.detail).to_series().gather(failing).to_list()
    rows = _named(failing, labels, details)
    return f"{table}: column {rule.column}: {rule.problem} in row(s) {rows} (rule: {rule.name})"


STRUCTURAL = {
    SchemaErrorReason.COLUMN_NOT_IN_DATAFRAME,
    SchemaErrorReason.WRONG_DATATYPE,
    SchemaErrorReason.COLUMN_NOT_IN_SCHEMA,
    SchemaErrorReason.COLUMN_NOT_ORDERED,
}


def validate_table(table: str, frame: pl.DataFrame, year: int | None = None) -> list[str]:
    """Validate one published table (eager, in published order, without ``sort_order``).

    Returns every problem found, each naming the table, the column, the rule and the rows; an
    empty list means the table may be published. ``year`` adds the rule that every row carries
    the partition's year. The invariants of a table whose columns are wrong are not reported
    (they would only repeat the column errors).
    """
    if frame.height == 0:
        return [f"{table}: the table has no rows (rule: every published table has at least its last row)"]
    full = schema(table)
    if year is not None and "year" in frame.columns:
        full = full.update_column("year", checks=[pa.Check.equal_to(year)])
    try:
        full.validate(frame, lazy=True)
        return []
    except SchemaErrors as errors:
        found = list(errors.schema_errors)
    labels = row_labels(table, frame)
    if any(error.reason_code in STRUCTURAL for error in found):
        problems = [describe_column_error(table, e, labels) for e in found if _rule(e) is None]
        return problems + [f"{table}: the table invariants are not reported because of the column errors above"]
    return [
        describe_column_error(table, e, labels)
        if (rule := _rule(e)) is None
        else describe_rule_error(table, rule, e, frame, labels)
        for e in found
    ]


def load_published_table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[pl.DataFrame | None, list[str]]:
    """A published table from the warehouse in published order, without ``sort_order``."""
    try:
        columns = [row[0] for row in con.sql(f"DESCRIBE {table}").fetchall()]
    except duckdb.Error as error:
        return None, [f"{table}: the table cannot be read from the warehouse ({error})"]
    if "sort_order" not in columns:
        return None, [f"{table}: column sort_order: missing (rule: the warehouse table carries its published order)"]
    problems = []
    null_orders, duplicate_orders = con.sql(
        "SELECT count(*) FILTER (WHERE sort_order IS NULL), "
        f"count(sort_order) - count(DISTINCT sort_order) FROM {table}"
    ).fetchall()[0]
    if null_orders or duplicate_orders:
        problems.append(
            f"{table}: column sort_order: {null_orders} null and {duplicate_orders} repeated value(s) "
            "(rule: a unique published position per row)"
        )
    frame = con.sql(f"SELECT * EXCLUDE (sort_order) FROM {table} ORDER BY sort_order").pl()
    return frame, problems


def check_published_table(con: duckdb.DuckDBPyConnection, table: str, year: int | None) -> tuple[int, list[str]]:
    """Load a published table from the year's warehouse and validate it: the rows read, and every
    problem (the ``schema_and_totals`` check, pipelines/defs/proving/schema_and_totals.py)."""
    frame, problems = load_published_table(con, table)
    if frame is None:
        return 0, problems
    return frame.height, problems + validate_table(table, frame, year)
