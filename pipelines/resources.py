"""Dagster resources: the folders of a run and the embedded DuckDB warehouse.

The warehouse is one DuckDB file per year (``warehouse/<year>.duckdb``). DuckDB allows one
writer per file, so a file per partition lets several years materialize at once without lock
errors (dagster issues 16248 and 18746); ``dagster_duckdb.DuckDBResource`` holds a single fixed
database path, which is why this resource exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.config import SQL_DIR


class ProjectFolders(dg.ConfigurableResource):
    """Where raw exports are read from and releases written to."""

    raw_dir: str
    published_dir: str

    def raw_year_dir(self, year: int) -> Path:
        return Path(self.raw_dir).resolve() / str(year)

    def published_root(self) -> Path:
        return Path(self.published_dir).resolve()


class Warehouse(dg.ConfigurableResource):
    """The embedded DuckDB warehouse, one database file per year."""

    directory: str
    threads: int | None = None

    def path(self, year: int) -> Path:
        return Path(self.directory).resolve() / f"{year}.duckdb"

    @contextmanager
    def connect(self, year: int) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the year's database with the project's SQL macros and ``report_year()`` defined."""
        path = self.path(year)
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {"threads": self.threads} if self.threads else {}
        con = duckdb.connect(str(path), config=config)
        try:
            con.sql(f"CREATE OR REPLACE TEMP MACRO report_year() AS {int(year)}")
            con.sql((SQL_DIR / "macros.sql").read_text(encoding="utf-8"))
            yield con
        finally:
            con.close()
