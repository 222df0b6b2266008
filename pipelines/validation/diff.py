"""What changed between two releases of a year, cell by cell (``impact diff``).

Figures get revised (late case closures, corrected exports), so a year may be published several
times; this compares the published tables of two release folders. A row is identified by its
key: the text columns that follow ``year`` up to the first other column (``missing_state``;
``metric_id`` and ``period`` for ``headline_metrics``). A cell is a (table, row, column) with its
value in each release; a row, column or table present in one release only counts each of its
cells, the missing side printed as ``absent``. Tables are read from the Parquet files, so values
compare with their types (a count 5 and a percent 5.00 are different cells only if they differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ABSENT = "absent"


@dataclass(frozen=True)
class CellChange:
    table: str
    row: str
    column: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.table}, {self.row}, {self.column}: {self.old} -> {self.new}"


def _text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def key_columns(schema: pa.Schema) -> list[str]:
    """The text columns after ``year`` up to the first other column: the row's identity."""
    keys = []
    for name, kind in zip(schema.names, schema.types):
        if name == "year":
            continue
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            break
        keys.append(name)
    return keys


def read_rows(path: Path) -> tuple[list[str], dict[str, dict]]:
    """The value columns of a published table and its rows by key, in published order."""
    table = pq.read_table(path)
    keys = key_columns(table.schema)
    columns = [c for c in table.schema.names if c != "year" and c not in keys]
    rows: dict[str, dict] = {}
    for row in table.to_pylist():
        label = " / ".join(_text(row[k]) for k in keys) or "(the row)"
        if label in rows:
            raise ValueError(f"{path.name}: two rows have the key {label!r}; cannot compare rows")
        rows[label] = row
    return columns, rows


def _tables(folder: Path | None) -> dict[str, Path]:
    if folder is None:
        return {}
    return {path.stem: path for path in sorted(Path(folder).glob("*.parquet"))}


def diff_releases(old: Path | None, new: Path | None) -> list[CellChange]:
    """Every cell that differs between the published tables of two release folders, in table
    name order, then the new release's row order (rows only in the old one after), then column
    order. ``None`` stands for no release: every cell of the other counts."""
    old_tables, new_tables = _tables(old), _tables(new)
    changes = []
    for table in sorted(old_tables.keys() | new_tables.keys()):
        old_columns, old_rows = read_rows(old_tables[table]) if table in old_tables else ([], {})
        new_columns, new_rows = read_rows(new_tables[table]) if table in new_tables else ([], {})
        columns = new_columns + [c for c in old_columns if c not in new_columns]
        labels = list(new_rows) + [label for label in old_rows if label not in new_rows]
        for label in labels:
            before, after = old_rows.get(label), new_rows.get(label)
            for column in columns:
                old_value = _text(before[column]) if before is not None and column in before else ABSENT
                new_value = _text(after[column]) if after is not None and column in after else ABSENT
                if old_value != new_value:
                    changes.append(CellChange(table, label, column, old_value, new_value))
    return changes


def changes_per_table(changes: list[CellChange]) -> dict[str, int]:
    """How many cells changed in each table (tables in name order, only those with a change)."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.table] = counts.get(change.table, 0) + 1
    return dict(sorted(counts.items()))
