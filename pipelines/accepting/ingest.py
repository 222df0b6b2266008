"""Loading a year's raw exports into its DuckDB warehouse, proving that what was loaded is the whole export.

Every export is read twice, by two independent readers, and refused unless they agree:

* A CSV export is first streamed with Python's ``csv`` module (strict RFC 4180 quoting, UTF-8
  with an optional byte-order mark, LF or CRLF line endings, blank lines only at the end): it
  counts the records and finds the first structural fault (a byte that is not UTF-8, an
  unterminated quote, a row with a different number of fields than the header, a blank line
  between records) with its data-row number. DuckDB then loads the
  file as text (every column VARCHAR) with ``source_row``, the 1-based data-row number that the
  checks use to name bad rows; its row count must equal the streaming count, record for record.
* A Parquet export's footer states its row count; the ingest's one scan of the file must count
  the same rows. The scan decodes every column once: DuckDB reduces every column but report_id to
  ``raw_cybertipline_reports_groups`` (``sql/audits/cybertipline_reports_scan.sql``: a few
  thousand rows, the counts the published tables read and what every row rule needs) while
  another thread reads report_id with pyarrow and counts the repeated and missing ids exactly with
  a bitmap in numpy (``raw_cybertipline_reports_id_blocks``; DuckDB counts them with
  ``sql/audits/cybertipline_reports_ids.sql`` when the ids spread too wide for the bitmap). The
  column types are checked against the contract from the Parquet schema first, by what they
  denote (any integer width, any string encoding, timestamps of any unit with a time zone).

The SHA-256 of an export is computed on another thread while it is loaded (hashlib releases the
GIL, and so does DuckDB): it costs no pass of its own. The file's signature (size, mtime, ctime)
is taken before it is read and again after: a file written to meanwhile is refused, and the
release later knows from the signature alone, without reading the file again, that the bytes it
publishes the tables of are still the bytes ingested (``changed_since_ingest``).

Errors name the file, the rule, the data rows and the cause in words, one line per problem, and
never a cell value: no header cell the contract does not know (it may be a record when the header
row is missing), no text of a reader's error message (DuckDB and pyarrow quote the line).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.config import SQL_DIR
from pipelines.core.contract import DEMO_MARKER, MAX_EXAMPLES, RawExport
from pipelines.core.files import Signature, same_bytes, sha256_file, signature

SCAN_SQL_DIR = SQL_DIR / "audits"


class RawExportError(Exception):
    """A raw export that breaks the contract before any row rule runs: one line per problem, each
    naming the file, the cause and the rule, never a value."""

    def __init__(self, lines: str | list[str]) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


INGEST_LOG_COLUMNS = (
    "file_name VARCHAR PRIMARY KEY, sha256 VARCHAR, rows BIGINT, bytes BIGINT, "
    "mtime_ns BIGINT, ctime_ns BIGINT, signed_ns BIGINT"
)


def prepare_ingest_log(con: duckdb.DuckDBPyConnection) -> None:
    """The year's ``ingest_log``, before its exports are ingested on several connections at once
    (two connections altering one table conflict): created, or given the columns a warehouse of
    an earlier version lacks."""
    con.sql(f"CREATE TABLE IF NOT EXISTS ingest_log ({INGEST_LOG_COLUMNS})")
    for column in ("mtime_ns", "ctime_ns", "signed_ns"):
        con.sql(f"ALTER TABLE ingest_log ADD COLUMN IF NOT EXISTS {column} BIGINT")


@dataclass(frozen=True)
class IngestedExport:
    file: Path
    sha256: str
    rows: int
    signature: Signature
    """The file's (size, mtime_ns, ctime_ns) before and after it was read."""
    signed_ns: int
    """When the signature was taken (wall clock, ns)."""

    @property
    def bytes(self) -> int:
        return self.signature[0]

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        """Keep what was ingested in the warehouse's ``ingest_log`` (``prepare_ingest_log``): the
        release manifest's inputs, and the signatures the release compares the raw files with."""
        con.sql(f"CREATE TABLE IF NOT EXISTS ingest_log ({INGEST_LOG_COLUMNS})")
        con.sql(
            "INSERT OR REPLACE INTO ingest_log (file_name, sha256, rows, bytes, mtime_ns, ctime_ns, signed_ns) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            params=[self.file.name, self.sha256, self.rows, *self.signature, self.signed_ns],
        )


