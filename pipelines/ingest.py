"""Loading a year's raw exports into its DuckDB warehouse, refusing files that break the contract.

CSV exports are loaded as text (every column VARCHAR) with the row number of each data row, so
that validation can name the exact rows that break a rule before anything is typed; the staging
models cast them. The CyberTipline Parquet export is large: it becomes a view over the file, not
a copy, and is read whole once, here: ``sql/audits/cybertipline_reports_scan.sql`` reduces it to
a few thousand rows (``raw_cybertipline_reports_groups``), from which its check decides every row
rule and the staging model takes its counts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipelines.config import SQL_DIR
from pipelines.contract import RawExport
from pipelines.manifest import sha256_file

SCAN_SQL_DIR = SQL_DIR / "audits"


class RawExportError(Exception):
    """A raw export that cannot be read as the contract says. The message names file and cause."""


@dataclass(frozen=True)
class IngestedExport:
    file: Path
    sha256: str
    rows: int
    bytes: int
    mtime_ns: int

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        """Keep what was ingested in the warehouse's ``ingest_log`` for the release manifest."""
        con.sql(
            "CREATE TABLE IF NOT EXISTS ingest_log (file_name VARCHAR PRIMARY KEY, "
            "sha256 VARCHAR, rows BIGINT, bytes BIGINT, mtime_ns BIGINT)"
        )
        con.sql(
            "INSERT OR REPLACE INTO ingest_log VALUES (?, ?, ?, ?, ?)",
            params=[self.file.name, self.sha256, self.rows, self.bytes, self.mtime_ns],
        )


def changed_since_ingest(con: duckdb.DuckDBPyConnection, year_dir: Path) -> list[str]:
    """Raw files replaced or modified after they were ingested (size or modification time)."""
    changed = []
    for file_name, size, mtime_ns in con.sql(
        "SELECT file_name, bytes, mtime_ns FROM ingest_log ORDER BY file_name"
    ).fetchall():
        path = year_dir / file_name
        if not path.is_file() or path.stat().st_size != size or path.stat().st_mtime_ns != mtime_ns:
            changed.append(file_name)
    return changed


def _check_columns(export: RawExport, path: Path, found: list[str]) -> None:
    expected = list(export.columns)
    missing = [c for c in expected if c not in found]
    unknown = [c for c in found if c not in expected]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(duplicated)}")
    if problems:
        raise RawExportError(
            f"{path.name}: {'; '.join(problems)} (rule: exactly the columns "
            f"{', '.join(expected)})"
        )


def _csv_header(export: RawExport, path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as error:
        raise RawExportError(
            f"{path.name}: not UTF-8 (byte {error.start} cannot be decoded; rule: UTF-8 CSV)"
        ) from None
    if not header:
        raise RawExportError(f"{path.name}: the file is empty (rule: a header row is required)")
    if len(header) == 1 and export.columns[0] != header[0] and any(s in header[0] for s in ";\t|"):
        raise RawExportError(
            f"{path.name}: the header is not comma-separated ({header[0][:80]!r}; rule: comma "
            "separator)"
        )
    return header


def load_csv(con: duckdb.DuckDBPyConnection, export: RawExport, path: Path) -> int:
    """Load a CSV export as text into ``raw_<name>`` with a 1-based ``source_row``."""
    header = _csv_header(export, path)
    _check_columns(export, path, header)
    columns = {name: "VARCHAR" for name in header}
    try:
        con.sql(
            f"""
            CREATE OR REPLACE TABLE {export.table} AS
            SELECT row_number() OVER () AS source_row, {", ".join(export.columns)}
            FROM read_csv(
                ?, header = true, auto_detect = false, columns = {columns!r},
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                encoding = 'utf-8', parallel = false
            )
            """,
            params=[str(path)],
        )
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise RawExportError(f"{path.name}: not a valid RFC 4180 CSV ({first_line})") from None
    return con.sql(f"SELECT count(*) FROM {export.table}").fetchall()[0][0]


def load_parquet(con: duckdb.DuckDBPyConnection, export: RawExport, path: Path) -> int:
    """Expose a Parquet export as the view ``raw_<name>`` after checking its footer and columns."""
    try:
        metadata = pq.read_metadata(path)
    except Exception as error:  # pyarrow raises several types for a damaged footer
        raise RawExportError(
            f"{path.name}: not a readable Parquet file ({error}; rule: Parquet export)"
        ) from None
    _check_columns(export, path, list(metadata.schema.names))
    con.sql(
        f"CREATE OR REPLACE VIEW {export.table} AS "
        f"SELECT {', '.join(export.columns)} FROM read_parquet('{_sql_string(path)}')"
    )
    scan_summary(con, export)
    return metadata.num_rows


def summary_table(export: RawExport) -> str:
    """The table of a Parquet export's one-scan summary."""
    return f"{export.table}_groups"


def scan_summary(con: duckdb.DuckDBPyConnection, export: RawExport) -> str | None:
    """Reduce a Parquet export to its summary table in one scan (``sql/audits/<name>_scan.sql``),
    when it has one. A file whose columns have the wrong types cannot be summarized: then no
    summary table is left (not even an older one) and the export's check reports the types and
    reads the rows itself. Returns the table, or None."""
    sql_file = SCAN_SQL_DIR / f"{export.name}_scan.sql"
    if not sql_file.is_file():
        return None
    table = summary_table(export)
    select = sql_file.read_text(encoding="utf-8").strip().rstrip(";")
    con.sql("SET enable_progress_bar = false")  # a run log, not a terminal
    try:
        con.sql(f"CREATE OR REPLACE TABLE {table} AS\n{select}")
    except duckdb.Error:
        con.sql(f"DROP TABLE IF EXISTS {table}")
        return None
    return table


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def ingest(con: duckdb.DuckDBPyConnection, export: RawExport, year_dir: Path) -> IngestedExport:
    """Bring one export of a year into the warehouse; raise RawExportError when it cannot."""
    path = year_dir / export.file_name
    if not path.is_file():
        raise RawExportError(f"{export.file_name}: missing from {year_dir} (rule: every export is required)")
    if path.stat().st_size == 0:
        raise RawExportError(f"{export.file_name}: the file is empty")
    stat = path.stat()
    rows = load_csv(con, export, path) if export.is_csv else load_parquet(con, export, path)
    ingested = IngestedExport(
        file=path, sha256=sha256_file(path), rows=rows, bytes=stat.st_size, mtime_ns=stat.st_mtime_ns
    )
    ingested.record(con)
    return ingested
