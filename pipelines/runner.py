"""Running a year through the real Dagster definitions in-process, and reading the outcome.

The CLI (``impact run``) and the tests both come through here, so what they run is exactly the
asset graph, checks and resources that ``dagster dev`` shows.

A failed run ends in one line per problem. A data problem (a failed check, or a step that raised
``dagster.Failure`` with the file, rule and rows) is the input's fault: its lines are the whole
story, so the console shows no stack trace (Dagster's console logger would print one per failed
step). Any other exception is a product error: one line names the step and the exception type,
and its trace goes to a log file in the warehouse folder (which may hold raw values, unlike the
console).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.core.config import Folders
from pipelines.core.config import log_level as default_log_level
from pipelines.definitions import build_definitions
from pipelines.defs.alerts import alerts_path, append_alert, failure_messages
from pipelines.defs.jobs import yearly_release_job

EXIT_BAD_INPUT = 1
EXIT_PRODUCT_ERROR = 2


@dataclass
class YearOutcome:
    year: int
    success: bool
    release: Path | None
    failures: list[str] = field(default_factory=list)
    product_error_log: Path | None = None

    @property
    def exit_code(self) -> int:
        if self.success:
            return 0
        return EXIT_PRODUCT_ERROR if self.product_error_log is not None else EXIT_BAD_INPUT


def _is_data_problem(data) -> bool:
    return data.user_failure_data is not None or (
        data.error is not None and data.error.cls_name == "DagsterAssetCheckFailedError"
    )


def default_instance() -> dg.DagsterInstance:
    """The Dagster instance of ``DAGSTER_HOME`` when it is set, so that runs started from the
    command line or cron show in the UI with their checks; otherwise a temporary one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _write_product_error_log(result: dg.ExecuteInProcessResult, folders: Folders, year: int) -> Path | None:
    """The traces of the steps that failed for another reason than their data, in
    ``<warehouse_dir>/logs/<year>-<run id>.log``; None when there are none."""
    traces = [
        f"step {event.step_key}:\n{event.step_failure_data.error.to_string()}"
        for event in result.get_step_failure_events()
        if event.step_failure_data.error is not None and not _is_data_problem(event.step_failure_data)
    ]
    if not traces:
        return None
    path = Path(folders.warehouse_dir).resolve() / "logs" / f"{year}-{result.run_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(traces) + "\n", encoding="utf-8")
    return path


def job_for(folders: Folders) -> dg.JobDefinition:
    """The ``yearly_release`` job of the code location over ``folders``."""

    return build_definitions(folders).resolve_job_def(yearly_release_job.name)


def run_config(log_level: str | None = None) -> dict:
    """INFO shows each step's own messages (rows ingested, check results, the release); Dagster's
    per-event DEBUG lines stay in the event log unless asked for."""
    return {"loggers": {"console": {"config": {"log_level": log_level or default_log_level()}}}}


def run_year(
    year: int,
    folders: Folders,
    instance: dg.DagsterInstance | None = None,
    log_level: str | None = None,
) -> YearOutcome:
    """Run the ``yearly_release`` job for one year: every asset and check of the code location;
    nothing is published unless all pass."""
    instance = instance or default_instance()
    result = job_for(folders).execute_in_process(
        run_config=run_config(log_level),
        partition_key=str(year),
        instance=instance,
        raise_on_error=False,
    )
    release = Path(folders.published_dir) / str(year)
    failures = failure_messages(result.all_events)
    error_log = _write_product_error_log(result, folders, year)
    if error_log is not None:
        failures.append(f"the trace of the product error is in {error_log}")
    success = result.success and not failures
    if not success:
        # The daemon's run-failure sensor does not watch runs executed in this process: the
        # same line as it writes (pipelines/defs/alerts.py), with the problems printed here.
        append_alert(alerts_path(folders.warehouse_dir), instance, result.run_id, failures)
    return YearOutcome(
        year=year,
        success=success,
        release=release if success else None,
        failures=failures,
        product_error_log=error_log,
    )
