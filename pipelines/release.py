"""Writing a year's release: the published tables as Parquet and CSV, the manifest, the data
package and the report, swapped in atomically.

A release is built in a fresh folder under ``<published>/.releases/`` and only then made visible
by replacing the symbolic link ``<published>/<year>`` in one ``rename`` — atomic on POSIX file
systems. A run that fails or is killed at any moment leaves the previous link, and so the
previous release, untouched; a half-written folder is never reachable from ``<published>/<year>``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines.datapackage import write_datapackage
from pipelines.manifest import write_manifest
from pipelines.metadata import ORDER_COLUMN
from pipelines.report import write_report

RELEASES = ".releases"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def export_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> list[Path]:
    """Write one published table as Parquet and CSV, rows in published order."""
    query = f"SELECT * EXCLUDE ({ORDER_COLUMN}) FROM {table} ORDER BY {ORDER_COLUMN}"
    parquet = folder / f"{table}.parquet"
    csv = folder / f"{table}.csv"
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


def staging_folder(published_root: Path, year: int) -> Path:
    releases = published_root / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{year}.partial-", dir=releases))


def publish(staged: Path, published_root: Path, year: int) -> Path:
    """Make a fully written staging folder the year's release; returns ``<published>/<year>``."""
    for path in staged.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    staged.chmod(0o755)  # mkdtemp makes it private; a release is for everyone to read
    final = published_root / RELEASES / f"{year}-{content_digest(staged)[:16]}"
    if final.exists():  # same content as an earlier release: keep that one
        shutil.rmtree(staged)
    else:
        staged.rename(final)
    link = published_root / str(year)
    if link.exists() and not link.is_symlink():
        raise RuntimeError(
            f"{link} is a plain folder, not a release link; move it away to publish year {year}"
        )
    temporary_link = published_root / RELEASES / f".{year}.link-{os.getpid()}"
    temporary_link.unlink(missing_ok=True)
    temporary_link.symlink_to(Path(RELEASES) / final.name)
    os.replace(temporary_link, link)
    _fsync_dir(published_root)
    _prune(published_root, year, keep=final.name)
    return link


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(published_root: Path, year: int, keep: str) -> None:
    """Remove the year's superseded releases and partial folders left by killed runs."""
    for path in (published_root / RELEASES).glob(f"{year}[-.]*"):
        if path.name != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def write_release(
    con: duckdb.DuckDBPyConnection,
    tables: Sequence[str],
    published_root: Path,
    year: int,
    checks: list[dict],
) -> Path:
    """Write every file of the year's release in a staging folder, then publish it whole."""
    staged = staging_folder(published_root, year)
    try:
        for table in tables:
            export_table(con, table, staged)
        write_datapackage(staged, year)
        write_report(staged, year)
        inputs = [
            {"path": f"raw/{year}/{name}", "sha256": sha256, "rows": rows, "bytes": size}
            for name, sha256, rows, size in con.sql(
                "SELECT file_name, sha256, rows, bytes FROM ingest_log ORDER BY file_name"
            ).fetchall()
        ]
        write_manifest(staged, year, inputs, checks)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return publish(staged, published_root, year)
