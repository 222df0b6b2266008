"""Dagster resources: the folders of a run and the embedded DuckDB warehouse.

The warehouse is one DuckDB file per year (``warehouse/<year>.duckdb``). DuckDB allows one
writer per file, so a file per partition lets several years materialize at once without lock
errors (dagster issues 16248 and 18746); ``dagster_duckdb.DuckDBResource`` holds a single fixed
database path, which is why this resource exists.

Opening a DuckDB database costs about 15 ms (the instance, not the file), and a year's run has
some forty steps. Within one Dagster run the resource therefore opens each year's database once,
at its first use, and gives every step its own connection to it (``cursor()``: a fresh session
with its own temporary objects, cheap); the database is closed when the run ends, failed or not
(``teardown_after_execution``), so nothing stays open across runs and another process can open
the file as soon as the run is over. Outside a run (tests, scripts) ``connect`` opens and closes
the file itself.

Both resources hold the year's lock (``pipelines/core/preflight.py``) for the whole run, each on the
folder it writes: whoever starts the run (CLI, UI, schedule, sensor), a second run of the same
year waits before opening the database or writing a file, with one warning naming the holder,
and starts when the first has ended (``impact run`` itself takes the locks first and exits at
once when the year is busy). A folder that cannot be written is reported before any step works.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from pipelines.core.config import (
    Folders,
    acknowledged_changes,
    duckdb_memory_limit,
    duckdb_spill_dir,
    duckdb_threads,
    min_public_count,
    previous_year_band,
)
from pipelines.core.modes import exposed
from pipelines.core.preflight import (
    YearBusy,
    published_lock_file,
    require_writable,
    waiting_year_lock,
    warehouse_lock_file,
)
from pipelines.tables import define_macros

PARTITION_TAG = "dagster/partition"
"""The system tag Dagster puts on a run of one partition (resources have no partition_key)."""


def in_a_run(context: dg.InitResourceContext) -> bool:
    """Whether the resource is set up for a run, not for a sensor's or a schedule's tick, which
    only reads the folders: no lock is taken and nothing written for a tick."""
    return context.run is not None


def partition_year(context: dg.InitResourceContext) -> int | None:
    """The year (partition) of the run a resource is set up for; None outside a partitioned run."""
    run = context.run
    key = run.tags.get(PARTITION_TAG) if run is not None else None
    return int(key) if key else None


def warn_if_exposed(context: dg.InitResourceContext, folder: Path, what: str) -> None:
    """One warning in the run's log when other users can read ``folder`` (pipelines/core/modes.py)."""
    line = exposed(folder, what)
    if line is not None:
        context.log.warning(line)


def hold_year_lock(
    context: dg.InitResourceContext, folder: Path, what: str, lock_file, published: bool = False
) -> ExitStack:
    """Check that ``folder`` can be written (``published``: the release folder, created with
    the modes of published folders) and take the run's year lock in it."""
    stack = ExitStack()
    require_writable([(folder, what)], published=folder if published else None)
    if not published:
        warn_if_exposed(context, folder, what)
    year = partition_year(context)
    if year is not None:

        def waiting(busy: YearBusy) -> None:
            context.log.warning(
                f"year {year} is being published by {busy.holder} (lock {busy.path}); this run waits for it to end"
            )

        stack.enter_context(waiting_year_lock(year, [lock_file(folder, year)], waiting))
    return stack


class ProjectFolders(dg.ConfigurableResource):
    """Where raw exports are read from and releases written to. Unset, ``IMPACT_RAW_DIR`` and
    ``IMPACT_PUBLISHED_DIR`` when the run starts, else ``raw/`` and ``published/``
    (pipelines/core/config.py); ``impact run`` sets them from its flags in the run's config."""

    raw_dir: str | None = None
    published_dir: str | None = None

    _lock: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not in_a_run(context):
            return
        self._lock = hold_year_lock(
            context, self.published_root(), "release folder", published_lock_file, published=True
        )
        year = partition_year(context)
        if year is not None:
            warn_if_exposed(context, self.raw_year_dir(year), "raw folder")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.close()

    def raw_root(self) -> Path:
        return Path(Folders.from_environment(raw_dir=self.raw_dir).raw_dir).resolve()

    def raw_year_dir(self, year: int) -> Path:
        return self.raw_root() / str(year)

    def published_root(self) -> Path:
        return Path(Folders.from_environment(published_dir=self.published_dir).published_dir).resolve()


def run_folders(folders: ProjectFolders, warehouse: Warehouse) -> Folders:
    """The three folders the resources stand for, resolved now (a sensor's or a schedule's tick)."""
    return Folders(str(folders.raw_root()), str(folders.published_root()), str(warehouse.root()))


