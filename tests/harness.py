"""Building a year's tables and release straight from the SQL models and the publishing code,
without Dagster.

For tests of the SQL models and of the release's files, and for property tests that run hundreds
of examples: the same ingest, seeds and SQL files as the Dagster assets, in dependency order, on
one connection; then, for a release, the same public-use tables and release writer as the
``public_use_tables`` and ``release`` assets. The checks of the Dagster job are not run here
(tests/e2e/ runs the job itself).
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from pipelines.accepting.ingest import demo_exports, ingest
from pipelines.core.config import MIN_PUBLIC_COUNT
from pipelines.core.contract import RAW_EXPORTS
from pipelines.core.seeds import load_seeds
from pipelines.core.sql_models import models
from pipelines.public_copy.tables import earlier_releases, manifest_public, public_copy
from pipelines.publishing.history import history
from pipelines.publishing.release import Publication, export_table, write_release
from pipelines.tables import define_macros, specs

PUBLISHED_TABLES = [m.name for m in models("published")]


def build_tables(con: duckdb.DuckDBPyConnection, raw_year_dir: Path, previous_release: Path | None = None) -> None:
    """Every staging and published table of the year (the folder's name); last year's release
    when given."""
    define_macros(con, int(raw_year_dir.name))
    for export in RAW_EXPORTS:
        ingest(con, export, raw_year_dir)
    load_seeds(con)
    by_name = {m.name: m for layer in ("staging", "published") for m in models(layer)}
    graph = {name: [d for d in m.depends_on if d in by_name] for name, m in by_name.items()}
    for name in TopologicalSorter(graph).static_order():
        model = by_name[name]
        if model.previous_year is not None:
            columns = specs()[model.previous_year.table].duckdb_columns()
            model.previous_year.create_view(con, previous_release or raw_year_dir / "no-release", columns)
        model.materialize(con)


def export_tables(raw_year_dir: Path, folder: Path) -> Path:
    """Every published table of the year as the release writes it (Parquet and CSV), in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        build_tables(con, raw_year_dir)
        for table in PUBLISHED_TABLES:
            export_table(con, table, folder)
    return folder


def build_year(
    con: duckdb.DuckDBPyConnection, raw_dir: Path, published_root: Path, year: int, withheld: bool = False
) -> tuple[dict, list[str]]:
    """Every table the ``release`` asset reads, on ``con``: the year's tables (last year's
    release read when there is one) and its public-use tables, protected together with the
    year's earlier public releases under ``published_root`` and audited; returns what the
    release writer takes besides: the disclosure audit's figures (the manifest's ``public``)
    and the demo exports of the year. ``withheld``: the test expects the public copy may be
    withheld (otherwise a withheld copy fails the test)."""
    previous = published_root / str(year - 1)
    year_dir = raw_dir / str(year)
    earlier = earlier_releases(reversed(history(published_root, year)))
    build_tables(con, year_dir, previous if previous.is_dir() else None)
    copy = public_copy(con, year, MIN_PUBLIC_COUNT, earlier)
    assert copy.published or withheld, (copy.reason, copy.detail)
    return manifest_public(copy, MIN_PUBLIC_COUNT), demo_exports(con, year_dir)


def publish_year(raw_dir: Path, published_root: Path, year: int, withheld: bool = False) -> Publication:
    """The year's release under ``published_root`` as the ``public_use_tables`` and ``release``
    assets write it (tables, ``public/`` protected together with the year's earlier public
    releases, data package, report, manifest, index page), last year's release read when there
    is one; returns what it did (``link``: ``<published_root>/<year>``, ``release``, ``outcome``).
    The manifest lists no checks: none ran. ``withheld``: as for :func:`build_year`."""
    with duckdb.connect() as con:
        public, synthetic = build_year(con, raw_dir, published_root, year, withheld)
        return write_release(con, PUBLISHED_TABLES, published_root, year, [], public, synthetic)
