"""The Pandera schemas of the published tables: nothing wrong is ever published (docs/published-tables.md).

1. One Pandera schema (polars backend) per published table, generated from the table's spec
   (pipelines/tables/): the columns, their dtypes and order (``strict`` + ``ordered``), nulls and
   ranges, and dataframe checks for the table invariants (pipelines/tables/rules.py: one
   year, category set and order, each row's parts add up to its total, each count column's
   category rows add up to the total row, and the table's own rules). The schemas describe the
   table as published, without the warehouse's trailing ``sort_order`` column, so they validate
   a released file as well.
2. Validation of one table (:func:`validate_table`), each failure explained with the table,
   column, rule and row labels.
The blocking Dagster check ``schema_and_totals`` (pipelines/defs/checks/published_tables.py)
runs them in each table's own step; a failure keeps the ``release`` asset from running.

Pandera (0.35 with polars 2.x):

* every dataframe check returns a plain ``bool`` (aggregate checks returning a one-row frame
  misbehave, pandera issue 2482). The rule behind it returns the list of problems and travels as
  a check keyword argument, so a failed check is explained afterwards (a scalar check has no
  failure cases);
* workaround, shown by tests/validation/test_published_invariants.py
  (``test_pandera_lazy_validation_still_crashes_on_mixed_failure_cases``): ``lazy=True`` crashes
  when a failed scalar dataframe check (failure case ``False``, a Boolean) is reported together
  with a failed column check (failure cases cast to String): ``polars.exceptions.SchemaError:
  type Boolean is incompatible with expected type String`` (the family of pandera issue 1659).
  Validation therefore runs the column checks first and the dataframe checks second, each pass
  with failure cases of one type;
* only eager frames are validated: a LazyFrame gets the schema checks only (pandera issue 1566).
"""

import copy
import os
from functools import cache
from typing import Any

import duckdb

_ARROW_TZ_PRESET = "PYARROW_IGNORE_TIMEZONE" in os.environ
import pandera.polars as pa

if not _ARROW_TZ_PRESET:
    # pandera sets PYARROW_IGNORE_TIMEZONE=1 on import (for pyspark, not installed here); pyarrow
    # would then store offset datetimes as local clock time in the whole process
    # (tests/validation/test_raw_validation.py shows it).
    os.environ.pop("PYARROW_IGNORE_TIMEZONE", None)
import polars as pl
from pandera.api.polars.components import Column
from pandera.errors import SchemaError, SchemaErrorReason, SchemaErrors

from pipelines.tables import TableSpec, spec
from pipelines.tables.rules import (
    Rule,
    categories_exactly,
    category_rows_sum_to_total_row,
    listing,
    one_year,
    percents_are_rounded_shares,
    row_parts_sum_to_total,
)

CHECK_OUTPUT_KEY = "check_output"  # pandera.constants.CHECK_OUTPUT_KEY


# --------------------------------------------------------------------------------------------
# Pandera schemas, generated from the specs.
# --------------------------------------------------------------------------------------------


def _evaluate(rule: Rule, frame: pl.DataFrame) -> list[str]:
    try:
        return rule(frame)
    except Exception as error:  # a rule must never crash validation: report it instead
        return [f"rule could not be evaluated ({type(error).__name__}: {error})"]


def table_check(name: str, rule: Rule) -> pa.Check:
    """A Pandera dataframe check named ``name`` that returns a scalar bool: does ``rule`` hold?

    The rule travels as a check keyword argument, so ``Check.statistics["rule"]`` explains a
    failure afterwards (a scalar check carries no failure cases).
    """

    def check(data: Any, rule: Rule) -> bool:
        return not _evaluate(rule, data.lazyframe.collect())

    return pa.Check(check, name=name, rule=rule)


