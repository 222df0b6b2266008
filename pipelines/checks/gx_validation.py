"""Great Expectations validation of the CSV exports: the suites, one GX context per process, and
the worker process it lives in.

The blocking ``export_contract`` checks of the four CSV exports (pipelines/checks/raw_exports.py)
call :func:`validate_csv_export`. This module does not import Dagster, so that the worker
process (and ``impact run``, which starts it before anything else) load only what GX needs.

Why a worker process: importing great_expectations takes about 2.3 s of CPU, more than every
other step of a year's run together, and validating the four exports about 0.7 s more. In a
process of its own, started when the run starts (:func:`start_gx_worker`), GX is imported on the
second core while the run's own process loads Dagster and the CyberTipline export, checks it and
builds its tables. Each CSV export's table is sent to the worker as soon as it is ingested
(:func:`prefetch_csv_validation`); the check then reads the table again and uses that validation
only if the table is unchanged, else it validates again. The checks stay blocking: each waits
for its own result before anything downstream runs. If the worker cannot start or dies, the
validation runs in the calling process instead, with the same code.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.contract import (
    CASES,
    CVIP_OFFENDER_RELATIONSHIPS,
    CVIP_REQUESTS,
    PROGRAM_METRICS,
    RAW_EXPORTS,
    RawExport,
)
from pipelines.seeds import read_seed

if TYPE_CHECKING:
    import pyarrow as pa

MAX_EXAMPLES = 5
ROW_COLUMN = "source_row"
"""The 1-based data-row number that ingest adds to every CSV table (pipelines/ingest.py)."""


def seed_codes(name: str) -> tuple[str, ...]:
    """The codes of a category seed (sql/seeds/<name>.csv): one list of codes for the SQL models
    and the expectations alike."""
    return tuple(row["code"] for row in read_seed(name))


# Codes of raw/README.md.
CASE_TYPES = seed_codes("case_types")
RACES = seed_codes("races")
AGENCY_TYPES = seed_codes("agency_types")
RELATIONSHIPS = seed_codes("relationships")
PERIODS = ("year", "cumulative", "current", "prior_year")

# A real calendar date written YYYY-MM-DD (years 0001..9999, leap days of the Gregorian calendar):
# exactly the strings ``datetime.date.fromisoformat`` reads in that form (tests/test_raw_validation.py
# proves it). A regex, not GX's strftime expectation, because that one parses every row with
# Python's strptime (0.25 s for the 60,000 dates of a year) and a regex runs vectorised.
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"  # not 0000
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"  # 31-day months
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"  # 30-day months
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_MULTIPLE_OF_4 = "(?:0[48]|[2468][048]|[13579][26])"  # 04..96, two digits
_LEAP_YEAR = f"(?:[0-9]{{2}}{_MULTIPLE_OF_4}|{_MULTIPLE_OF_4}00)"  # by 4, not by 100 unless by 400
CALENDAR_DATE = f"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)$"
NON_NEGATIVE_INTEGER = r"^[0-9]{1,18}$"  # 18 digits always fit the BIGINT staging casts to
AGE_0_TO_20 = r"^0*(?:1?[0-9]|20)$"


# ---------------------------------------------------------------------------------------------
# Outcome of one rule (also used by the CyberTipline check)


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found in one export. Holds counts and row numbers/ids, never cell values."""

    file: str
    column: str
    rule: str
    bad_rows: int = 0
    examples: tuple[int, ...] = ()
    example_label: str = "row"  # "row" (source_row of a CSV) or "report_id"
    finding: str | None = None  # a broken rule that is not about rows (e.g. a column type)
    error: str | None = None  # the rule could not be evaluated

    @property
    def passed(self) -> bool:
        return self.error is None and self.finding is None and self.bad_rows == 0

    def failure_line(self) -> str:
        head = f'{self.file}: column {self.column}: rule "{self.rule}": '
        if self.error is not None:
            return head + f"could not be evaluated ({self.error})"
        if self.finding is not None:
            return head + self.finding
        text = f"{self.bad_rows:,} bad row{'' if self.bad_rows == 1 else 's'}"
        if self.examples:
            label = self.example_label + ("" if len(self.examples) == 1 else "s")
            text += f", e.g. {label} {', '.join(str(e) for e in self.examples)}"
        return head + text

    def status(self) -> str:
        if self.error is not None:
            return "not evaluated"
        if self.finding is not None:
            return "broken"
        return f"{self.bad_rows:,}"


