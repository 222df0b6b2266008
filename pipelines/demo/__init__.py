"""Deterministic demo data: record-level raw exports (raw/README.md) that reproduce a year's figures.

The real exports are confidential, so the product ships a generator of synthetic ones. It reads
the year's *profile* (``pipelines/demo/profiles/<year>.toml``), which holds every target figure
(for 2020 the numbers of the published page, ``tests/reference/2020``), and writes five files
into ``raw_dir/<year>/``:

``cases.csv``
    one row per case, including rows *outside* the year's population (older open cases, cases
    resolved before the year, cases opened after it) and every boundary the population and
    status rules have to get right (recoveries of earlier cases, a child missing on Dec 31 and
    found on Jan 2, ...). The population rebuilt from the rows with the contract's rules reproduces the
    case-type, age-and-race and state tables *jointly*, from one set of rows.
``cybertipline_reports.parquet``
    21.75 million rows for 2020. Generated inside DuckDB with one vectorised ``COPY (SELECT ...
    FROM range(n))``, never materialised in Python: full size takes seconds and little memory.
``cvip_requests.csv``, ``cvip_offender_relationships.csv``, ``program_metrics.csv``
    small files built with numpy's ``default_rng``.

Why a profile file: the pipeline must compute every published figure from the records; if the
figures lived in code, a pipeline bug could be masked by a constant. Keeping them in the demo
generator's own data makes the pipeline's reproduction of ``reference/2020`` a real end-to-end
test.

Determinism: the same (year, scale, seed) give byte-identical files. Everything random comes
from ``numpy.random.default_rng`` seeded with ``[seed, year, stream]`` (one stream per file, so a
file does not change when another file's generation changes) or from integer arithmetic inside
DuckDB, whose Parquet output is in row-index order (see cybertipline_reports.write). The seed
changes *which* rows carry which attribute, never the marginals, which are fixed by the profile.

One module per export (``cases``, ``cybertipline_reports``, ``cvip_requests``,
``cvip_offender_relationships``, ``program_metrics``), each with a ``write``; ``profiles`` reads and
checks the profiles; ``common`` holds what they share. Every category code comes from
``sql/seeds/`` (or pycountry for states and countries) as the product reads it, never from a list
of its own: a profile naming a code the seeds lack fails before any file is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.core import contract
from pipelines.core.config import previous_year_band
from pipelines.core.modes import make_folders
from pipelines.demo import (
    cases,
    cvip_offender_relationships,
    cvip_requests,
    cybertipline_reports,
    marker,
    program_metrics,
)
from pipelines.demo.common import atomic_target
from pipelines.demo.cybertipline_reports import cybertipline_plan
from pipelines.demo.neighbours import expected, released, warnings
from pipelines.demo.profiles import available_years, load_profile

__all__ = ["available_years", "cybertipline_plan", "load_profile", "write_demo_exports"]


def _program_metrics(
    profile: dict, year: int, scale: float, published_root: Path | None, warn: Callable[[str], None] | None
) -> list[tuple]:
    """The rows of program_metrics.csv. ``published_root`` is the release folder the exports
    will be published into: their prior-year and cumulative figures then follow last year's
    release there, and ``warn`` gets, before any file is written, one line per published
    neighbour (last year's release, next year's) beside which the exports will not publish,
    and why (``neighbours.warnings``: e.g. a CyberTipline export outside the band around last
    year's)."""
    previous = released(published_root, year - 1)
    rows = program_metrics.rows(profile, year, scale, previous)
    if warn is not None and published_root is not None:
        this = expected(profile, year, scale, rows)
        for line in warnings(this, scale, previous, released(published_root, year + 1), previous_year_band()):
            warn(line)
    return rows


def write_demo_exports(
    year: int,
    raw_dir: Path,
    scale: float = 1.0,
    seed: int = 2020,
    progress: Callable[[str], None] | None = None,
    realistic: bool | None = None,
    published_root: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the five raw exports of ``year`` into ``raw_dir/<year>/`` and return their paths
    (sorted).

    ``scale`` (> 0) resizes only the CyberTipline export: below 1 it shrinks it for fast tests,
    above 1 it grows it for benchmarks (2.0 = twice the reports). Every category and file total
    is scaled with largest-remainder rounding so its tables stay consistent; the other files are
    always full size (they are small and hold the exact published tables). The CyberTipline
    figures kept in other systems (last year's reports, the cumulative count) follow it
    (``program_metrics.rows``).

    ``realistic`` writes the CyberTipline export as a real one looks (see
    ``cybertipline_reports._cybertipline_query``): report ids unique but neither consecutive nor
    sorted, received times random within the year. That file is about ten times larger than the
    tidy one (ids and times that compress to nothing) and slower to read, which is what a
    benchmark must see. ``None``: realistic above full size (``scale > 1``), tidy otherwise. Both
    give the same tables.
    ``progress`` is called once after each file is in place, with a short message.

    ``published_root``, ``warn``: see ``_program_metrics``. The same arguments and releases give
    the same bytes.

    Each file is written to a temporary name in the target folder, then moved into place with
    ``os.replace``: a killed run never leaves a half-written export behind. Like a real export
    job, it removes the year's ``_SUCCESS`` marker first and writes it after the last file
    (raw/README.md, "When a year is complete"), so the raw-folder sensor waits for the whole year.
    """
    if not (isinstance(scale, (int, float)) and float(scale) > 0.0):
        raise ValueError(f"scale must be greater than 0, got {scale!r}")
    year = int(year)
    profile = load_profile(year)
    metric_rows = _program_metrics(profile, year, float(scale), published_root, warn)
    out_dir = Path(raw_dir) / str(year)
    make_folders(out_dir)  # the owner's alone, like the exports (pipelines/core/modes.py)
    report = progress or (lambda _message: None)
    if realistic is None:
        realistic = float(scale) > 1.0

    steps: list[tuple[str, Callable[[Path], None]]] = [
        (contract.PROGRAM_METRICS.file_name, lambda p: program_metrics.write(p, metric_rows)),
        (contract.CVIP_REQUESTS.file_name, lambda p: cvip_requests.write(profile, year, seed, p)),
        (
            contract.CVIP_OFFENDER_RELATIONSHIPS.file_name,
            lambda p: cvip_offender_relationships.write(profile, year, seed, p),
        ),
        (contract.CASES.file_name, lambda p: cases.write(profile, year, seed, p)),
        (
            contract.CYBERTIPLINE_REPORTS.file_name,
            lambda p: cybertipline_reports.write(profile, year, float(scale), seed, p, realistic),
        ),
    ]
    written = []
    (out_dir / contract.COMPLETE_MARKER).unlink(missing_ok=True)
    for name, writer in steps:
        target = out_dir / name
        with atomic_target(target) as temporary:
            writer(temporary)
        written.append(target)
        report(f"{year}/{name}")
    marker.write(out_dir, written)  # what makes a release from these files say it is synthetic
    (out_dir / contract.COMPLETE_MARKER).touch(mode=0o600)
    return sorted(written)
