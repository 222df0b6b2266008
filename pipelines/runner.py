"""Running a year through the real Dagster definitions in-process, and reading the outcome.

The CLI (``impact run``) and the tests both come through here, so what they run is exactly the
asset graph, checks and resources that ``dagster dev`` shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipelines.config import Folders
from pipelines.config import log_level as default_log_level


@dataclass
class YearOutcome:
    year: int
    success: bool
    release: Path | None
    failures: list[str] = field(default_factory=list)


def _failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            detail = evaluation.description or ""
            text = evaluation.metadata.get("failure")
            if text is not None and text.value:
                detail = detail + "\n    " + "\n    ".join(text.value.splitlines())
            messages.append(
                f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} failed: {detail}"
            )
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.error is not None and data.error.cls_name == "DagsterAssetCheckFailedError":
            continue  # already reported by the check evaluation above
        if data.user_failure_data is not None and data.user_failure_data.description:
            reason = data.user_failure_data.description
        elif data.error is not None:
            # Dagster wraps the exception raised in the step; its cause is what went wrong.
            error = data.error.cause or data.error
            reason = error.message.strip()
        else:
            reason = "failed"
        messages.append(f"step {event.step_key} failed: {reason}")
    if not messages:
        # A failure before any step, e.g. a resource that could not start: the year's lock is
        # held by another process, or a folder cannot be written (pipelines/preflight.py).
        for event in result.all_events:
            error = getattr(event.event_specific_data, "error", None)
            if event.event_type_value in ("PIPELINE_FAILURE", "RUN_FAILURE") and error is not None:
                cause = error.cause or error
                messages.append("run failed: " + cause.message.strip().split(": ", 1)[-1])
    skipped = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"]
    if skipped and messages:
        messages.append(f"not run because of the failures above: {', '.join(sorted(skipped))}")
    return messages


def default_instance() -> dg.DagsterInstance:
    """The Dagster instance of ``DAGSTER_HOME`` when it is set, so that runs started from the
    command line or cron show in the UI with their checks; otherwise a temporary one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_year(
    year: int,
    folders: Folders,
    instance: dg.DagsterInstance | None = None,
    log_level: str | None = None,
) -> YearOutcome:
    """Run the ``yearly_release`` job for one year: every asset and check of the code location;
    nothing is published unless all pass."""
    from pipelines.definitions import build_definitions, yearly_release_job

    job = build_definitions(folders).resolve_job_def(yearly_release_job.name)
    result = job.execute_in_process(
        # INFO shows each step's own messages (rows ingested, check results, the release);
        # Dagster's per-event DEBUG lines stay in the event log unless asked for.
        run_config={"loggers": {"console": {"config": {"log_level": log_level or default_log_level()}}}},
        partition_key=str(year),
        instance=instance or default_instance(),
        raise_on_error=False,
    )
    release = Path(folders.published_dir) / str(year)
    failures = _failure_messages(result)
    success = result.success and not failures
    return YearOutcome(year=year, success=success, release=release if success else None, failures=failures)
