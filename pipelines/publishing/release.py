"""Writing a year's release: the published tables as Parquet and CSV, the manifest, the data
package and the report, swapped in atomically; and reading a year's history of releases.

A release is built in a fresh folder under ``<published>/.releases/`` and only then made visible
by replacing the symbolic link ``<published>/<year>`` in one ``rename`` — atomic on POSIX file
systems. A run that fails or is killed at any moment leaves the previous link, and so the
previous release, untouched; a half-written folder is never reachable from ``<published>/<year>``.

Releases are immutable and content-addressed (``<year>-<first 16 hex digits of the SHA-256 of
its files>``) and none is ever deleted: a reader that resolved ``<published>/<year>`` a moment
before a new publication keeps reading whole files. Each manifest names the release it replaced,
so the releases of a year form a history, newest first from the current one (``impact releases``,
``impact diff``). Publishing what is already current (same tables, manifest and report) changes
nothing. Only partial folders of runs that are no longer alive are removed: a partial folder's
name carries the host, pid and start time of the process writing it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.core.modes import make_folders, publish_modes
from pipelines.core.sql_models import ORDER_COLUMN
from pipelines.public_copy.suppression import LAYOUTS
from pipelines.public_copy.tables import SUPPRESSED_CELLS, public_name, withheld_summary
from pipelines.publishing.datapackage import write_datapackage, write_public_datapackage
from pipelines.publishing.diff import diff_public, diff_releases
from pipelines.publishing.history import PUBLIC, RELEASES, current_release, history, public_copy_of, replaced_release
from pipelines.publishing.index_page import write_index
from pipelines.publishing.manifest import write_manifest
from pipelines.publishing.report import write_report


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def export_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path, name: str | None = None) -> list[Path]:
    """Write one warehouse table as ``<name>.parquet`` and ``<name>.csv`` (``name`` defaults to
    the table's), rows in published order; a NULL is an empty CSV field."""
    query = f"SELECT * EXCLUDE ({ORDER_COLUMN}) FROM {table} ORDER BY {ORDER_COLUMN}"
    parquet = folder / f"{name or table}.parquet"
    csv = folder / f"{name or table}.csv"
    con.sql(f"COPY ({query}) TO '{_sql_path(parquet)}' (FORMAT parquet, COMPRESSION zstd)")
    con.sql(f"COPY ({query}) TO '{_sql_path(csv)}' (FORMAT csv, HEADER true, DELIMITER ',')")
    return [parquet, csv]


def content_digest(folder: Path) -> str:
    """SHA-256 over the names and bytes of every file of a release folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _process_start(pid: int) -> str | None:
    """The start time of a live process (clock ticks after boot), None when there is none: with
    the pid it tells a live writer from a dead one whose pid was reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]


def _owner_marker() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{_process_start(os.getpid())}"


_OWNED = re.compile(r"^\.?(?P<year>\d+)\.(?:partial|link)-(?P<host>.+)-(?P<pid>\d+)-(?P<start>\d+)-")


def _owner_alive(name: str) -> bool:
    """Whether the process that created a partial folder or temporary link still runs; a name
    from another host, or not in this form, is taken as alive (never removed)."""
    match = _OWNED.match(name)
    if match is None or match["host"] != socket.gethostname():
        return True
    return _process_start(int(match["pid"])) == match["start"]


def staging_folder(published_root: Path, year: int) -> Path:
    """A new private folder for a release being written, named after this process."""
    releases = published_root / RELEASES
    make_folders(releases, published=True)
    return Path(tempfile.mkdtemp(prefix=f"{year}.partial-{_owner_marker()}-", dir=releases))