class Warehouse(dg.ConfigurableResource):
    """The embedded DuckDB warehouse, one database file per year.

    Each year's database works within ``memory_limit`` and spills what does not fit to
    ``spill_dir/<year>`` (pipelines/core/config.py): memory stays bounded whatever the size of the
    exports, and years running at once in separate processes never share a spill folder. A field
    left unset is the environment's when the run starts (``IMPACT_WAREHOUSE_DIR``,
    ``IMPACT_DUCKDB_THREADS``, ``IMPACT_DUCKDB_MEMORY_LIMIT``, ``IMPACT_DUCKDB_SPILL_DIR``), else
    the default (``warehouse/``, every core, 512MiB, ``<warehouse>/spill``).
    """

    directory: str | None = None
    threads: int | None = None
    memory_limit: str | None = None
    spill_dir: str | None = None

    _databases: dict[int, duckdb.DuckDBPyConnection] | None = PrivateAttr(default=None)
    _lock: threading.Lock | None = PrivateAttr(default=None)
    _year_lock: ExitStack | None = PrivateAttr(default=None)

    def root(self) -> Path:
        return Path(Folders.from_environment(warehouse_dir=self.directory).warehouse_dir).resolve()

    def path(self, year: int) -> Path:
        return self.root() / f"{year}.duckdb"

    def spill_path(self, year: int) -> Path:
        return Path(self.spill_dir or duckdb_spill_dir(str(self.root()))).resolve() / str(year)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Dagster calls this on the run's own copy of the resource: the databases opened from
        # now on belong to this run.
        if not in_a_run(context):
            return
        self._year_lock = hold_year_lock(context, self.root(), "warehouse folder", warehouse_lock_file)
        self._databases = {}
        self._lock = threading.Lock()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self.close()
        if self._year_lock is not None:
            self._year_lock.close()

    def close(self) -> None:
        """Close every database this run opened (idempotent); later connections open their own."""
        if self._databases is None or self._lock is None:
            return
        with self._lock:
            databases, self._databases = list(self._databases.values()), None
        for database in databases:
            database.close()

    def _open(self, year: int) -> duckdb.DuckDBPyConnection:
        """Open the year's database and (re)define its macros: the project's (sql/macros.sql), the
        labels the SQL models take from the table specs (``total_label``, ``no_country_label``) and
        ``report_year()``, the year of this database. They are stored in the database, so every
        cursor of the run sees them without defining them again."""
        path = self.path(year)
        path.parent.mkdir(parents=True, exist_ok=True)
        # DuckDB creates the year's spill folder when it first spills (and removes it on close),
        # but not the folders above it.
        self.spill_path(year).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | int] = {
            "memory_limit": self.memory_limit or duckdb_memory_limit(),
            "temp_directory": str(self.spill_path(year)),
        }
        threads = self.threads or duckdb_threads()
        if threads:
            config["threads"] = threads
        database = duckdb.connect(str(path), config=config)
        define_macros(database, year)
        return database

    @contextmanager
    def connect(self, year: int) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the year's database with the project's SQL macros and
        ``report_year()`` defined; closed on exit (the database itself stays open until the run
        ends when the resource belongs to a run)."""
        if self._databases is None or self._lock is None:
            con = self._open(year)
        else:
            with self._lock:
                database = self._databases.get(year)
                if database is None:
                    database = self._databases[year] = self._open(year)
                con = database.cursor()
        try:
            yield con
        finally:
            con.close()


class YearOverYear(dg.ConfigurableResource):
    """The band around last year's release within which every figure must stay, and the figures
    the operator acknowledged for this run (``impact run --acknowledge-change``). Unset, the
    band is ``IMPACT_PREVIOUS_YEAR_BAND`` when the run starts, else 0.5; the figures of
    ``IMPACT_ACKNOWLEDGED_CHANGES`` are acknowledged besides those of the run's config."""

    band: float | None = None
    acknowledged: list[str] | None = None

    def band_fraction(self) -> float:
        return self.band if self.band is not None else previous_year_band()

    def acknowledged_figures(self) -> frozenset[str]:
        return frozenset({*acknowledged_changes(), *(name.strip() for name in self.acknowledged or () if name.strip())})


class Disclosure(dg.ConfigurableResource):
    """K of the public copy: counts of children from 1 to K-1 are suppressed. Unset,
    ``IMPACT_MIN_PUBLIC_COUNT`` when the run starts, else 10; the manifest records it."""

    min_public_count: int | None = None

    def k(self) -> int:
        return self.min_public_count or min_public_count()
