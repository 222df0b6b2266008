"""Every setting of the product in one place: folders, environment variables, the first year.

Defaults are embedded (README.md): raw exports in ``raw/``, releases in ``published/``, the DuckDB
warehouse in ``warehouse/``, all relative to the working folder, so nothing needs a server.
``IMPACT_RAW_DIR``, ``IMPACT_PUBLISHED_DIR`` and ``IMPACT_WAREHOUSE_DIR`` change them for Dagster
runs; the CLI flags win over the variables (README.md).

Nothing here reads the environment when it is imported: each setting is a function, called when a
run starts (the run's resources, pipelines/defs/resources.py, whose run config wins over the
variable) or, for the first year, when the code location loads (pipelines/definitions.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = REPO_ROOT / "sql"
SEEDS_DIR = SQL_DIR / "seeds"

ENV_FIRST_YEAR = "IMPACT_FIRST_YEAR"
DEFAULT_FIRST_YEAR = 2019


def first_year() -> int:
    """First yearly partition (README.md: configurable, 2019 by default): ``IMPACT_FIRST_YEAR``,
    read when the code location loads, since the partitions are part of its definitions."""
    return int(os.environ.get(ENV_FIRST_YEAR) or DEFAULT_FIRST_YEAR)


ENV_MIN_PUBLIC_COUNT = "IMPACT_MIN_PUBLIC_COUNT"
MIN_PUBLIC_COUNT = 10
"""K of the public-use tables unless a run says otherwise: in a table that counts children, a
count from 1 to K-1 is suppressed, with complementary cells so that it cannot be derived
(pipelines/public_copy/suppression.py). Zero is published. The manifest records the K of a release."""


def min_public_count() -> int:
    """K for a run that does not set it (``IMPACT_MIN_PUBLIC_COUNT``, default 10)."""
    return int(os.environ.get(ENV_MIN_PUBLIC_COUNT) or MIN_PUBLIC_COUNT)


HIGHS_MILP_OPTIONS = {"presolve": True, "mip_rel_gap": 0.0, "disp": False}
"""Fixed HiGHS settings of every MILP of disclosure control, the suppression's and the audit's:
no time limit (a time limit would make the result depend on the machine), proven optimum."""

LP_TOLERANCE = 1e-6
"""Two LP optima closer than this are one value: an interval that narrow pins its cell."""

ENV_RAW_DIR = "IMPACT_RAW_DIR"
ENV_PUBLISHED_DIR = "IMPACT_PUBLISHED_DIR"
ENV_WAREHOUSE_DIR = "IMPACT_WAREHOUSE_DIR"
ENV_DUCKDB_THREADS = "IMPACT_DUCKDB_THREADS"
ENV_DUCKDB_MEMORY_LIMIT = "IMPACT_DUCKDB_MEMORY_LIMIT"
ENV_DUCKDB_SPILL_DIR = "IMPACT_DUCKDB_SPILL_DIR"
ENV_LOG_LEVEL = "IMPACT_LOG_LEVEL"

PROJECT_DAGSTER_HOME = ".dagster"
"""The Dagster instance's folder under the working folder when ``DAGSTER_HOME`` is not set:
``impact run`` and ``dagster dev`` started there share it (dagster.yaml, README.md)."""
ENV_PUBLISHED_UMASK = "IMPACT_PUBLISHED_UMASK"
"""The umask (octal) whose modes published files and folders get; the product's first process
sets it to the umask it started with, before working owner-only (pipelines/core/modes.py)."""
ENV_PREVIOUS_YEAR_BAND = "IMPACT_PREVIOUS_YEAR_BAND"
ENV_ACKNOWLEDGED_CHANGES = "IMPACT_ACKNOWLEDGED_CHANGES"


def previous_year_band() -> float:
    """How far a figure may move from last year's release before the run fails
    (``IMPACT_PREVIOUS_YEAR_BAND``, a fraction of last year's value; default 0.5, i.e. ±50%)."""
    return float(os.environ.get(ENV_PREVIOUS_YEAR_BAND, "0.5"))


def acknowledged_changes() -> tuple[str, ...]:
    """Figures the operator has confirmed may move outside the band this run
    (``IMPACT_ACKNOWLEDGED_CHANGES``, comma-separated, e.g. ``cases.csv,cybertipline_reports/year``;
    ``impact run --acknowledge-change`` sets it). Each use is recorded in the release manifest."""
    value = os.environ.get(ENV_ACKNOWLEDGED_CHANGES, "")
    return tuple(sorted({name.strip() for name in value.split(",") if name.strip()}))


def log_level() -> str:
    """Console log level of Dagster's log in runs started by ``impact run --verbose``
    (``IMPACT_LOG_LEVEL``, default INFO: each step's own messages; DEBUG adds every Dagster
    event, e.g. step durations for the benchmark)."""
    return os.environ.get(ENV_LOG_LEVEL, "INFO").upper()


def duckdb_threads() -> int | None:
    """DuckDB worker threads (``IMPACT_DUCKDB_THREADS``); DuckDB's default (all cores) if unset.

    Outputs do not depend on it: every file is written in a total order (tests run with 1).
    """
    value = os.environ.get(ENV_DUCKDB_THREADS)
    return int(value) if value else None


DEFAULT_DUCKDB_MEMORY_LIMIT = "512MiB"
"""DuckDB's memory for one year's warehouse unless ``IMPACT_DUCKDB_MEMORY_LIMIT`` says otherwise.

DuckDB's own default is 80% of the machine's RAM, and a uniqueness check over hundreds of
millions of report ids would take it. With 512 MiB and the rest of the process (Python, Dagster,
Great Expectations, pandas, polars and the second computation: about 0.5 GiB), a whole
``impact run`` stayed within 1 GiB of peak RSS at 2020's size (985 MiB; 1.14 GiB with a 1 GiB
limit) and within 2 GiB at ten times that size (1.02 GiB), no slower than with 1 GiB: what does
not fit spills to disk (``duckdb_spill_dir``). benchmarks/README.md has the figures. Outputs do
not depend on it."""


def duckdb_memory_limit() -> str:
    """DuckDB memory limit of a year's warehouse (``IMPACT_DUCKDB_MEMORY_LIMIT``, a DuckDB size
    such as ``1GiB`` or ``512MB``)."""
    return os.environ.get(ENV_DUCKDB_MEMORY_LIMIT) or DEFAULT_DUCKDB_MEMORY_LIMIT


def duckdb_spill_dir(warehouse_dir: str) -> str:
    """Where DuckDB spills what does not fit in its memory limit (``IMPACT_DUCKDB_SPILL_DIR``,
    default ``<warehouse>/spill``); each year spills into its own subfolder, emptied by DuckDB
    when the year's database closes."""
    return os.environ.get(ENV_DUCKDB_SPILL_DIR) or str(Path(warehouse_dir) / "spill")


@dataclass(frozen=True)
class Folders:
    """The three folders a run reads from and writes to."""

    raw_dir: str
    published_dir: str
    warehouse_dir: str

    @classmethod
    def from_environment(
        cls,
        raw_dir: str | None = None,
        published_dir: str | None = None,
        warehouse_dir: str | None = None,
    ) -> Folders:
        """Explicit values (CLI flags) first, then ``IMPACT_*`` variables, then the defaults."""
        return cls(
            raw_dir=raw_dir or os.environ.get(ENV_RAW_DIR) or "raw",
            published_dir=published_dir or os.environ.get(ENV_PUBLISHED_DIR) or "published",
            warehouse_dir=warehouse_dir or os.environ.get(ENV_WAREHOUSE_DIR) or "warehouse",
        )