# ---------------------------------------------------------------------------------------------
# The CSV exports: Great Expectations suites built in code


@dataclass(frozen=True)
class CsvRule:
    """One contract rule of a CSV export and the GX expectation(s) that check it.

    A rule needs several expectations when GX has no single one for it (e.g. one per period);
    their bad rows are merged.
    """

    column: str
    rule: str
    expectations: tuple[Any, ...] = ()


def metric_catalog() -> list[dict[str, str]]:
    return list(read_seed("metric_catalog"))


def years_up_to_regex(year: int) -> str:
    """A regex for the 4-digit years 0000..``year``: digit by digit below the year, or the year."""
    digits = f"{year:04d}"
    alternatives = [digits]
    for i, digit in enumerate(digits):
        if digit != "0":
            alternatives.append(digits[:i] + f"[0-{int(digit) - 1}]" + "[0-9]" * (3 - i))
    return f"^(?:{'|'.join(alternatives)})$"


def csv_rules(export: RawExport, year: int) -> list[CsvRule]:
    """Every rule of raw/README.md for one CSV export, as GX expectations."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    def required(column: str) -> CsvRule:
        return CsvRule(column, "required (non-empty)", (gxe.ExpectColumnValuesToNotBeNull(column=column),))

    def one_of(column: str, values: Iterable[str], text: str | None = None) -> CsvRule:
        values = list(values)
        return CsvRule(
            column,
            text or f"one of {', '.join(values)}",
            (gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values),),
        )

    def matches(column: str, regex: str, text: str) -> CsvRule:
        return CsvRule(column, text, (gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex),))

    def iso_date(column: str, when: str = "") -> CsvRule:
        return matches(column, CALENDAR_DATE, f"a real calendar date as YYYY-MM-DD{when}")

    def unique(columns: Sequence[str]) -> CsvRule:
        if len(columns) == 1:
            expectation = gxe.ExpectColumnValuesToBeUnique(column=columns[0])
        else:
            expectation = gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))
        return CsvRule(", ".join(columns), "unique" if len(columns) == 1 else "unique together", (expectation,))

    def count(column: str) -> list[CsvRule]:
        return [required(column), matches(column, NON_NEGATIVE_INTEGER, "an integer >= 0")]

    table = CsvRule(
        "(all columns)",
        f"exactly the columns {', '.join(export.columns)}",
        (gxe.ExpectTableColumnsToMatchSet(column_set=[ROW_COLUMN, *export.columns], exact_match=True),),
    )

    if export is CASES:
        from pipelines.seeds import us_state_rows

        states = [code for code, _ in us_state_rows()]  # 50 states, DC, PR and INTL
        return [
            table,
            required("case_number"),
            unique(["case_number"]),
            required("intake_date"),
            iso_date("intake_date"),
            iso_date("resolved_date", " when present"),
            CsvRule(
                "resolved_date",
                "resolved_date >= intake_date when present",
                (
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="resolved_date",
                        column_B="intake_date",
                        or_equal=True,
                        ignore_row_if="either_value_is_missing",
                    ),
                ),
            ),
            required("case_type"),
            one_of("case_type", CASE_TYPES),
            matches("age_at_missing", AGE_0_TO_20, "an integer 0..20 when present"),
            one_of("race", RACES, f"one of {', '.join(RACES)}, or empty"),
            required("missing_state"),
            one_of("missing_state", states, "USPS code of the 50 states, DC or PR, or INTL"),
        ]
    if export is CVIP_REQUESTS:
        return [
            table,
            required("request_id"),
            unique(["request_id"]),
            required("received_date"),
            iso_date("received_date"),
            matches("received_date", f"^{year:04d}-", f"within {year}"),
            required("agency_type"),
            one_of("agency_type", AGENCY_TYPES),
            *count("image_count"),
            *count("video_count"),
        ]
    if export is CVIP_OFFENDER_RELATIONSHIPS:
        return [
            table,
            required("victim_id"),
            required("relationship"),
            one_of("relationship", RELATIONSHIPS),
            unique(["victim_id", "relationship"]),
        ]
    if export is PROGRAM_METRICS:
        catalog = metric_catalog()
        metric_ids = sorted({m["metric_id"] for m in catalog})
        pairs = sorted({(m["metric_id"], m["period"]) for m in catalog})
        computed: dict[str, list[str]] = {}
        for m in catalog:
            if m["computed_from"]:
                computed.setdefault(m["period"], []).append(m["metric_id"])
        return [
            table,
            required("metric_id"),
            one_of("metric_id", metric_ids, "in the metric catalog (sql/seeds/metric_catalog.csv)"),
            required("period"),
            one_of("period", PERIODS),
            CsvRule(
                "metric_id, period",
                "(metric_id, period) in the metric catalog",
                (
                    gxe.ExpectColumnPairValuesToBeInSet(
                        column_A="metric_id",
                        column_B="period",
                        value_pairs_set=pairs,
                        ignore_row_if="either_value_is_missing",
                    ),
                ),
            ),
            CsvRule(
                "metric_id, period",
                "not a metric computed by the pipeline from the record-level exports",
                tuple(
                    gxe.ExpectColumnValuesToNotBeInSet(
                        column="metric_id",
                        value_set=sorted(ids),
                        row_condition=Column("period") == period,
                    )
                    for period, ids in sorted(computed.items())
                ),
            ),
            unique(["metric_id", "period"]),
            *count("value"),
            matches("since", years_up_to_regex(year), f"a 4-digit year not after {year}, when present"),
            CsvRule(
                "since",
                "empty unless period is cumulative",
                (
                    gxe.ExpectColumnValuesToBeNull(
                        column="since", row_condition=Column("period") != "cumulative"
                    ),
                ),
            ),
        ]
    raise ValueError(f"{export.file_name} is not a CSV export")


SITE_NAME = "raw_exports"


def ingested_rows(con: Any, export: RawExport) -> pa.Table:
    """The export's all-text warehouse table (``raw_<name>`` with ``source_row``) as Arrow, in
    file order: what its suite validates. Arrow, not pandas: it costs the run almost nothing to
    read, compare and send; the process that validates converts it to pandas for GX."""
    return con.sql(f"SELECT * FROM {export.table} ORDER BY {ROW_COLUMN}").to_arrow_table()


def data_docs_dir(warehouse_dir: str | Path, year: int, export: RawExport) -> Path:
    """Where the Data Docs of an export's validation go: ``<warehouse_dir>/data_docs/<year>/<export>``
    (internal, never published: they may show raw values)."""
    return Path(warehouse_dir).resolve() / "data_docs" / str(year) / export.name


def _raised(exception_info: Any) -> str | None:
    """The type of the exception GX caught while evaluating an expectation, if any. Not its
    message, which may quote a value; the Data Docs (internal) show it."""
    if not exception_info:
        return None
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in infos:
        if isinstance(info, dict) and info.get("raised_exception"):
            lines = str(info.get("exception_traceback") or "").strip().splitlines()
            kind = lines[-1].split(":", 1)[0].strip() if lines else ""
            return f"Great Expectations raised {kind or 'an exception'}; see the Data Docs"
    return None


@dataclass
class CsvValidation:
    outcomes: list[RuleOutcome]
    data_docs: Path | None


def outcomes_of(export: RawExport, rules: Sequence[CsvRule], result: Any) -> list[RuleOutcome]:
    """The outcome of every rule from a GX suite validation result."""
    bad_rows: dict[int, set[int]] = {i: set() for i in range(len(rules))}
    counts: dict[int, int] = {i: 0 for i in range(len(rules))}
    findings: dict[int, str] = {}
    errors: dict[int, str] = {}
    for expectation_result in result.results:
        index = int(expectation_result.expectation_config.meta["rule_index"])
        error = _raised(expectation_result.exception_info)
        if error is not None:
            errors[index] = error
            continue
        if expectation_result.success:
            continue
        details = expectation_result.result or {}
        rows = {int(item[ROW_COLUMN]) for item in details.get("unexpected_index_list") or []}
        if details.get("unexpected_count") is None and not rows:
            findings[index] = "the table breaks it"
            continue
        bad_rows[index] |= rows
        counts[index] += int(details.get("unexpected_count") or len(rows))

    outcomes = []
    for index, rule in enumerate(rules):
        rows = bad_rows[index]
        outcomes.append(
            RuleOutcome(
                file=export.file_name,
                column=rule.column,
                rule=rule.rule,
                # Several expectations of one rule never flag one row twice (disjoint row
                # conditions), so their counts add up; the set is exact when GX lists every row.
                bad_rows=max(counts[index], len(rows)),
                examples=tuple(sorted(rows)[:MAX_EXAMPLES]),
                finding=findings.get(index),
                error=errors.get(index),
            )
        )
    return outcomes


class GxSession:
    """One Great Expectations context per process, reused by every CSV check of every run.

    Building a file-mode context, its datasource and its Data Docs site for each export cost
    about 0.15 s each, and a new Data Docs site builder compiles GX's Jinja templates again
    (0.3 s per build). Here one ephemeral context holds one pandas datasource (a dataframe asset
    and batch definition per export, created once) and a site builder per year folder, whose
    compiled templates serve the four exports of the year. Each validation starts from an empty context (no suite, validation definition or
    result of an earlier export), so the Data Docs of an export show that export's suite and
    validation only, as a fresh context did, in ``<warehouse_dir>/data_docs/<year>/<export>/``.
    """

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._lock = threading.Lock()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self._datasource = self.context.data_sources.add_pandas(name="raw_exports")
        self._batches: dict[str, Any] = {}
        self._sites: dict[Path, Any] = {}

    def _batch_definition(self, export: RawExport) -> Any:
        if export.name not in self._batches:
            self._batches[export.name] = self._datasource.add_dataframe_asset(
                name=export.name
            ).add_batch_definition_whole_dataframe(name=export.name)
        return self._batches[export.name]

    def _clear(self) -> None:
        """Remove the suites, validation definitions and results of earlier validations."""
        context = self.context
        for definition in list(context.validation_definitions.all()):
            context.validation_definitions.delete(definition.name)
        for suite in list(context.suites.all()):
            context.suites.delete(suite.name)
        store = context.validation_results_store
        for key in list(store.list_keys()):
            store.remove_key(key)

    def validate(self, export: RawExport, year: int, rows: pa.Table, docs_dir: Path) -> CsvValidation:
        """Run the export's suite on ``rows`` (the text table with ``source_row``) and build its
        Data Docs in ``docs_dir``."""
        frame = rows.to_pandas()  # string columns become pandas' Arrow-backed str dtype
        gx = self._gx
        rules = csv_rules(export, year)
        expectations = []
        for index, rule in enumerate(rules):
            for expectation in rule.expectations:
                expectation.meta = {"rule_index": index, "column": rule.column, "rule": rule.rule}
                expectation.description = f"{export.file_name}: column {rule.column}: rule \"{rule.rule}\""
                expectations.append(expectation)
        with self._lock:
            self._clear()
            suite = self.context.suites.add(
                gx.ExpectationSuite(name=f"{export.name}_contract", expectations=expectations)
            )
            definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=f"{export.name}_{year}", data=self._batch_definition(export), suite=suite
                )
            )
            result = definition.run(
                batch_parameters={"dataframe": frame},
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]},
            )
            outcomes = outcomes_of(export, rules, result)
            docs = self._build_docs(docs_dir)
        return CsvValidation(outcomes=outcomes, data_docs=docs)

    def _site_builder(self, folder: Path) -> Any:
        """The Data Docs site builder writing to ``folder`` (one per year folder, kept: it holds
        the compiled templates)."""
        if folder not in self._sites:
            from great_expectations.render.renderer.site_builder import SiteBuilder

            self._sites.clear()  # one year at a time is the common case; do not hoard builders
            self._sites[folder] = SiteBuilder(
                data_context=self.context,
                site_name=SITE_NAME,
                show_how_to_buttons=False,
                store_backend={
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(folder),
                },
                site_index_builder={"class_name": "DefaultSiteIndexBuilder"},
            )
        return self._sites[folder]

    def _build_docs(self, docs_dir: Path) -> Path | None:
        """Build the Data Docs of the current validation in ``docs_dir``: in a folder beside it,
        then renamed, so ``docs_dir`` holds this validation's pages only."""
        building = docs_dir.parent / ".building"
        shutil.rmtree(docs_dir, ignore_errors=True)
        shutil.rmtree(building, ignore_errors=True)
        try:
            building.mkdir(parents=True)
            self._site_builder(building).build()
            building.rename(docs_dir)
        except Exception:  # Data Docs are a convenience: their failure must not hide the findings
            shutil.rmtree(building, ignore_errors=True)
            return None
        index_html = docs_dir / "index.html"
        return index_html if index_html.is_file() else None