def publish(staged: Path, published_root: Path, year: int) -> Path:
    """Make a fully written staging folder the year's release; returns ``<published>/<year>``.

    On any failure the staging folder, a release folder this call created and its temporary
    link are removed, and the link stays on the previous release: a failed run leaves nothing.
    """
    link = published_root / str(year)
    final = None
    temporary_link = published_root / RELEASES / f".{year}.link-{_owner_marker()}-"
    try:
        for path in staged.rglob("*"):
            if path.is_file():
                with path.open("rb") as handle:
                    os.fsync(handle.fileno())
        # Written owner-only like everything the run writes (mkdtemp, the process's umask): a
        # release is for everyone the user's umask lets read it (pipelines/core/modes.py).
        publish_modes(staged)
        candidate = published_root / RELEASES / f"{year}-{content_digest(staged)[:16]}"
        if candidate.exists():  # the same content as a release kept already: that one
            shutil.rmtree(staged)
        else:
            staged.rename(candidate)
            final = candidate
        current_release(published_root, year)  # refuses a plain folder in the link's place
        temporary_link.unlink(missing_ok=True)
        temporary_link.symlink_to(Path(RELEASES) / candidate.name)
        os.replace(temporary_link, link)
        _fsync_dir(published_root)
    except BaseException:
        temporary_link.unlink(missing_ok=True)
        shutil.rmtree(staged, ignore_errors=True)
        if final is not None and link.resolve() != final:
            shutil.rmtree(final, ignore_errors=True)
        raise
    remove_dead_partials(published_root, year)
    return link


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_dead_partials(published_root: Path, year: int) -> None:
    """Remove the year's partial folders and temporary links left by runs no longer alive."""
    for path in (published_root / RELEASES).glob(f"*{year}.*"):
        owned = _OWNED.match(path.name)
        if owned and int(owned["year"]) == year and not _owner_alive(path.name):
            if path.is_symlink() or not path.is_dir():
                path.unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)


def _cells(changed: int, noun: str = "cell") -> str:
    return f"1 {noun}" if changed == 1 else f"{changed:,} {noun}s"


def revision_note(replaced: Path | None, changed: int, public: Path | None = None) -> str:
    """The report's line on a revised year: how many cells changed since the replaced release;
    ``public``: the public report's line, on the cells of ``public/`` since the public copy it
    replaces (that of the replaced release, or of an earlier one when the replaced release's
    own copy was withheld)."""
    if replaced is None:
        return ""
    if public is None:
        cells = _cells(changed)
        return f"This release revises release {replaced.name}: {cells} changed since (impact diff lists them)."
    since = "" if public == replaced else f"; its public copy replaces that of release {public.name}"
    return (
        f"This release revises release {replaced.name}{since}: {_cells(changed, 'public cell')} changed since "
        "(impact diff lists them)."
    )


PUBLIC_REFLECTS = (
    "This public-use copy reflects the exact tables of the release it is part of (the folder above it). "
    "A correction published later whose own public copy could not be protected is not in it: "
    "published/index.html says which release each year's current public-use copy reflects."
)
"""What every public report says of the release it reflects."""


def withheld_note(public: dict) -> str:
    """The exact report's line on a release whose public copy was withheld (the manifest's
    ``public`` entry): why, names only, and which release's public copy is the year's current one."""
    summary = withheld_summary(public)
    if not summary:
        return ""
    current = public.get("current")
    where = (
        f"The year's current public-use copy is that of release {current} (published/{RELEASES}/{current}/public/, "
        "linked from published/index.html); this release's figures are not in it."
        if current
        else "The year has no public-use copy yet."
    )
    return f"This release has no public-use copy of its own: it could not be protected ({summary}). {where}"


@dataclass(frozen=True)
class Publication:
    """What a run did to a year's release: the link, the immutable release it points at, and
    whether that release is new, revises another one or was already current."""

    link: Path
    release: Path
    replaces: str | None
    cells_changed: int
    unchanged: bool
    public_withheld: str = ""
    """Why the release has no public copy of its own (names only); "" when it has one."""

    @property
    def outcome(self) -> str:
        if self.unchanged:
            what = "unchanged"
        elif self.replaces is None:
            what = "new"
        else:
            what = f"revises {self.replaces}: {_cells(self.cells_changed)} changed"
        return what + (f"; public copy withheld: {self.public_withheld}" if self.public_withheld else "")


