"""The SQL models in ``sql/<layer>/``: one file per table, one SELECT per file.

What a model reads is read from its SQL, never declared beside it: DuckDB's own parser
(``json_serialize_sql``, no query run) lists the tables the SELECT reads, and each becomes a
dependency of the model's asset — a model, a raw export (``raw_<export>``, or a table its ingest
writes, ``raw_<export>_<part>``) or ``seeds`` (the catalog tables ``seed_*``). A table that is
none of these is an error naming the file, so a typo cannot silently read a stale table of the
persistent warehouse.

A model that compares with the year before reads last year's published rows of ``<table>`` as
``previous_year_<table>``: the asset then depends on the previous partition of ``<table>`` (a
Dagster partition mapping), and the table holds that release's rows with the table's columns
(its spec, pipelines/tables/), empty when last year has no release.

A staging model's leading comment lines describe it (shown in the Dagster UI); a published
table is described by its spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import duckdb

from pipelines.core.config import SQL_DIR
from pipelines.core.contract import RAW_EXPORTS

LAYERS = ("staging", "published")
SEEDS = "seeds"
"""The asset that writes every catalog table (``seed_*``)."""
PREVIOUS_YEAR_PREFIX = "previous_year_"

ORDER_COLUMN = "sort_order"
"""The last column of every published model: the row's published position (not published itself)."""

MACROS_SQL = (SQL_DIR / "macros.sql").read_text(encoding="utf-8")
"""The project's SQL macros (sql/macros.sql), read once per process."""


def tables_read(sql: str) -> set[str]:
    """The base tables a SELECT reads, common table expressions excluded, from DuckDB's parse
    tree of it (``json_serialize_sql``: parsed, not bound, so the tables need not exist)."""
    tree = json.loads(duckdb.sql("SELECT json_serialize_sql(?)", params=[sql]).fetchall()[0][0])
    if tree["error"]:
        raise ValueError(f"not one SELECT DuckDB can parse: {tree.get('error_message', tree)}")
    tables: set[str] = set()
    ctes: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and "table_name" in node:
                tables.add(node["table_name"])
            cte_map = node.get("cte_map")
            if isinstance(cte_map, dict):
                ctes.update(entry["key"] for entry in cte_map.get("map", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return tables - ctes


def asset_of(table: str, model_names: set[str]) -> str | None:
    """The asset that writes a warehouse table: a model; ``seeds`` for a ``seed_*`` table; a raw
    export's asset for its table and the tables its ingest writes beside it
    (``raw_cybertipline_reports_groups``). None for any other name."""
    if table in model_names:
        return table
    if table.startswith("seed_"):
        return SEEDS
    for export in RAW_EXPORTS:
        if table == export.table or table.startswith(export.table + "_"):
            return export.table
    return None


@dataclass(frozen=True)
class PreviousYearInput:
    """Last year's published rows of ``table`` that a model reads, as ``previous_year_<table>``."""

    table: str

    @property
    def view(self) -> str:
        return f"{PREVIOUS_YEAR_PREFIX}{self.table}"

    def create_view(
        self, con: duckdb.DuckDBPyConnection, release: Path | None, columns: tuple[tuple[str, str], ...]
    ) -> bool:
        """``previous_year_<table>`` with ``columns`` ((name, DuckDB type), the table's spec) over
        last year's release (None: there is none); returns whether one exists."""
        parquet = release / f"{self.table}.parquet" if release is not None else None
        if parquet is not None and parquet.is_file():
            select = ", ".join(f"{name}::{kind} AS {name}" for name, kind in columns)
            path = str(parquet.resolve()).replace("'", "''")
            con.sql(f"CREATE OR REPLACE TABLE {self.view} AS SELECT {select} FROM read_parquet('{path}')")
            return True
        select = ", ".join(f"NULL::{kind} AS {name}" for name, kind in columns)
        con.sql(f"CREATE OR REPLACE TABLE {self.view} AS SELECT {select} LIMIT 0")
        return False


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str
    path: Path
    header: str
    """The file's leading comment lines, joined: a staging model's description."""

    @property
    def select(self) -> str:
        return self.path.read_text(encoding="utf-8").strip().rstrip(";")

    @cached_property
    def reads(self) -> frozenset[str]:
        """Every table the SELECT reads (this year's warehouse and ``previous_year_*``)."""
        return frozenset(tables_read(self.select))

    @property
    def previous_year(self) -> PreviousYearInput | None:
        found = sorted(t.removeprefix(PREVIOUS_YEAR_PREFIX) for t in self.reads if t.startswith(PREVIOUS_YEAR_PREFIX))
        if len(found) > 1:
            raise ValueError(f"{self.path}: reads last year's release of {found}: at most one table")
        return PreviousYearInput(found[0]) if found else None

    @property
    def depends_on(self) -> tuple[str, ...]:
        """The assets of this year that write the tables the SQL reads, in name order."""
        names = {m.name for layer in LAYERS for m in models(layer)}
        found, unknown = set(), []
        for table in self.reads:
            if table.startswith(PREVIOUS_YEAR_PREFIX):
                continue
            asset = asset_of(table, names)
            if asset is None:
                unknown.append(table)
            else:
                found.add(asset)
        if unknown:
            raise ValueError(
                f"{self.path}: reads {', '.join(sorted(unknown))}, which no model, raw export or seed writes"
            )
        return tuple(sorted(found))

    def materialize(self, con: duckdb.DuckDBPyConnection) -> None:
        """(Re)create the model's table in the warehouse from its SELECT."""
        con.sql(f"CREATE OR REPLACE TABLE {self.name} AS\n{self.select}")


def _parse(path: Path, layer: str) -> SqlModel:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        header.append(line.removeprefix("--").strip())
    return SqlModel(name=path.stem, layer=layer, path=path, header=" ".join(header))


@cache
def models(layer: str) -> tuple[SqlModel, ...]:
    """Every model of a layer (``staging`` or ``published``), in file-name order."""
    return tuple(_parse(p, layer) for p in sorted((SQL_DIR / layer).glob("*.sql")))


def upstream(name: str) -> list[str]:
    """Every table a model is built from, directly or through other models, nearest first, each
    once: models, raw export tables (``raw_*``) and ``seeds``."""
    by_name = {m.name: m for layer in LAYERS for m in models(layer)}
    found: list[str] = []
    todo = [name]
    while todo:
        model = by_name.get(todo.pop(0))
        for parent in model.depends_on if model else ():
            if parent not in found:
                found.append(parent)
                todo.append(parent)
    return found