def demo_exports(con: duckdb.DuckDBPyConnection, year_dir: Path) -> list[str]:
    """The ingested exports that ``impact demo-data`` wrote: those whose ingested SHA-256 is the
    one the generator recorded in the year folder's ``DEMO_MARKER``. The mark goes with the
    content, so a real export in the same folder never carries it. A marker that is not the
    generator's JSON raises RawExportError."""
    marker = year_dir / DEMO_MARKER
    if not marker.is_file():
        return []
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))["sha256"]
        if not isinstance(recorded, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise RawExportError(
            f"{DEMO_MARKER}: not the demo generator's record of the files it wrote "
            "(rule: JSON with a sha256 object; delete the file if the exports are real)"
        ) from None
    return [f.file_name for f in ingested_files(con) if recorded.get(f.file_name) == f.sha256]


@dataclass(frozen=True)
class IngestedFile:
    """What ``ingest_log`` keeps of a file to tell whether it changed since (``changed_since_ingest``)."""

    file_name: str
    sha256: str
    signature: Signature
    signed_ns: int


def ingested_files(con: duckdb.DuckDBPyConnection) -> list[IngestedFile]:
    """Every export ingested into the year's warehouse, by file name."""
    rows = con.sql(
        "SELECT file_name, sha256, bytes, mtime_ns, ctime_ns, signed_ns FROM ingest_log ORDER BY file_name"
    ).fetchall()
    return [
        IngestedFile(name, digest, (size, mtime, ctime), signed) for name, digest, size, mtime, ctime, signed in rows
    ]


def changed_since_ingest(ingested: list[IngestedFile], year_dir: Path) -> list[str]:
    """Raw files whose content is not what was ingested, or that are gone: a file whose signature
    is the one ingest took is unchanged without being read (the kernel changes its ctime at every
    write); any other is hashed again and compared with ingest's SHA-256. Needs no connection,
    so it can run on a thread of its own."""
    return [f.file_name for f in ingested if not same_bytes(year_dir / f.file_name, f.signature, f.signed_ns, f.sha256)]


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(f"{r:,}" for r in rows[:MAX_EXAMPLES])
    return f"data row{'' if len(rows) == 1 else 's'} {shown}"


def _check_columns(export: RawExport, file_name: str, found: list[str]) -> None:
    """Exactly the contract's columns, in any order. Unknown cells of the first line are named by
    position only: when the header row is missing, the first line is a record."""
    expected = set(export.columns)
    missing = [c for c in export.columns if c not in found]
    unknown = [i + 1 for i, c in enumerate(found) if c not in expected]
    duplicated = sorted({c for c in found if c in expected and found.count(c) > 1})
    rule = f"(rule: exactly the columns {', '.join(export.columns)})"
    if not expected.intersection(found):
        hint = "; is the header row missing?" if export.is_csv else ""
        raise RawExportError(f"{file_name}: none of the contract's columns found{hint} {rule}")
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        positions = ", ".join(str(p) for p in unknown)
        problems.append(f"{len(unknown)} unknown column(s), at position(s) {positions}")
    if duplicated:
        problems.append(f"duplicated column(s) {', '.join(duplicated)}")
    if problems:
        raise RawExportError(f"{file_name}: {'; '.join(problems)} {rule}")


# ---------------------------------------------------------------------------------------------
# CSV: a streaming count with Python's csv module, then DuckDB's load, record for record


@dataclass
class CsvReading:
    """What Python's csv module read: the header and a fingerprint of every record."""

    header: list[str]
    fingerprints: list[int]

    @property
    def rows(self) -> int:
        return len(self.fingerprints)


class _Lines:
    """The file's lines decoded as UTF-8 one at a time (a leading BOM dropped), so that a byte that
    is not UTF-8 stops the reader at the record that holds it. A line ending in CR alone (old Mac
    files) is refused: the contract says LF or CRLF, and not every reader of the exports splits
    lines at a lone CR."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __iter__(self) -> Iterator[str]:
        with self._path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                if _LONE_CR.search(raw):
                    raise RawExportError(
                        f"{self._path.name}: a line ends with CR alone (rule: LF or CRLF line endings)"
                    )
                yield raw.decode("utf-8")


_LONE_CR = re.compile(rb"\r(?!\n)")


def _fingerprint(fields: list[str] | tuple) -> int:
    """A record's fields, hashed (empty and missing alike): the two readers are compared on these."""
    return hash(tuple("" if f is None else f for f in fields))


def read_csv_stream(export: RawExport, path: Path) -> CsvReading:
    """Stream the CSV with Python's csv module; raise RawExportError at its first structural fault."""
    name = path.name
    reader = csv.reader(_Lines(path), strict=True)
    fingerprints: list[int] = []
    header: list[str] | None = None
    wrong_width: list[int] = []
    wrong_width_count = 0
    blank: list[int] = []
    try:
        for record in reader:
            if header is None:
                header = record
                if len(header) == 1 and header[0] not in export.columns:
                    for separator, label in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
                        if separator in header[0]:
                            raise RawExportError(
                                f"{name}: the header row is separated by {label}, not commas (rule: comma separator)"
                            )
                _check_columns(export, name, header)
                continue
            if not record:
                blank.append(len(fingerprints) + 1)
            elif len(record) != len(header):
                wrong_width_count += 1
                if len(wrong_width) < MAX_EXAMPLES:
                    wrong_width.append(len(fingerprints) + 1)
            fingerprints.append(_fingerprint(record))
    except UnicodeDecodeError:
        where = f"data row {len(fingerprints) + 1:,}" if header is not None else "the header row"
        raise RawExportError(f"{name}: not UTF-8 at {where} (rule: UTF-8 CSV)") from None
    except csv.Error:
        row = len(fingerprints) + 1
        where = f"data row {row:,}" if header is not None else "the header row"
        # Both faults of csv's strict mode mean a quote that opens a field and never properly
        # closes it: at the end of the file, or at a quote followed by something else.
        raise RawExportError(
            f"{name}: unterminated quote starting at {where} (rule: RFC 4180 quoting: a quoted "
            "field ends with a quote followed by a comma or the line end)"
        ) from None
    if header is None:
        raise RawExportError(f"{name}: the file is empty (rule: a header row and at least one data row)")
    # Blank lines after the last record are not records: many exporters end a file with one, and
    # DuckDB skips them. Between records a blank line is refused: DuckDB would skip it too, and a
    # line lost in the middle of an export is more likely a damaged file than a style.
    while blank and blank[-1] == len(fingerprints):
        blank.pop()
        fingerprints.pop()
    problems = []
    if blank:
        problems.append(
            f"{name}: {len(blank):,} blank line(s) between records, e.g. {_rows_text(blank)} (rule: one "
            "record per line; blank lines only at the end of the file)"
        )
    if wrong_width_count:
        problems.append(
            f"{name}: {wrong_width_count:,} row(s) with a number of fields other than the header's "
            f"{len(header)}, e.g. {_rows_text(wrong_width)} (rule: RFC 4180, one field per column)"
        )
    if problems:
        raise RawExportError(problems)
    return CsvReading(header=header, fingerprints=fingerprints)


_DUCKDB_LINE = re.compile(r"CSV Error on Line: (\d+)")
_DUCKDB_CAUSES = (
    ("unterminated quote", "unterminated quote"),
    ("Expected Number of Columns", "a number of fields other than the header's"),
    ("unicode", "not UTF-8"),
    ("quote", "misplaced quote"),
)


def _duckdb_csv_error(path: Path, error: duckdb.Error, reading: CsvReading) -> RawExportError:
    """DuckDB's parser error in the contract's words: its cause by kind and its line as a data
    row (DuckDB counts the header line), never its text, which quotes the line."""
    text = str(error)
    cause = next((words for key, words in _DUCKDB_CAUSES if key.lower() in text.lower()), None)
    cause = cause or f"a parser error ({type(error).__name__})"
    match = _DUCKDB_LINE.search(text)
    where = f" at data row {max(int(match.group(1)) - 1, 1):,}" if match else ""
    return RawExportError(
        f"{path.name}: DuckDB cannot load it: {cause}{where}, although Python's csv module reads "
        f"{reading.rows:,} data rows (rule: RFC 4180 CSV)"
    )


def where_readings_part(reading: CsvReading, loaded: list[int]) -> int:
    """The first data row (1-based) at which the loader's records differ from the stream's."""
    for index, (ours, theirs) in enumerate(zip(reading.fingerprints, loaded)):
        if ours != theirs:
            return index + 1
    return min(len(reading.fingerprints), len(loaded)) + 1


def load_csv(con: duckdb.DuckDBPyConnection, export: RawExport, path: Path) -> int:
    """Load a CSV export as text into ``raw_<name>`` with a 1-based ``source_row``, after the
    streaming read, and prove that DuckDB loaded the same records."""
    reading = read_csv_stream(export, path)
    columns = {name: "VARCHAR" for name in reading.header}
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
        loaded = [
            _fingerprint(row)
            for row in con.sql(f"SELECT {', '.join(reading.header)} FROM {export.table} ORDER BY source_row").fetchall()
        ]
    except duckdb.Error as error:
        raise _duckdb_csv_error(path, error, reading) from None
    if loaded != reading.fingerprints:
        row = where_readings_part(reading, loaded)
        raise RawExportError(
            f"{path.name}: DuckDB loaded {len(loaded):,} data rows, Python's csv module reads "
            f"{reading.rows:,}; the two readings part at data row {row:,} (rule: every record "
            "ingested)"
        )
    return reading.rows


# ---------------------------------------------------------------------------------------------
# Parquet: the types the contract names, the footer's row count against the rows scanned


def _is_string(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _type_words(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "timestamp without time zone" if t.tz is None else f"timestamp ({t.tz})"
    if _is_string(t):
        return "string"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "floating point"
    return str(t)


PARQUET_TYPES = {
    "integer": pa.types.is_integer,
    "timestamp with a time zone (a UTC instant)": lambda t: pa.types.is_timestamp(t) and t.tz is not None,
    "string": _is_string,
}
"""What each contract type accepts: what the values denote, not their physical encoding."""


def parquet_type_problems(export: RawExport, path: Path, schema: pa.Schema) -> list[str]:
    """One line per column whose Parquet type does not denote the contract's."""
    problems = []
    for column, expected in export.parquet_types.items():
        found = schema.field(column).type
        if not PARQUET_TYPES[expected](found):
            problems.append(
                f'{path.name}: column {column}: rule "type {expected}": the file has type '
                f"{_type_words(found)}, the contract says {expected}"
            )
    return problems


def summary_table(export: RawExport) -> str:
    """The table of a Parquet export's one-scan summary."""
    return f"{export.table}_groups"


def id_blocks_table(export: RawExport) -> str:
    """The table of a Parquet export's repeated and missing report_ids, by block."""
    return f"{export.table}_id_blocks"


ID_BLOCK_BITS = 16
"""Report ids are counted for repeats in blocks of 2**16 consecutive ids (report_id >> 16)."""

ID_BITMAP_MAX_RANGE = 1 << 29
"""The widest range of report ids counted with a bitmap, one bit per possible id: 64 MiB of bits
(ten times the 2020 export spans 2**28). Wider ranges, or no statistics, are counted by DuckDB
with a hash aggregation of every id (sql/audits/cybertipline_reports_ids.sql)."""

IDS_AT_ONCE = 1 << 20
"""Report ids read and counted at once, whole row groups up to about this many (some 20 MiB of
work arrays); a file whose row groups are larger than ``IDS_AT_ONCE`` * 8 is counted by DuckDB."""


def id_range(metadata: pq.FileMetaData, column: str) -> tuple[int, int] | None:
    """The lowest and highest report_id by the footer's statistics, when every row group that has
    an id states them, they span at most ``ID_BITMAP_MAX_RANGE`` and no row group is too large to
    read at once; else None."""
    index = metadata.schema.names.index(column)
    low = high = None
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows > IDS_AT_ONCE * 8:
            return None  # too many ids to read at once in bounded memory
        statistics = metadata.row_group(group).column(index).statistics
        if statistics is None or not statistics.has_min_max:
            if rows == 0 or (statistics is not None and statistics.null_count == rows):
                continue  # no id in the group
            return None
        low = statistics.min if low is None else min(low, statistics.min)
        high = statistics.max if high is None else max(high, statistics.max)
    if low is None:
        return (0, 0)
    fits = high - low < ID_BITMAP_MAX_RANGE and low >= -(1 << 62) and high < 1 << 62  # numpy's int64
    return (low, high) if fits else None


def id_block_bits(metadata: pq.FileMetaData, column: str) -> int:
    """The block width of the report_id count: ``ID_BLOCK_BITS`` when the ids fit the bitmap,
    else 0 (one id per block, DuckDB's hash aggregation)."""
    return ID_BLOCK_BITS if id_range(metadata, column) is not None else 0


def count_report_ids(path: Path, column: str, low: int, high: int) -> list[tuple]:
    """The rows of ``raw_cybertipline_reports_id_blocks`` for ids within [low, high], as
    sql/audits/cybertipline_reports_ids.sql computes them (the blocks holding a repeated id, and
    the block of the missing ids), read with pyarrow and counted with numpy, exactly.

    One bit per possible id, set with ``bitwise_or.at`` (an id seen twice sets its bit twice, in a
    batch or across batches), and the ids counted per block: a block holds a repeated id when it
    counts more ids than bits set. Batches of ids are not sorted (sorting 2020's 21.75M ids in no
    order cost 1.9 CPU-s, this 0.6). DuckDB's bitstring_agg does the same count at three times the
    CPU at ten times the 2020 export; this runs on another thread while DuckDB reduces the other
    columns (pyarrow and numpy release the GIL), so the column is still decoded once.
    """
    base = (low >> ID_BLOCK_BITS) << ID_BLOCK_BITS  # blocks aligned as report_id >> 16 cuts them
    blocks = ((high - base) >> ID_BLOCK_BITS) + 1
    bitmap = np.zeros(blocks << (ID_BLOCK_BITS - 3), dtype=np.uint8)
    per_block = np.zeros(blocks, dtype=np.int64)
    missing = 0
    parquet = pq.ParquetFile(path)
    for chosen in _row_group_batches(parquet.metadata):
        ids = parquet.read_row_groups(chosen, columns=[column]).column(0)
        missing += ids.null_count
        values = ids.drop_null().to_numpy()
        if len(values) == 0:
            continue
        if values.min() < low or values.max() > high:
            raise RawExportError(
                f"{path.name}: column {column}: values outside the range its Parquet statistics state "
                "(rule: Parquet export)"
            )
        offsets = (values - base).astype(np.uint32)  # below ID_BITMAP_MAX_RANGE + 2**16
        per_block += np.bincount(offsets >> ID_BLOCK_BITS, minlength=blocks)
        np.bitwise_or.at(bitmap, offsets >> 3, np.left_shift(np.uint8(1), (offsets & 7).astype(np.uint8)))
    distinct = np.bitwise_count(bitmap).reshape(blocks, -1).sum(axis=1, dtype=np.int64)
    rows = [
        (ID_BLOCK_BITS, (base >> ID_BLOCK_BITS) + int(b), int(per_block[b]), int(per_block[b]), int(distinct[b]))
        for b in np.flatnonzero(per_block > distinct)
    ]
    if missing:
        rows.append((ID_BLOCK_BITS, None, missing, 0, None))
    return rows


def _row_group_batches(metadata: pq.FileMetaData) -> Iterator[list[int]]:
    """Consecutive row groups holding about ``IDS_AT_ONCE`` rows together (at least one group)."""
    batch: list[int] = []
    rows = 0
    for group in range(metadata.num_row_groups):
        if batch and rows + metadata.row_group(group).num_rows > IDS_AT_ONCE:
            yield batch
            batch, rows = [], 0
        batch.append(group)
        rows += metadata.row_group(group).num_rows
    if batch:
        yield batch


def _scan_sql(name: str) -> str:
    return (SCAN_SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")


def _corrupt_row_group(path: Path) -> int | None:
    """The first row group (1-based) that pyarrow cannot decode, if any."""
    parquet = pq.ParquetFile(path)
    for index in range(parquet.num_row_groups):
        try:
            parquet.read_row_group(index)
        except Exception:  # pyarrow raises several types for damaged pages
            return index + 1
    return None


def load_parquet(con: duckdb.DuckDBPyConnection, export: RawExport, path: Path) -> int:
    """Expose a Parquet export as the view ``raw_<name>`` and reduce it to its summary tables in one
    scan (every column decoded once), after checking its footer, columns and types; the rows
    scanned must equal the footer's row count."""
    try:
        metadata = pq.read_metadata(path)
        schema = pq.read_schema(path)
    except Exception as error:  # pyarrow raises several types for a damaged footer
        raise RawExportError(
            f"{path.name}: not a readable Parquet file ({type(error).__name__} reading the footer; "
            "rule: Parquet export)"
        ) from None
    _check_columns(export, path.name, list(schema.names))
    problems = parquet_type_problems(export, path, schema)
    if problems:
        raise RawExportError(problems)
    con.sql(
        f"CREATE OR REPLACE VIEW {export.table} AS "
        f"SELECT {', '.join(export.columns)} FROM read_parquet('{_sql_string(path)}')"
    )
    table, ids = summary_table(export), id_blocks_table(export)
    con.sql("SET enable_progress_bar = false")  # a run log, not a terminal
    span = id_range(metadata, "report_id")
    con.sql("SET VARIABLE id_block_bits = ?", params=[0 if span is None else ID_BLOCK_BITS])
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-ids") as counting:
            counted = None if span is None else counting.submit(count_report_ids, path, "report_id", *span)
            con.sql(f"CREATE OR REPLACE TABLE {table} AS\n{_scan_sql(f'{export.name}_scan')}")
            # The same table as the SQL count, empty, then the bitmap's rows.
            where = "WHERE false" if counted is not None else ""
            con.sql(f"CREATE OR REPLACE TABLE {ids} AS\nSELECT * FROM ({_scan_sql(f'{export.name}_ids')}) {where}")
            if counted is not None:
                for row in counted.result():
                    con.sql(f"INSERT INTO {ids} VALUES (?, ?, ?, ?, ?)", params=list(row))
    except (duckdb.Error, pa.ArrowException, OSError) as error:
        con.sql(f"DROP TABLE IF EXISTS {table}")
        con.sql(f"DROP TABLE IF EXISTS {ids}")
        group = _corrupt_row_group(path)
        cause = (
            f"corrupt data in row group {group} of {metadata.num_row_groups}"
            if group is not None
            else f"DuckDB cannot read its data ({type(error).__name__})"
        )
        raise RawExportError(f"{path.name}: {cause} (rule: Parquet export)") from None
    scanned = con.sql(f"SELECT coalesce(sum(reports), 0)::BIGINT FROM {table}").fetchall()[0][0]
    if scanned != metadata.num_rows:
        raise RawExportError(
            f"{path.name}: the footer states {metadata.num_rows:,} rows, a full scan reads "
            f"{scanned:,} (rule: every record ingested)"
        )
    return metadata.num_rows


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def ingest(con: duckdb.DuckDBPyConnection, export: RawExport, year_dir: Path) -> IngestedExport:
    """Bring one export of a year into the warehouse; raise RawExportError when it cannot."""
    path = year_dir / export.file_name
    if not path.is_file():
        raise RawExportError(f"{export.file_name}: missing from the year's folder (rule: every export is required)")
    before, signed_ns = signature(path.stat()), time.time_ns()
    if before[0] == 0:
        raise RawExportError(f"{export.file_name}: the file is empty (rule: a header row and at least one data row)")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as hashing:
        digest = hashing.submit(sha256_file, path)  # while the file is loaded
        rows = load_csv(con, export, path) if export.is_csv else load_parquet(con, export, path)
    if signature(path.stat()) != before:
        raise RawExportError(
            f"{export.file_name}: written to while it was ingested (rule: a complete export: wait until its "
            "producer has finished)"
        )
    if rows == 0:
        raise RawExportError(f"{export.file_name}: no data rows (rule: at least one data row)")
    ingested = IngestedExport(file=path, sha256=digest.result(), rows=rows, signature=before, signed_ns=signed_ns)
    ingested.record(con)
    return ingested
