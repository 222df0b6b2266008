"""Operating it without anyone watching: the sensor's requests run as real years, a correction
publishes a revision whose diff is in the run's metadata, and a refused run leaves one alert line.

The runs are the real ``yearly_release`` job in-process (``run_year``) over tiny exports; the
sensor is the code location's, ticking with its cursor (tests/e2e/test_sensors.py has the rest).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from pipelines.core.config import Folders
from pipelines.defs.alerts import ALERTS_FILE, FAILED_SENSOR_NAME
from pipelines.defs.sensors import CHANGED_TAG
from pipelines.publishing.diff import changes_per_table, diff_releases
from pipelines.publishing.history import history
from pipelines.runner import run_year
from tests.conftest import folders_in
from tests.e2e.test_sensors import Sensor, touch_marker
from tests.exports import YearExports, resolved_cases

YEAR = 2020
RAW_VALUE = "Q7SECRET"
"""A value in an export that must never leave raw/ and the warehouse."""


def release_metadata(instance: dg.DagsterInstance) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey("release"))
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


def run_requested(sensor: Sensor, folders: Folders) -> list[dg.RunRequest]:
    """Tick, and run each requested year as the daemon would launch it."""
    requests = list(sensor.tick().run_requests or [])
    for request in requests:
        outcome = run_year(int(request.partition_key), folders, instance=sensor.instance)
        assert outcome.success, outcome.failures
    return requests


def test_a_year_arrives_is_corrected_and_publishes_a_revision_with_its_diff(folders: Folders) -> None:
    exports = YearExports.small(YEAR)
    exports.cases += resolved_cases("T", 20, YEAR)
    folder = exports.write(Path(folders.raw_dir))
    touch_marker(folder)
    sensor = Sensor(folders)

    assert [r.tags[CHANGED_TAG] for r in run_requested(sensor, folders)] == ["first release"]
    first = history(Path(folders.published_dir), YEAR)
    assert len(first) == 1
    assert "cells_changed" not in release_metadata(sensor.instance)
    assert not Sensor(folders).tick().run_requests  # a fresh cursor: the release was made from them
    again = run_year(YEAR, folders, instance=sensor.instance)  # by hand: the same release
    assert again.success and again.publication == f"{first[0].name} (unchanged)"  # what `impact run` prints
    assert history(Path(folders.published_dir), YEAR) == first
    assert release_metadata(sensor.instance)["cells_changed"] == 0

    exports.cases += resolved_cases("late", 1, YEAR)  # a late case, one more such case in Texas
    exports.write(Path(folders.raw_dir))
    touch_marker(folder)
    assert [r.tags[CHANGED_TAG] for r in run_requested(sensor, folders)] == ["cases.csv"]

    releases = history(Path(folders.published_dir), YEAR)
    assert releases[1:] == first  # a revision: the first release is kept and replaced
    metadata = release_metadata(sensor.instance)
    per_table = changes_per_table(diff_releases(releases[1], releases[0]))
    assert metadata["cells_changed_per_table"] == per_table
    assert per_table["missing_children_by_state"] > 0
    assert metadata["cells_changed"] == sum(per_table.values())
    assert metadata["outcome"] == f"revises {releases[1].name}: {metadata['cells_changed']} cells changed"
    assert not sensor.tick().run_requests

    exports.cases.pop()  # the first exports restored: `impact run` published them, a content runs once
    exports.write(Path(folders.raw_dir))
    touch_marker(folder)
    restored = sensor.tick()
    assert not restored.run_requests
    assert f"{YEAR}: these exports already have a run, run " in restored.skip_message
    assert "of yearly_release (success)" in restored.skip_message


def test_a_refused_run_adds_one_alert_line_without_raw_values(folders: Folders, tmp_path: Path) -> None:
    exports = YearExports.small(YEAR)
    exports.cases[1]["race"] = RAW_VALUE
    touch_marker(exports.write(Path(folders.raw_dir)))
    sensor = Sensor(folders)
    [request] = sensor.tick().run_requests

    outcome = run_year(int(request.partition_key), folders, instance=sensor.instance)  # as `impact run` does

    assert not outcome.success
    alerts = (Path(folders.warehouse_dir) / ALERTS_FILE).read_text(encoding="utf-8").splitlines()
    assert len(alerts) == 1
    line = json.loads(alerts[0])
    [run] = sensor.instance.get_runs()  # refused while accepting: no publishing run
    assert line["year"] == YEAR and line["run_id"] == run.run_id and line["job"] == "accept_exports"
    assert line["problems"] == outcome.failures
    assert any(p.startswith("cases.csv: column race") for p in line["problems"]), line["problems"]
    assert RAW_VALUE not in alerts[0]
    assert not sensor.tick().run_requests  # one content runs once, refused or not

    # The refused run failed, red (pipelines/defs/gate.py): the daemon's run-failure sensor
    # writes the same line from the run's events; once per run.
    assert run.status == dg.DagsterRunStatus.FAILURE
    elsewhere = folders_in(tmp_path / "daemon")
    daemon = Sensor(elsewhere)
    alert_sensor = daemon.defs.resolve_sensor_def(FAILED_SENSOR_NAME)
    failure = sensor.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
    for _ in range(2):
        with dg.build_run_status_sensor_context(
            sensor_name=FAILED_SENSOR_NAME,
            dagster_event=failure,
            dagster_instance=sensor.instance,
            dagster_run=run,
            resources=daemon.resources,
        ).for_run_failure() as context:
            alert_sensor(context)
    assert (Path(elsewhere.warehouse_dir) / ALERTS_FILE).read_text(encoding="utf-8").splitlines() == alerts


def test_a_failed_run_adds_one_alert_line_naming_its_step_and_error_type(tmp_path: Path) -> None:
    """A product error fails the run (unlike a refusal): the run-failure sensor reports it by its
    step and the exception's type only, whose message may quote a value; once per run."""

    @dg.asset
    def breaks() -> None:
        raise ValueError(RAW_VALUE)

    folders = folders_in(tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([breaks], instance=instance, raise_on_error=False)
        run = instance.get_run_by_id(result.run_id)
        failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
        daemon = Sensor(folders)
        alert_sensor = daemon.defs.resolve_sensor_def(FAILED_SENSOR_NAME)
        for _ in range(2):
            with dg.build_run_status_sensor_context(
                sensor_name=FAILED_SENSOR_NAME,
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=run,
                resources=daemon.resources,
            ).for_run_failure() as context:
                alert_sensor(context)
    [line] = (Path(folders.warehouse_dir) / ALERTS_FILE).read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["problems"] == ["step breaks failed: product error (ValueError)"]
    assert RAW_VALUE not in line