# ---------------------------------------------------------------------------------------------
# The worker process


class GxWorkerError(RuntimeError):
    """GX failed in the worker; the message holds the exception type, never a value."""


def gx_worker_main(fd: int) -> None:
    """The worker process (``python -c``): build the session, then validate each request read
    from the socket ``fd`` until the parent closes it."""
    import gc
    import signal
    from multiprocessing.connection import Connection

    # Ctrl-C in a terminal reaches the whole process group: the parent handles it, and this
    # process ends when the parent closes the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(fd)
    # Importing GX creates about a million long-lived objects and no garbage: the cyclic collector
    # would scan them hundreds of times for nothing (0.45 s of the 2.1 s import).
    gc.disable()
    try:
        session: GxSession | None = GxSession()
        failure = None
    except Exception as error:  # reported with every request: the parent falls back
        session, failure = None, type(error).__name__
    # Every object alive now lives as long as the process: keep them out of the collector, which
    # from now on sees only what each validation creates.
    gc.freeze()
    gc.enable()
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            break
        export_name, year, rows, docs_dir = request
        if session is None:
            reply: tuple[str, Any] = ("unavailable", failure)
        else:
            try:
                export = next(e for e in RAW_EXPORTS if e.name == export_name)
                reply = ("ok", session.validate(export, year, rows, Path(docs_dir)))
            except Exception as error:
                reply = ("error", type(error).__name__)
        try:
            connection.send(reply)
        except OSError:  # the parent is gone
            break
    # Nothing to flush (stdout is /dev/null, stderr unbuffered): skip the interpreter's slow
    # teardown of GX's hundreds of thousands of objects.
    os._exit(0)


