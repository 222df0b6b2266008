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

import functools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import ExecuteRunWithPlanIterable, create_execution_plan, job_execution_iterator
from dagster._core.execution.context_creation_job import (
    PlanOrchestrationContextManager,
    orchestration_context_event_generator,
)
from dagster._core.execution.execute_in_process import merge_run_tags
from dagster._core.instance.ref import InstanceRef  # what `dagster dev` opens its instance with
from dagster._core.remote_origin import RemoteRepositoryOrigin
from dagster._core.workspace.load import location_origins_from_yaml_paths
from tqdm import tqdm

from pipelines.core.config import PROJECT_DAGSTER_HOME, REPO_ROOT, Folders
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
    """The job ``name`` of the code location with its resources fixed to ``folders`` (tests that
    execute a job themselves)."""
    return build_definitions(folders=folders).resolve_job_def(name)


def run_config(
    log_level: str | None = None, folders: Folders | None = None, acknowledged: tuple[str, ...] = ()
) -> dict:
    """The config of a run of ``impact run``: its folders and the figures it acknowledges (its
    flags), for the resources that read them when the run starts; the console logger's level:
    INFO shows each step's own messages (rows ingested, check results, the release), Dagster's
    per-event DEBUG lines stay in the event log unless asked for, ``QUIET`` shows nothing."""
    config: dict = {"loggers": {"console": {"config": {"log_level": log_level or default_log_level()}}}}
    resources: dict = {}
    if folders is not None:
        resources["folders"] = {"config": {"raw_dir": folders.raw_dir, "published_dir": folders.published_dir}}
        resources["warehouse"] = {"config": {"directory": folders.warehouse_dir}}
    if acknowledged:
        resources["year_over_year"] = {"config": {"acknowledged": list(acknowledged)}}
    return {**config, "resources": resources} if resources else config


@functools.cache
def code_location() -> RemoteRepositoryOrigin:
    """The code location of workspace.yaml as ``dagster dev`` loads it. A run created with its
    origin is a run of the location's job for the UI: the job's Runs tab and Overview's timeline
    select runs by the tag ``.dagster/repository`` (``__repository__@impact_pipeline``) that
    Dagster derives from it; a run without one is shown nowhere but the Runs list."""
    [origin] = location_origins_from_yaml_paths([str(REPO_ROOT / "workspace.yaml")])
    return RemoteRepositoryOrigin(code_location_origin=origin, repository_name=SINGLETON_REPOSITORY_NAME)


@dataclass(frozen=True)
class LaunchedRun:
    """A run recorded in the instance (its planned events stored), not yet executed."""

    job_def: dg.JobDefinition
    job: InMemoryJob
    plan: object
    run: dg.DagsterRun
    config: Mapping[str, object]


def launch(
    job_def: dg.JobDefinition,
    instance: dg.DagsterInstance,
    partition_key: str,
    config: Mapping[str, object],
    tags: Mapping[str, str],
) -> LaunchedRun:
    """The run recorded as ``execute_in_process`` records it, as a run of the code location's job
    (:func:`code_location`)."""
    job = InMemoryJob(job_def)
    run_tags = merge_run_tags(job_def, partition_key, tags, None, instance, config)
    plan = create_execution_plan(
        job, run_config=config, instance_ref=instance.get_ref() if instance.is_persistent else None
    )
    run = instance.create_run_for_job(
        job_def=job_def,
        execution_plan=plan,
        run_config=config,
        tags=run_tags,
        remote_job_origin=code_location().get_job_origin(job_def.name),
    )
    return LaunchedRun(job_def, job, plan, run, config)


