"""Running a year through the real Dagster definitions in-process, and reading the outcome.

The CLI (``impact run``) and the tests both come through here, so what they run is exactly the
asset graph, checks and resources that ``dagster dev`` shows, recorded in the same Dagster
instance (:func:`default_instance`). A year is two runs, as the sensor and the schedule drive it
(pipelines/defs/jobs.py): ``accept_exports``, then, when it accepted the exports,
``yearly_release``.

A run's outcome is a few lines: one per problem when it failed, the release when it published.
Dagster's own log of the run (every event, with the trace of a step that raised) is written
whole to ``<warehouse_dir>/logs/<year>-<run id>.log``, which may hold raw values, unlike the
console; the CLI shows Dagster's log on the console only when asked (``impact run --verbose``).
A data problem (a failed check, or a step that raised ``dagster.Failure`` with the file, rule and
rows) is the input's fault: its lines are the whole story. Any other exception is a product
error: one line names the step and the exception type; its trace is in the log file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef  # what `dagster dev` opens its instance with

from pipelines.core.config import PROJECT_DAGSTER_HOME, Folders
from pipelines.core.config import log_level as default_log_level
from pipelines.definitions import build_definitions
from pipelines.defs.alerts import alerts_path, append_alert, failure_messages
from pipelines.defs.jobs import ACCEPTED_TAG, STARTED_BY_TAG, accepting_job, publishing_job

EXIT_BAD_INPUT = 1
EXIT_PRODUCT_ERROR = 2
QUIET = "CRITICAL"
"""The console logger's level for a quiet console: Dagster logs nothing at it, while the event
log (the instance, the run's log file) still receives every event."""


@dataclass
class YearOutcome:
    year: int
    success: bool
    release: Path | None
    """The link ``<published>/<year>`` when the year is published."""
    failures: list[str] = field(default_factory=list)
    log: Path | None = None
    """Dagster's whole log of the run."""
    product_error: bool = False
    publication: str = ""
    """The release and what it is: ``<release id> (new)``, ``(revises <id>: N cells changed)`` or
    ``(unchanged)``."""

    @property
    def exit_code(self) -> int:
        if self.success:
            return 0
        return EXIT_PRODUCT_ERROR if self.product_error else EXIT_BAD_INPUT


def _is_data_problem(data) -> bool:
    return data.user_failure_data is not None


def default_instance() -> dg.DagsterInstance:
    """The project's Dagster instance, the one ``dagster dev -w workspace.yaml`` started in the
    same working folder shows: ``DAGSTER_HOME`` when it is set; otherwise the working folder's
    ``dagster.yaml`` (the repository's keeps everything in ``.dagster/``), opened as ``dagster
    dev`` opens it, with ``.dagster/`` for whatever the file does not configure."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    home = Path(PROJECT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), config_dir=os.getcwd()))


def _log_line(entry) -> str:
    """One event of the run, as the console logger shows it, with its whole error and trace."""
    when = datetime.fromtimestamp(entry.timestamp, UTC).isoformat(timespec="milliseconds")
    level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else str(entry.level)
    line = f"{when} {level} {entry.step_key or '-'} - {entry.message}"
    error = entry.error_info
    if error is None and entry.dagster_event is not None:
        error = getattr(entry.dagster_event.event_specific_data, "error", None)
    return line + ("\n" + error.to_string() if error is not None else "")


def write_run_log(instance: dg.DagsterInstance, run_id: str, folders: Folders, year: int) -> Path:
    """Every event of the run's event log, in ``<warehouse_dir>/logs/<year>-<run id>.log``."""
    path = Path(folders.warehouse_dir).resolve() / "logs" / f"{year}-{run_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_log_line(entry) for entry in instance.all_logs(run_id)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _has_product_error(result: dg.ExecuteInProcessResult) -> bool:
    return any(
        event.step_failure_data.error is not None and not _is_data_problem(event.step_failure_data)
        for event in result.get_step_failure_events()
    )


def _publication(result: dg.ExecuteInProcessResult) -> str:
    """The release asset's own account of what it published (pipelines/defs/publishing/assets.py)."""
    for materialization in result.asset_materializations_for_node("release"):
        metadata = materialization.metadata
        return f"{metadata['release_id'].value} ({metadata['outcome'].value})"
    return ""


def job_for(folders: Folders, name: str = publishing_job.name) -> dg.JobDefinition:
    """The job ``name`` of the code location over ``folders``."""

    return build_definitions(folders).resolve_job_def(name)


def run_config(log_level: str | None = None) -> dict:
    """INFO shows each step's own messages (rows ingested, check results, the release); Dagster's
    per-event DEBUG lines stay in the event log unless asked for; ``QUIET`` shows nothing."""
    return {"loggers": {"console": {"config": {"log_level": log_level or default_log_level()}}}}


STARTED_BY = "impact run"


def run_year(
    year: int,
    folders: Folders,
    instance: dg.DagsterInstance | None = None,
    log_level: str | None = None,
) -> YearOutcome:
    """Run the year's two steps: ``accept_exports``, then, when it accepted every export,
    ``yearly_release``; nothing is published unless every check passes. ``instance``: the
    project's (:func:`default_instance`) unless given."""
    if instance is None:
        with default_instance() as project_instance:
            return run_year(year, folders, project_instance, log_level)
    definitions = build_definitions(folders)

    def execute(job: str, tags: dict[str, str]) -> dg.ExecuteInProcessResult:
        result = definitions.resolve_job_def(job).execute_in_process(
            run_config=run_config(log_level),
            partition_key=str(year),
            instance=instance,
            raise_on_error=False,
            tags={STARTED_BY_TAG: STARTED_BY, **tags},
        )
        logs.append(write_run_log(instance, result.run_id, folders, year))
        return result

    logs: list[Path] = []
    result = execute(accepting_job.name, {})
    if result.success:
        result = execute(publishing_job.name, {ACCEPTED_TAG: result.run_id})
    failures = failure_messages(result.all_events)
    if not result.success:
        # The daemon's run-failure sensor watches these runs only while a daemon runs: the same
        # line as it writes (pipelines/defs/alerts.py), with the problems printed here; once.
        append_alert(alerts_path(folders.warehouse_dir), instance, result.run_id, failures)
    return YearOutcome(
        year=year,
        success=result.success,
        release=Path(folders.published_dir) / str(year) if result.success else None,
        failures=failures,
        log=logs[-1],
        product_error=_has_product_error(result),
        publication=_publication(result) if result.success else "",
    )
