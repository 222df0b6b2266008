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
import json
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
from pipelines.public_copy.tables import SUPPRESSED_CELLS, public_name
from pipelines.publishing.datapackage import write_datapackage, write_public_datapackage
from pipelines.publishing.diff import diff_public, diff_releases
from pipelines.publishing.index_page import write_index
from pipelines.publishing.manifest import write_manifest
from pipelines.publishing.report import write_report

RELEASES = ".releases"
PUBLIC = "public"
"""The public-use tables inside a release (docs/public-use.md)."""


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


def current_release(published_root: Path, year: int) -> Path | None:
    """The folder ``<published>/<year>`` points to, None before the first release."""
    link = published_root / str(year)
    if link.exists() and not link.is_symlink():
        raise RuntimeError(f"{link} is a plain folder, not a release link; move it away to publish year {year}")
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def replaced_release(published_root: Path, release: Path) -> Path | None:
    """The release that ``release`` replaced, from its manifest (None for a first release)."""
    name = json.loads((release / "manifest.json").read_text(encoding="utf-8")).get("replaces")
    return published_root / RELEASES / name if name else None


def history(published_root: Path, year: int) -> list[Path]:
    """The year's releases, newest first: the current one, the one it replaced, and so on."""
    releases, release = [], current_release(published_root, year)
    while release is not None and release.is_dir() and release not in releases:
        releases.append(release)
        release = replaced_release(published_root, release)
    return releases


def find_release(published_root: Path, year: int, name: str) -> Path:
    """A release of the year by its name (``2020-0123456789abcdef``) or its hash alone."""
    folder = published_root / RELEASES / (name if name.startswith(f"{year}-") else f"{year}-{name}")
    if not _RELEASE_NAME.match(folder.name) or not folder.is_dir():
        raise FileNotFoundError(f"no release {name} of {year} in {published_root / RELEASES}")
    return folder


_RELEASE_NAME = re.compile(r"^\d+-[0-9a-f]{16}$")


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


def revision_note(replaced: Path | None, changed: int, public: bool = False) -> str:
    """The report's line on a revised year: how many cells changed since the replaced release
    (``public``: the public report's line, on the cells of ``public/``)."""
    if replaced is None:
        return ""
    cells = _cells(changed, "public cell" if public else "cell")
    return f"This release revises release {replaced.name}: {cells} changed since (impact diff lists them)."


@dataclass(frozen=True)
class Publication:
    """What a run did to a year's release: the link, the immutable release it points at, and
    whether that release is new, revises another one or was already current."""

    link: Path
    release: Path
    replaces: str | None
    cells_changed: int
    unchanged: bool

    @property
    def outcome(self) -> str:
        if self.unchanged:
            return "unchanged"
        if self.replaces is None:
            return "new"
        return f"revises {self.replaces}: {_cells(self.cells_changed)} changed"


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
    report is written with the release's, once the replaced release is known). Called only once
    the ``disclosure_audit`` check has passed in the same run
    (pipelines/defs/publishing/assets.py)."""
    folder.mkdir()
    for table in tables:
        source = public_name(table) if table in LAYOUTS else table
        export_table(con, source, folder, name=table)
    export_table(con, public_name(SUPPRESSED_CELLS), folder, name=SUPPRESSED_CELLS)
    write_public_datapackage(folder, year, synthetic)


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
    rewrite the index page of all years. ``checks``: the checks of the run, all passed;
    ``public``: the disclosure audit's figures (manifest ``public``); ``synthetic``: the raw
    exports the demo generator wrote (pipelines/accepting/ingest.py ``demo_exports``): the manifest, data
    packages and reports then say the release is synthetic.

    The new release replaces the current one, unless it is the current one: when the files,
    written as if they were the current release (same replaced release), are byte-identical to
    it, nothing is published and the link stays. ``inputs_unchanged`` raises when the raw
    exports changed during the run: it is called once the tables are written (so that the exports
    are hashed again while they are) and before anything is published.
    """
    current = current_release(published_root, year)
    staged = staging_folder(published_root, year)
    try:
        for table in tables:
            export_table(con, table, staged)
        write_public(con, tables, staged / PUBLIC, year, bool(synthetic))
        write_datapackage(staged, year, bool(synthetic))
        inputs = [
            {"path": f"raw/{year}/{name}", "sha256": sha256, "rows": rows, "bytes": size}
            for name, sha256, rows, size in con.sql(
                "SELECT file_name, sha256, rows, bytes FROM ingest_log ORDER BY file_name"
            ).fetchall()
        ]
        inputs_unchanged()

        def finish(replaced: Path | None) -> int:
            changed = len(diff_releases(replaced, staged)) if replaced is not None else 0
            public_changed = len(diff_public(replaced, staged)) if replaced is not None else 0
            public_note = revision_note(replaced, public_changed, public=True)
            write_report(staged / PUBLIC, year, revision=public_note, synthetic=bool(synthetic))
            write_report(staged, year, revision=revision_note(replaced, changed), synthetic=bool(synthetic))
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

        if current is not None:
            replaced = replaced_release(published_root, current)
            changed = finish(replaced)
            if content_digest(staged) == content_digest(current):
                shutil.rmtree(staged)
                write_index(published_root)
                return Publication(
                    link=published_root / str(year),
                    release=current,
                    replaces=replaced.name if replaced else None,
                    cells_changed=changed,
                    unchanged=True,
                )
        changed = finish(current)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    link = publish(staged, published_root, year)
    write_index(published_root)
    return Publication(
        link=link,
        release=link.resolve(),
        replaces=current.name if current else None,
        cells_changed=changed,
        unchanged=False,
    )
