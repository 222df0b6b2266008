"""The SQL models in ``sql/<layer>/``: one file per table, one SELECT per file.

A model file starts with comment lines that describe the table (shown in the Dagster UI) and a
``-- depends_on: a, b`` line naming the tables it reads, so the asset graph is declared next to
the SQL it describes. ``seeds`` stands for the catalog tables (``seed_*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines.config import SQL_DIR

DEPENDS_ON = re.compile(r"^--\s*depends_on:\s*(?P<names>.+)$")


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str
    path: Path
    description: str
    depends_on: tuple[str, ...]

    @property
    def select(self) -> str:
        return self.path.read_text(encoding="utf-8").strip().rstrip(";")

    def materialize(self, con: duckdb.DuckDBPyConnection) -> None:
        """(Re)create the model's table in the warehouse from its SELECT."""
        con.sql(f"CREATE OR REPLACE TABLE {self.name} AS\n{self.select}")


def _parse(path: Path, layer: str) -> SqlModel:
    description: list[str] = []
    depends_on: tuple[str, ...] = ()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        match = DEPENDS_ON.match(line)
        if match:
            depends_on = tuple(n.strip() for n in match["names"].split(",") if n.strip())
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
    )


@cache
def models(layer: str) -> tuple[SqlModel, ...]:
    """Every model of a layer (``staging`` or ``published``), in file-name order."""
    return tuple(_parse(p, layer) for p in sorted((SQL_DIR / layer).glob("*.sql")))
