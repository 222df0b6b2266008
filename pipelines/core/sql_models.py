"""The SQL models in ``sql/<layer>/``: one file per table, one SELECT per file.

A model file starts with comment lines that describe the table (shown in the Dagster UI) and a
``-- depends_on: a, b`` line naming the tables it reads, so the asset graph is declared next to
the SQL it describes. ``seeds`` stands for the catalog tables (``seed_*``).

A model that compares with the year before declares it with
``-- previous_year: <table>(<column> <type>, ...)``: the asset then depends on the previous
partition of ``<table>`` (a Dagster partition mapping) and the SQL reads last year's published
rows as ``previous_year_<table>`` with those columns, empty when last year has no release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines.core.config import SQL_DIR

DEPENDS_ON = re.compile(r"^--\s*depends_on:\s*(?P<names>.+)$")
PREVIOUS_YEAR = re.compile(r"^--\s*previous_year:\s*(?P<table>\w+)\((?P<columns>.+)\)\s*$")


ORDER_COLUMN = "sort_order"
"""The last column of every published model: the row's published position (not published itself)."""

MACROS_SQL = (SQL_DIR / "macros.sql").read_text(encoding="utf-8")
"""The project's SQL macros (sql/macros.sql), read once per process."""


@dataclass(frozen=True)
class PreviousYearInput:
    """Last year's published rows of ``table`` that a model reads, with the columns it needs."""

    table: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)

    @property
    def view(self) -> str:
        return f"previous_year_{self.table}"

    def create_view(self, con: duckdb.DuckDBPyConnection, release: Path | None) -> bool:
        """``previous_year_<table>`` over last year's release (None: there is none); returns
        whether one exists."""
        parquet = release / f"{self.table}.parquet" if release is not None else None
        if parquet is not None and parquet.is_file():
            select = ", ".join(f"{name}::{kind} AS {name}" for name, kind in self.columns)
            path = str(parquet.resolve()).replace("'", "''")
            con.sql(f"CREATE OR REPLACE TABLE {self.view} AS SELECT {select} FROM read_parquet('{path}')")
            return True
        select = ", ".join(f"NULL::{kind} AS {name}" for name, kind in self.columns)
        con.sql(f"CREATE OR REPLACE TABLE {self.view} AS SELECT {select} LIMIT 0")
        return False


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str
    path: Path
    description: str
    depends_on: tuple[str, ...]
    previous_year: PreviousYearInput | None = None

    @property
    def select(self) -> str:
        return self.path.read_text(encoding="utf-8").strip().rstrip(";")

    def materialize(self, con: duckdb.DuckDBPyConnection) -> None:
        """(Re)create the model's table in the warehouse from its SELECT."""
        con.sql(f"CREATE OR REPLACE TABLE {self.name} AS\n{self.select}")


def _parse(path: Path, layer: str) -> SqlModel:
    description: list[str] = []
    depends_on: tuple[str, ...] = ()
    previous_year = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        match = DEPENDS_ON.match(line)
        previous = PREVIOUS_YEAR.match(line)
        if match:
            depends_on = tuple(n.strip() for n in match["names"].split(",") if n.strip())
        elif previous:
            columns = tuple(tuple(column.split()) for column in previous["columns"].split(","))
            previous_year = PreviousYearInput(previous["table"], columns)
        else:
            description.append(line.removeprefix("--").strip())
    if not depends_on:
        raise ValueError(f"{path}: the header has no '-- depends_on:' line")
    return SqlModel(
        name=path.stem,
        layer=layer,
        path=path,
        description=" ".join(description),
        depends_on=depends_on,
        previous_year=previous_year,
    )


@cache
def models(layer: str) -> tuple[SqlModel, ...]:
    """Every model of a layer (``staging`` or ``published``), in file-name order."""
    return tuple(_parse(p, layer) for p in sorted((SQL_DIR / layer).glob("*.sql")))


def upstream(name: str) -> list[str]:
    """Every table a model is built from, directly or through other models, nearest first, each
    once: models, raw export tables (``raw_*``) and ``seeds``."""
    by_name = {m.name: m for layer in ("staging", "published") for m in models(layer)}
    found: list[str] = []
    todo = [name]
    while todo:
        model = by_name.get(todo.pop(0))
        for parent in model.depends_on if model else ():
            if parent not in found:
                found.append(parent)
                todo.append(parent)
    return found