def table_rules(table: TableSpec) -> list[tuple[str, Rule]]:
    """Every invariant of a table: those every table has, those its spec implies, its own."""
    rules: list[tuple[str, Rule]] = [("one year", one_year)]
    if table.categories is not None and table.label is not None:
        rules.append(("category set and order", categories_exactly(table.label, table.expected_labels)))
    if table.row_total is not None:
        parts, total = table.row_total
        described = " + ".join(parts) if len(parts) <= 3 else f"the {len(parts)} race columns"
        rules.append(("row parts sum to total", row_parts_sum_to_total(table.label, parts, total, described)))
    if table.total is not None and table.label is not None and table.count_columns:
        rules.append(("column totals", category_rows_sum_to_total_row(table.label, table.count_columns, table.total)))
    for percent, count in table.percents:
        rules.append(
            ("percent is the rounded share", percents_are_rounded_shares(table.label, percent, count, table.total))
        )
    return rules + list(table.rules)


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
        checks=[table_check(name, rule) for name, rule in table_rules(described)],
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


def _failing_rows(error: SchemaError, labels: list[str]) -> list[str]:
    output = error.check_output
    if not isinstance(output, pl.DataFrame) or CHECK_OUTPUT_KEY not in output.columns:
        return []
    failing = output.with_row_index("row").filter(~pl.col(CHECK_OUTPUT_KEY).fill_null(False))
    values: list[Any] = []
    if isinstance(error.failure_cases, pl.DataFrame) and error.failure_cases.width == 1:
        values = error.failure_cases.to_series().to_list()
    rows = []
    for i, row in enumerate(failing["row"].to_list()):
        label = labels[row] if row < len(labels) else f"row {row + 1}"
        shown = i < len(values) and values[i] is not None
        rows.append(f"'{label}' ({values[i]})" if shown else f"'{label}'")
    return rows


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
    rows = listing(_failing_rows(error, labels))
    if reason == SchemaErrorReason.SERIES_CONTAINS_NULLS:
        return f"{table}: column {column}: null value (rule: no null) in row(s) {rows}"
    name = getattr(error.check, "name", None) or str(error.check)
    spelled = getattr(error.check, "error", None) or name
    rule = COLUMN_RULES.get(name, spelled)
    return f"{table}: column {column}: {rule} ({spelled}), broken in row(s) {rows}"


def _pandera_errors(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> list[SchemaError]:
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return list(errors.schema_errors)
    except pl.exceptions.PolarsError:
        # Pandera could not assemble the failure cases of a lazy validation (mixed types):
        # validate eagerly to get at least the first error.
        try:
            schema.validate(frame, lazy=False)
        except SchemaError as error:
            return [error]
    except SchemaError as error:
        return [error]
    return []


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
    the partition's year.
    """
    full = schema(table)
    if year is not None and "year" in frame.columns:
        full = full.update_column("year", checks=[pa.Check.equal_to(year)])
    columns_only = copy.deepcopy(full)
    columns_only.checks = []
    labels = row_labels(table, frame)

    # Pass 1: columns (presence, order, dtype, nulls, ranges). All failure cases are text here.
    column_errors = _pandera_errors(columns_only, frame)
    problems = [describe_column_error(table, error, labels) for error in column_errors]
    if any(error.reason_code in STRUCTURAL for error in column_errors):
        return problems + [f"{table}: the table invariants were not evaluated because of the column errors above"]

    # Pass 2: the table invariants, each a scalar-bool dataframe check (failure case False).
    checks_only = pa.DataFrameSchema(checks=full.checks, name=full.name)
    for error in _pandera_errors(checks_only, frame):
        check = error.check
        rule = getattr(check, "statistics", {}).get("rule") if check is not None else None
        name = getattr(check, "name", None) or str(check)
        details = _evaluate(rule, frame) if rule is not None else []
        problems.extend(f"{table}: {d} (rule: {name})" for d in details or ["check failed"])
    return problems


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


def check_published_table(con: duckdb.DuckDBPyConnection, table: str, year: int | None) -> list[str]:
    """Load a published table from the year's warehouse and validate it."""
    frame, problems = load_published_table(con, table)
    if frame is None:
        return problems
    return problems + validate_table(table, frame, year)
