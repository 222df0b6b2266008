"""The comparison of a published table with its second computation, cell by cell.

The second computation itself is in the table's spec (pipelines/tables/<table>.py) over the raw
exports as :class:`pipelines.tables.raw_year.RawYear` reads them; this module compares its result
with the SQL model's table and names every differing cell: table, row, column, both values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from pipelines.tables import spec
from pipelines.tables.raw_year import RawYear

MAX_LISTED = 20
"""At most this many differing cells are named per table; the rest are counted."""


def _shown(value: Any) -> str:
    return "empty" if value is None else repr(value) if isinstance(value, str) else str(value)


def _named(labels: Sequence[str]) -> str:
    shown = ", ".join(map(repr, labels[:MAX_LISTED]))
    return shown + (f" and {len(labels) - MAX_LISTED} more" if len(labels) > MAX_LISTED else "")


def differences(
    table: str, built: pl.DataFrame, expected: pl.DataFrame, labels: Sequence[str], expected_labels: Sequence[str]
) -> list[str]:
    """Every cell where the SQL model's table (``built``, rows named by ``labels``) and the second
    computation (``expected``) differ, as ``table: row, column: SQL model A, second computation B``;
    rows only one of them has, and rows in another order, are named too."""
    if built.columns != expected.columns:
        return [
            f"{table}: columns: SQL model has {', '.join(built.columns)}, second computation "
            f"{', '.join(expected.columns)}"
        ]
    problems = []
    missing = [label for label in expected_labels if label not in labels]
    extra = [label for label in labels if label not in expected_labels]
    if missing:
        problems.append(f"{table}: row(s) {_named(missing)} missing from the SQL model's table")
    if extra:
        problems.append(f"{table}: row(s) {_named(extra)} in the SQL model's table only")
    common = [label for label in labels if label in set(expected_labels)]
    if not missing and not extra and list(labels) != list(expected_labels):
        position = next(i for i, (a, b) in enumerate(zip(labels, expected_labels)) if a != b)
        problems.append(
            f"{table}: row order: row {position + 1} is {labels[position]!r} in the SQL model's "
            f"table, {expected_labels[position]!r} in the second computation"
        )
    built_rows = dict(zip(labels, built.iter_rows(named=True)))
    expected_rows = dict(zip(expected_labels, expected.iter_rows(named=True)))
    cells = []
    for label in common:
        for column in built.columns:
            a, b = built_rows[label][column], expected_rows[label][column]
            if a != b:
                cells.append(
                    f"{table}: row {label!r}, column {column}: SQL model {_shown(a)}, second computation {_shown(b)}"
                )
    if len(cells) > MAX_LISTED:
        cells = cells[:MAX_LISTED] + [f"{table}: and {len(cells) - MAX_LISTED} more differing cells"]
    return problems + cells


def compare(table: str, built: pl.DataFrame, raw: RawYear) -> list[str]:
    """The SQL model's table against the table's second computation."""
    described = spec(table)
    if described.second_computation is None:
        return [f"{table}: the spec has no second computation (pipelines/tables/{table}.py)"]
    expected = described.second_computation(raw)
    return differences(table, built, expected, described.row_labels(built), described.row_labels(expected))
