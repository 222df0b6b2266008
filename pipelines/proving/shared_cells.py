"""The cells two published tables share hold one figure (the specs' ``shares``).

The population is the Total of every missing-children table and a headline figure; the
CyberTipline reports are the Total of every CyberTipline reports table. Each table is computed
on its own (its SQL model and its second computation), so the figure they share is compared on
the exact tables as they would be published: once per declared share, from the table that
declares it.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.tables import spec

RULE = "(rule: a cell the tables share holds one figure)"


def cell_value(frames: Mapping[str, pl.DataFrame], table: str, row: str, column: str) -> tuple[bool, object]:
    """(found, value) of a cell: the row by its label (pipelines/tables ``row_labels``)."""
    frame = frames.get(table)
    if frame is None or column not in frame.columns:
        return False, None
    labels = spec(table).row_labels(frame)
    if labels.count(row) != 1:
        return False, None
    return True, frame[column][labels.index(row)]


def shared_cell_problems(table: str, frames: Mapping[str, pl.DataFrame]) -> list[str]:
    """One line per share of ``table`` whose two cells differ, or whose cell is missing, in
    ``frames`` (each published table by name, in published order, without ``sort_order``)."""
    problems = []
    for share in spec(table).shares:
        this = (table, share.row, share.column)
        other = (share.table, share.other_row, share.other_column)
        (found, a), (other_found, b) = cell_value(frames, *this), cell_value(frames, *other)
        if not (found and other_found):
            missing, present = (this, other) if not found else (other, this)
            problems.append(f"{_name(*missing)}: no such cell, so {_name(*present)} cannot be compared with it {RULE}")
        elif a != b:
            problems.append(f"{_name(*this)} = {_shown(a)}, but {_name(*other)} = {_shown(b)} {RULE}")
    return problems


def _name(table: str, row: str, column: str) -> str:
    return f"{table}[{row}, {column}]"


def _shown(value: object) -> str:
    return "empty" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