class _GxWorker:
    """The parent's end: a ``python -c`` child process, a socket to it and a thread that sends
    the requests one at a time and resolves their futures.

    A plain subprocess, not ``multiprocessing``: its spawn start method imports the parent's
    ``__main__`` module again in the child, which would run a user's unguarded script twice.
    """

    def __init__(self) -> None:
        import queue
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])  # the folder holding pipelines/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        code = (
            "import sys; sys.path.pop(0); "  # not the working folder: the parent's pipelines/
            "from pipelines.checks.gx_validation import gx_worker_main; "
            "gx_worker_main(int(sys.argv[1]))"
        )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._connection = Connection(ours.detach())
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._broken = False
        self._thread = threading.Thread(target=self._serve, name="gx-worker-client", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            item = self._requests.get()
            if item is None:
                return
            request, future = item
            if not future.set_running_or_notify_cancel():
                continue
            if self._broken:
                future.set_result(None)
                continue
            try:
                self._connection.send(request)
                status, payload = self._connection.recv()
            except (EOFError, OSError):
                self._broken = True
                future.set_result(None)
                continue
            if status == "ok":
                future.set_result(payload)
            elif status == "unavailable":
                future.set_result(None)
            else:
                future.set_exception(GxWorkerError(f"Great Expectations failed with {payload}"))

    def submit(self, export: RawExport, year: int, rows: pa.Table, docs_dir: Path) -> Future:
        """A future of the worker's validation (None when the worker is not usable)."""
        future: Future = Future()
        self._requests.put(((export.name, year, rows, str(docs_dir)), future))
        return future

    def alive(self) -> bool:
        return not self._broken and self.process.poll() is None

    def stop(self) -> None:
        """End the client thread, close the socket (the worker exits at once), reap it."""
        self._requests.put(None)
        self._thread.join(timeout=0.5)
        if self._thread.is_alive():  # a validation in flight that no check waits for any more
            self.process.kill()
            self._thread.join(timeout=5)
        self._connection.close()
        try:
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()
            self.process.wait()


_lock = threading.Lock()
_worker: _GxWorker | None = None
_local_session: GxSession | None = None
_atexit_registered = False


@dataclass
class _Prefetched:
    rows: pa.Table
    future: Future


_prefetched: dict[tuple[str, int, str], _Prefetched] = {}
"""Validations sent at ingest, by (export, year, Data Docs folder), until their check takes them."""


def _stop_gx_worker() -> None:
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop()


def start_gx_worker() -> None:
    """Start the GX worker process if it is not running (idempotent; cheap when it runs).

    ``impact run`` calls this first thing; every CSV raw asset calls it too, for runs started
    another way (the Dagster UI, tests)."""
    global _worker, _atexit_registered
    with _lock:
        if _worker is not None:
            if _worker.alive():
                return
            _worker.stop()
            _worker = None
        try:
            _worker = _GxWorker()
        except Exception:
            return  # validate_csv_export runs GX in this process
        if not _atexit_registered:
            import atexit

            atexit.register(_stop_gx_worker)
            _atexit_registered = True


def prefetch_csv_validation(export: RawExport, year: int, rows: pa.Table, docs_dir: Path) -> None:
    """Send ``rows`` (the export's table just ingested) to the worker now, so that it is
    validated while the run does other work; :func:`validate_csv_export` takes the result if
    the table is still the same."""
    start_gx_worker()
    with _lock:
        worker = _worker
        if worker is None:
            return
        key = (export.name, year, str(docs_dir))
        _prefetched[key] = _Prefetched(rows, worker.submit(export, year, rows, docs_dir))


def validate_csv_export(export: RawExport, year: int, rows: pa.Table, docs_dir: Path) -> CsvValidation:
    """Validate one CSV export's table with GX: the validation sent at ingest when the table is
    unchanged since, else one in the worker process, else one in this process."""
    global _local_session
    with _lock:
        prefetched = _prefetched.pop((export.name, year, str(docs_dir)), None)
    validation = None
    if prefetched is not None and prefetched.rows.equals(rows):
        validation = prefetched.future.result()
    if validation is None:
        start_gx_worker()
        worker = _worker
        if worker is not None:
            validation = worker.submit(export, year, rows, docs_dir).result()
    if validation is None:
        with _lock:
            if _local_session is None:
                _local_session = GxSession()
            session = _local_session
        validation = session.validate(export, year, rows, docs_dir)
    return validation