def acknowledged_changes(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The figures outside the band around last year's release that the operator acknowledged in
    this run (table ``acknowledged_changes`` of the check within_previous_year_band)."""
    found = con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'acknowledged_changes'").fetchall()[0][0]
    if not found:
        return []
    rows = con.sql("SELECT * FROM acknowledged_changes ORDER BY figure").fetchall()
    return [{"figure": f, "this_year": t, "last_year": last, "band": b} for f, t, last, b in rows]


def write_public(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], folder: Path, year: int, synthetic: bool = False
) -> None:
    """``public/``: every published table, those that count children as their public-use copy
    (pipelines/public_copy/tables.py), the list of suppressed cells and a data package (the
    report is written with the release's, once the replaced release is known). Called only when
    the ``disclosure_audit`` check has passed in the same run (the manifest's ``public`` entry
    says published)."""
    folder.mkdir()
    for table in tables:
        source = public_name(table) if table in LAYOUTS else table
        export_table(con, source, folder, name=table)
    export_table(con, public_name(SUPPRESSED_CELLS), folder, name=SUPPRESSED_CELLS)
    write_public_datapackage(folder, year, synthetic)


def _finish(
    con: duckdb.DuckDBPyConnection,
    staged: Path,
    year: int,
    replaced: Path | None,
    checks: list[dict],
    public: dict,
    synthetic: Sequence[str],
) -> int:
    """The files of a staged release that depend on the release it replaces: both reports (each
    with its revision line; the exact one with the withheld copy's line, if any) and the
    manifest. Returns the number of cells changed since ``replaced``."""
    changed = len(diff_releases(replaced, staged)) if replaced is not None else 0
    if (staged / PUBLIC).is_dir():
        published_root = staged.parent.parent  # a staging folder is in <published>/.releases/
        before = public_copy_of(history(published_root, year, replaced)) if replaced is not None else None
        public_changed = len(diff_public(before, staged)) if before is not None else 0
        note = revision_note(replaced, public_changed, public=before)
        k = int(public["min_public_count"])
        write_report(staged / PUBLIC, year, revision=note, synthetic=bool(synthetic), public_copy=PUBLIC_REFLECTS, k=k)
    note = revision_note(replaced, changed)
    write_report(staged, year, revision=note, synthetic=bool(synthetic), public_copy=withheld_note(public))
    inputs = [
        {"path": f"raw/{year}/{name}", "sha256": sha256, "rows": rows, "bytes": size}
        for name, sha256, rows, size in con.sql(
            "SELECT file_name, sha256, rows, bytes FROM ingest_log ORDER BY file_name"
        ).fetchall()
    ]
    write_manifest(
        staged,
        year,
        inputs,
        checks,
        replaces=replaced.name if replaced else None,
        acknowledged_changes=acknowledged_changes(con),
        public=public,
        synthetic=[f"raw/{year}/{name}" for name in synthetic],
    )
    return changed


def write_release(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    published_root: Path,
    year: int,
    checks: list[dict],
    public: dict,
    synthetic: Sequence[str] = (),
    inputs_unchanged: Callable[[], None] = lambda: None,
) -> Publication:
    """Write every file of the year's release in a staging folder, then publish it whole and
    rewrite the index page of all years. ``checks``: the checks of the run; ``public``: the
    manifest's ``public`` entry (pipelines/public_copy/tables.py ``manifest_public``): when it
    says the public copy is withheld, the release has no ``public/`` and its report says why
    and which release's public copy is the year's current one; ``synthetic``: the raw exports
    the demo generator wrote (pipelines/accepting/ingest.py ``demo_exports``): the manifest, data
    packages and reports then say the release is synthetic.

    The new release replaces the current one, unless it is the current one: when the files,
    written as if they were the current release (same replaced release), are byte-identical to
    it, nothing is published and the link stays. ``inputs_unchanged`` raises when the raw
    exports changed during the run: it is called once the tables are written (so that an export
    whose signature changed is hashed again while they are) and before anything is published.
    """
    current = current_release(published_root, year)
    withheld = withheld_summary(public)
    staged = staging_folder(published_root, year)
    try:
        for table in tables:
            export_table(con, table, staged)
        if not withheld:
            write_public(con, tables, staged / PUBLIC, year, bool(synthetic))
        write_datapackage(staged, year, bool(synthetic))
        inputs_unchanged()
        if current is not None:
            replaced = replaced_release(published_root, current)
            changed = _finish(con, staged, year, replaced, checks, public, synthetic)
            if content_digest(staged) == content_digest(current):
                shutil.rmtree(staged)
                write_index(published_root)
                replaces = replaced.name if replaced else None
                return Publication(published_root / str(year), current, replaces, changed, True, withheld)
        changed = _finish(con, staged, year, current, checks, public, synthetic)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    link = publish(staged, published_root, year)
    write_index(published_root)
    return Publication(link, link.resolve(), current.name if current else None, changed, False, withheld)
