"""Failed runs, reported: one JSON line each in ``<warehouse>/alerts.jsonl``.

A run started by the sensor or the schedule has nobody watching it. When it fails — a check
refused the year (pipelines/defs/gate.py), a product error, a folder it cannot write — the
run-failure sensor ``failed_run_alerts``, run by the Dagster daemon, appends one line to
``<warehouse>/alerts.jsonl``; ``impact run`` appends the same line itself for a year it could not
publish (the daemon's sensors watch its runs only while a daemon runs). Both take the problems from the run's
events with ``failure_messages``, the one-line problems the CLI prints: file, column, rule, count
and row numbers, never a value of the exports. A monitoring tool or a cron job follows the file
(``tail -F``, or a line count); README.md, "Operating it".

A line: ``{"job": ..., "problems": [...], "run_id": ..., "time": <run end, ISO 8601 UTC>,
"year": <int or null>}``, keys sorted. A run has at most one line, whoever reports it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import PARTITION_TAG, Warehouse
from pipelines.public_copy.tables import withheld_summary

ALERTS_FILE = "alerts.jsonl"


def alerts_path(warehouse_dir: str | Path) -> Path:
    return Path(warehouse_dir).resolve() / ALERTS_FILE


def failure_messages(events: Iterable[dg.DagsterEvent]) -> list[str]:
    """One line per problem of a run, from its events: each failed step's (a step refused by its
    checks has their one-line problems as its failure's description, pipelines/defs/gate.py); a
    run that failed before any step (a resource that could not start: a folder cannot be
    written, exports not accepted) gives its error's message."""
    events = list(events)
    messages = []
    for event in events:
        if event.event_type != dg.DagsterEventType.STEP_FAILURE:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            messages.extend(data.user_failure_data.description.splitlines())
        else:
            # Dagster wraps the exception raised in the step; its cause is what went wrong. Its
            # message may quote a value: only its type is shown, the trace goes to the log file.
            error = data.error.cause or data.error if data.error is not None else None
            kind = error.cls_name if error is not None else "an unknown error"
            messages.append(f"step {event.step_key} failed: product error ({kind})")
    if not messages:
        for event in events:
            error = getattr(event.event_specific_data, "error", None)
            if event.event_type == dg.DagsterEventType.RUN_FAILURE and error is not None:
                cause = error.cause or error
                messages.append("run failed: " + cause.message.strip().split(": ", 1)[-1])
    return messages


def run_events(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEvent]:
    """The Dagster events of a run, from the instance's event log."""
    return [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event is not None]


def append_alert(
    path: Path, instance: dg.DagsterInstance, run_id: str, problems: list[str] | None = None
) -> dict | None:
    """Append the line of a failed run to ``path`` (``problems`` default to the run's own, from
    its events); returns it, or None when the file has a line for that run already (a sensor
    tick evaluated again after a crash). Writers take an exclusive lock on the file."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        raise ValueError(f"no run {run_id} in the Dagster instance")
    run = record.dagster_run
    end = record.end_time or datetime.now(UTC).timestamp()
    year = run.tags.get(PARTITION_TAG)
    line = {
        "job": run.job_name,
        "problems": problems if problems is not None else failure_messages(run_events(instance, run_id)),
        "run_id": run_id,
        "time": datetime.fromtimestamp(end, UTC).isoformat(timespec="seconds"),
        "year": int(year) if year and year.isdigit() else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        if any(json.loads(existing).get("run_id") == run_id for existing in handle if existing.strip()):
            return None
        handle.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return line


def alert_withheld_copy(
    warehouse_dir: str | Path, instance: dg.DagsterInstance, run_id: str, year: int, public: dict
) -> dict | None:
    """The one line of a published run whose public copy was withheld (the manifest's
    ``public`` entry): its cells named, never a value, and which release's public copy stays
    the year's current one. Appended by the release step itself, whoever started the run (no
    sensor watches a run that published)."""
    current = public.get("current") or "none: the year has no public copy"
    problem = (
        f"year {year}: published, public copy withheld: {withheld_summary(public)}; "
        f"the year's current public copy: {current}"
    )
    return append_alert(alerts_path(warehouse_dir), instance, run_id, [problem])


FAILED_SENSOR_NAME = "failed_run_alerts"


def run_alerts() -> list[dg.SensorDefinition]:
    """The code location's sensor that appends a line to ``<warehouse>/alerts.jsonl`` per failed
    run of its jobs (started by the sensor, the schedule, the UI or ``impact run``), in the
    folder of the resource ``warehouse``."""

    @dg.run_failure_sensor(
        name=FAILED_SENSOR_NAME,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "For each failed run (a refused year: a check failed; a product error; a folder that cannot be "
            "written), appends one JSON line to <warehouse>/alerts.jsonl: the year, run id, time and the "
            "one-line problems (never a value of the exports), for a monitoring tool or cron to pick up."
        ),
    )
    def failed(context: dg.RunFailureSensorContext, warehouse: Warehouse) -> None:
        run_id = context.dagster_run.run_id
        line = append_alert(alerts_path(warehouse.root()), context.instance, run_id)
        if line is not None:
            context.log.info(f"run {run_id} of {line['year']}: {len(line['problems'])} problem(s) appended to alerts")

    return [failed]