def execute_launched(
    launched: LaunchedRun,
    instance: dg.DagsterInstance,
    on_event: Callable[[dg.DagsterEvent], None] | None = None,
) -> dg.ExecuteInProcessResult:
    """Execute a launched run here, in this process (no run worker), each event handed to
    ``on_event`` as it happens (the progress line)."""
    context = PlanOrchestrationContextManager(
        context_event_generator=orchestration_context_event_generator,
        job=launched.job,
        execution_plan=launched.plan,
        dagster_run=launched.run,
        instance=instance,
        run_config=launched.config,
        executor_defs=None,
        output_capture=None,
        raise_on_error=False,
    )
    events = []
    for event in ExecuteRunWithPlanIterable(launched.plan, job_execution_iterator, context):
        events.append(event)
        if on_event is not None:
            on_event(event)
    return dg.ExecuteInProcessResult(events, instance.get_run_by_id(launched.run.run_id), None, launched.job_def)


STARTED_BY = "impact run"
STAGES = {accepting_job.name: "accepting its exports", publishing_job.name: "publishing it"}
"""What each of the year's two runs does, as the progress line says it."""


class ProgressLine:
    """Which step of the year ``impact run`` is in and how long the year has taken, on one line of
    a terminal that updates (tqdm, on stderr) and is gone once the year ends; nothing at all when
    the stream is not a terminal, so a log file or a pipe gets what it always got."""

    def __init__(self, year: int, steps: int, stream: TextIO) -> None:
        self.year, self.steps, self.started = year, steps, 0
        self.bar = tqdm(
            desc=f"{year}: starting",
            bar_format="{desc}, {elapsed}",
            file=stream,
            leave=False,
            dynamic_ncols=True,
            disable=not stream.isatty(),
        )
        self._done = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        if not self.bar.disable:
            self._ticker.start()

    def _tick(self) -> None:
        """The elapsed time goes on while a step works (some take seconds)."""
        while not self._done.wait(0.5):
            self.bar.refresh()

    def event(self, event: dg.DagsterEvent) -> None:
        if event.event_type != dg.DagsterEventType.STEP_START:
            return
        self.started += 1
        stage = STAGES.get(event.job_name, event.job_name)
        self.bar.set_description_str(f"{self.year}: {stage}, {event.step_key} (step {self.started} of {self.steps})")

    def close(self) -> None:
        self._done.set()
        if self._ticker.is_alive():
            self._ticker.join()
        self.bar.close()


def run_year(
    year: int,
    folders: Folders,
    instance: dg.DagsterInstance | None = None,
    log_level: str | None = None,
    progress: TextIO | None = None,
    acknowledged: tuple[str, ...] = (),
) -> YearOutcome:
    """Run the year's two steps: ``accept_exports``, then, when it accepted every export,
    ``yearly_release``; nothing is published unless every check passes. ``instance``: the
    project's (:func:`default_instance`) unless given; ``progress``: the stream of a progress
    line when it is a terminal (:class:`ProgressLine`); ``acknowledged``: figures the operator
    accepts outside the band around last year's release (``--acknowledge-change``). The code
    location is built once per process; the folders and figures go in each run's config."""
    if instance is None:
        with default_instance() as project_instance:
            return run_year(year, folders, project_instance, log_level, progress, acknowledged)
    definitions = build_definitions()
    config = run_config(log_level, folders, acknowledged)
    jobs = [definitions.resolve_job_def(job.name) for job in (accepting_job, publishing_job)]
    line = ProgressLine(year, sum(len(job.graph.nodes) for job in jobs), progress) if progress else None

    def step(job_def: dg.JobDefinition, tags: dict[str, str]) -> dg.ExecuteInProcessResult:
        tags = {STARTED_BY_TAG: STARTED_BY, **tags}
        result = execute_launched(launch(job_def, instance, str(year), config, tags), instance, line and line.event)
        logs.append(write_run_log(instance, result.run_id, folders, year))
        return result

    logs: list[Path] = []
    try:
        result = step(jobs[0], {})
        if result.success:
            result = step(jobs[1], {ACCEPTED_TAG: result.run_id})
    finally:
        if line is not None:
            line.close()
    return _outcome(year, folders, instance, result, logs[-1])


def _outcome(
    year: int, folders: Folders, instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult, log: Path
) -> YearOutcome:
    """The year's outcome from its last run, and its alert line when it was not published."""
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
        log=log,
        product_error=_has_product_error(result),
        publication=_publication(result) if result.success else "",
    )
