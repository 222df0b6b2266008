"""What changed between two releases of a year, cell by cell (``impact diff``).

Figures get revised (late case closures, corrected exports), so a year may be published several
times; this compares the published tables of two release folders. A row is identified by its
key: the text columns that follow ``year`` up to the first other column (``missing_state``;
``metric_id`` and ``period`` for ``headline_metrics``). A cell is a (table, row, column) with its
value in each release; a row, column or table present in one release only counts each of its
cells, the missing side printed as ``absent``. Tables are read from the Parquet files, so values
compare with their types (a count 5 and a percent 5.00 are different cells only if they differ).

:func:`diff_public` compares the public-use tables (``public/``) the same way; a suppressed cell
shows as ``suppressed (C)`` or ``suppressed (D)`` (its status from the list of suppressed
cells), so a cell whose status changed is listed too:
``public/missing_children_by_state, Texas, resolved: 10 -> suppressed (D)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ABSENT = "absent"
PUBLIC = "public"
SUPPRESSED_CELLS = "suppressed_cells"


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


def read_rows(path: Path, hidden: dict[tuple[str, str], str] | None = None) -> tuple[list[str], dict[str, dict]]:
    """The value columns of a published table and its rows by key, in published order, values as
    text. ``hidden``: (row label, column) -> status of the table's suppressed cells."""
    table = pq.read_table(path)
    keys = key_columns(table.schema)
    columns = [c for c in table.schema.names if c != "year" and c not in keys]
    rows: dict[str, dict] = {}
    for row in table.to_pylist():
        label = " / ".join(_text(row[k]) for k in keys) or "(the row)"
        if label in rows:
            raise ValueError(f"{path.name}: two rows have the key {label!r}; cannot compare rows")
        own = "/".join(_text(row[k]) for k in keys)
        rows[label] = {
            c: f"suppressed ({hidden[(own, c)]})" if hidden and (own, c) in hidden else _text(row[c]) for c in columns
        }
    return columns, rows


def _tables(folder: Path | None) -> dict[str, Path]:
    if folder is None or not Path(folder).is_dir():
        return {}
    return {path.stem: path for path in sorted(Path(folder).glob("*.parquet"))}


def _hidden(folder: Path | None) -> dict[str, dict[tuple[str, str], str]]:
    """The suppressed cells of a ``public/`` folder: table -> {(row label, column): status}."""
    path = Path(folder) / f"{SUPPRESSED_CELLS}.parquet" if folder is not None else None
    if path is None or not path.is_file():
        return {}
    found: dict[str, dict[tuple[str, str], str]] = {}
    columns = ["table_name", "row_label", "column_name", "conf_status"]
    for table, row, column, status in zip(*pq.read_table(path, columns=columns).to_pydict().values()):
        found.setdefault(table, {})[(row, column)] = status
    return found


def _diff(old: Path | None, new: Path | None, prefix: str = "", public: bool = False) -> list[CellChange]:
    old_tables, new_tables = _tables(old), _tables(new)
    old_hidden, new_hidden = (_hidden(old), _hidden(new)) if public else ({}, {})
    changes = []
    for table in sorted((old_tables.keys() | new_tables.keys()) - ({SUPPRESSED_CELLS} if public else set())):
        old_columns, old_rows = read_rows(old_tables[table], old_hidden.get(table)) if table in old_tables else ([], {})
        new_columns, new_rows = read_rows(new_tables[table], new_hidden.get(table)) if table in new_tables else ([], {})
        columns = new_columns + [c for c in old_columns if c not in new_columns]
        labels = list(new_rows) + [label for label in old_rows if label not in new_rows]
        for label in labels:
            before, after = old_rows.get(label), new_rows.get(label)
            for column in columns:
                old_value = before[column] if before is not None and column in before else ABSENT
                new_value = after[column] if after is not None and column in after else ABSENT
                if old_value != new_value:
                    changes.append(CellChange(prefix + table, label, column, old_value, new_value))
    return changes


def diff_releases(old: Path | None, new: Path | None) -> list[CellChange]:
    """Every cell that differs between the published tables of two release folders, in table
    name order, then the new release's row order (rows only in the old one after), then column
    order. ``None`` stands for no release: every cell of the other counts."""
    return _diff(old, new)


def diff_public(old: Path | None, new: Path | None) -> list[CellChange]:
    """Every cell of the public-use tables (``public/``) of two release folders whose value or
    status changed, in the same order, tables named ``public/<table>``. A release without
    ``public/`` counts as one without tables."""
    return _diff(
        Path(old) / PUBLIC if old is not None else None,
        Path(new) / PUBLIC if new is not None else None,
        prefix=f"{PUBLIC}/",
        public=True,
    )


def changes_per_table(changes: list[CellChange]) -> dict[str, int]:
    """How many cells changed in each table (tables in name order, only those with a change)."""
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.table] = counts.get(change.table, 0) + 1
    return dict(sorted(counts.items()))
