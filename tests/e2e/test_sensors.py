"""The raw-folder sensor and the yearly schedule, evaluated in-process over temporary raw folders.

They look only at file names, sizes, times and SHA-256s, so the exports here are a few bytes
each; tests/e2e/test_operating.py runs real years through them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

import pipelines.defs.sensors
from pipelines.core.config import Folders
from pipelines.core.preflight import lock_holder, warehouse_lock_file, year_lock
from pipelines.definitions import build_definitions, build_resources
from pipelines.defs.jobs import EXPORTS_TAG, content_key
from pipelines.defs.schedules import YEAR_TAG
from pipelines.defs.sensors import CHANGED_TAG, EXPORT_FILES, MARKER, SENSOR_NAME
from pipelines.publishing.manifest import sha256_file

YEAR = 2020


def write_year(folders: Folders, year: int = YEAR, names=EXPORT_FILES, marker: bool = True) -> Path:
    """Stand-in exports (the sensor never parses them) and, last, the marker."""
    folder = Path(folders.raw_dir) / str(year)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(f"{name} of {year}\n", encoding="utf-8")
    if marker:
        touch_marker(folder)
    return folder


def touch_marker(folder: Path) -> None:
    marker = folder / MARKER
    marker.touch()
    latest = max((p.stat().st_mtime_ns for p in folder.iterdir() if p.name != MARKER), default=0)
    os.utime(marker, ns=(latest + 1_000_000, latest + 1_000_000))  # after the exports, even on coarse clocks


def publish_manifest(folders: Folders, year: int = YEAR) -> None:
    """A current release whose manifest names the SHA-256 of the exports now in raw/<year>/."""
    release = Path(folders.published_dir) / ".releases" / f"{year}-0123456789abcdef"
    release.mkdir(parents=True)
    raw = Path(folders.raw_dir) / str(year)
    inputs = [{"path": f"raw/{year}/{n}", "sha256": sha256_file(raw / n)} for n in EXPORT_FILES]
    (release / "manifest.json").write_text(json.dumps({"year": year, "inputs": inputs}), encoding="utf-8")
    (Path(folders.published_dir) / str(year)).symlink_to(Path(".releases") / release.name)


class Sensor:
    """The code location's raw_exports_sensor, its resources over ``folders``, ticking with its cursor."""

    def __init__(self, folders: Folders, instance: dg.DagsterInstance | None = None) -> None:
        self.defs = build_definitions()
        self.resources = build_resources(folders)
        self.sensor = self.defs.resolve_sensor_def(SENSOR_NAME)
        self.instance = instance or dg.DagsterInstance.ephemeral()
        self.cursor: str | None = None

    def tick(self) -> dg.SensorExecutionData:
        # As the daemon ticks: the resources the sensor asks for, set up for the tick alone.
        with dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            repository_def=self.defs.get_repository_def(),
            resources=self.resources,
        ) as context:
            data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return data


def schedule_tick(folders: Folders, tick_year: int, instance: dg.DagsterInstance):
    defs = build_definitions()
    with dg.build_schedule_context(
        instance=instance,
        repository_def=defs.get_repository_def(),
        scheduled_execution_time=datetime(tick_year, 1, 15, 6, 0, tzinfo=UTC),
        resources=build_resources(folders),
    ) as context:
        return defs.resolve_schedule_def("yearly_release_schedule").evaluate_tick(context)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A Dagster instance in a temporary folder (a schedule's context needs a stored one)."""
    with dg.instance_for_test() as instance:
        yield instance


def test_nothing_there_skips(folders: Folders, instance: dg.DagsterInstance) -> None:
    tick = Sensor(folders).tick()
    assert not tick.run_requests
    assert f"no exports for 2019, {YEAR}, 2021" in tick.skip_message

    scheduled = schedule_tick(folders, YEAR + 1, instance)
    assert not scheduled.run_requests
    assert "missing " + ", ".join(EXPORT_FILES) in scheduled.skip_message


def test_missing_exports_skip_naming_them(folders: Folders, instance: dg.DagsterInstance) -> None:
    write_year(folders, names=["cases.csv", "program_metrics.csv"])
    tick = Sensor(folders).tick()
    assert not tick.run_requests
    expected = f"{YEAR}: missing cvip_offender_relationships.csv, cvip_requests.csv, cybertipline_reports.parquet"
    assert expected in tick.skip_message

    scheduled = schedule_tick(folders, YEAR + 1, instance)
    assert not scheduled.run_requests
    assert expected in scheduled.skip_message
    assert scheduled.skip_message.startswith("not published on its deadline")


def test_five_exports_without_the_marker_are_unfinished(folders: Folders, instance: dg.DagsterInstance) -> None:
    write_year(folders, marker=False)
    tick = Sensor(folders).tick()
    assert not tick.run_requests
    assert f"{YEAR}: unfinished: no {MARKER} written after the last export" in tick.skip_message
    assert not schedule_tick(folders, YEAR + 1, instance).run_requests


def test_an_export_written_after_the_marker_is_unfinished(folders: Folders, instance: dg.DagsterInstance) -> None:
    folder = write_year(folders)
    marker_time = (folder / MARKER).stat().st_mtime_ns
    os.utime(folder / "cases.csv", ns=(marker_time + 1, marker_time + 1))  # still being copied
    tick = Sensor(folders).tick()
    assert not tick.run_requests
    assert f"{YEAR}: unfinished (modified after {MARKER}) cases.csv" in tick.skip_message
    scheduled = schedule_tick(folders, YEAR + 1, instance)
    assert f"unfinished (modified after {MARKER}) cases.csv" in scheduled.skip_message


def test_a_complete_year_gets_one_run_request_then_none_for_the_same_content(folders: Folders) -> None:
    folder = write_year(folders)
    (folder / "demo.json").write_text("{}")  # other files are not exports: ignored
    (folder / ".cases.csv.tmp").write_text("partial")
    sensor = Sensor(folders)

    first = sensor.tick()
    assert [(r.partition_key, r.job_name) for r in first.run_requests] == [(str(YEAR), None)]
    request = first.run_requests[0]
    hashes = {name: sha256_file(folder / name) for name in EXPORT_FILES}
    assert request.run_key == content_key(YEAR, hashes)
    assert request.run_key.startswith(f"release-{YEAR}-")
    assert request.tags[EXPORTS_TAG] == request.run_key
    assert request.tags[CHANGED_TAG] == "first release"

    again = sensor.tick()
    assert not again.run_requests
    assert f"{YEAR}: exports unchanged since the last tick" in again.skip_message


def test_a_corrected_export_gets_a_new_request_naming_it(folders: Folders) -> None:
    folder = write_year(folders)
    publish_manifest(folders)
    sensor = Sensor(folders)
    first = sensor.tick()
    assert not first.run_requests
    assert f"{YEAR}: the current release was made from these exports" in first.skip_message

    (folder / "cases.csv").write_text("case_number,...\ncorrected\n", encoding="utf-8")
    touch_marker(folder)
    corrected = sensor.tick()
    assert [r.partition_key for r in corrected.run_requests] == [str(YEAR)]
    assert corrected.run_requests[0].tags[CHANGED_TAG] == "cases.csv"


def test_content_equal_to_the_current_release_gets_no_request(folders: Folders, instance: dg.DagsterInstance) -> None:
    write_year(folders)
    publish_manifest(folders)
    tick = Sensor(folders).tick()
    assert not tick.run_requests
    scheduled = schedule_tick(folders, YEAR + 1, instance)
    assert not scheduled.run_requests
    assert f"{YEAR}: the current release was made from these exports" in scheduled.skip_message


def test_a_tick_reads_only_the_exports_whose_size_or_times_changed(
    folders: Folders, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_year(folders)
    read: list[str] = []

    def counting(path: Path) -> str:
        read.append(path.name)
        return sha256_file(path)

    monkeypatch.setattr(pipelines.defs.sensors, "sha256_file", counting)
    sensor = Sensor(folders)
    sensor.tick()
    assert sorted(read) == sorted(EXPORT_FILES)

    read.clear()
    sensor.tick()
    assert read == []  # a warm tick: one stat per file, no export read

    (folder / "program_metrics.csv").write_text("metric_id,...\nrevised\n", encoding="utf-8")
    touch_marker(folder)
    assert sensor.tick().run_requests
    assert read == ["program_metrics.csv"]


def test_a_run_asked_for_the_same_content_elsewhere_is_not_asked_again(
    folders: Folders, instance: dg.DagsterInstance
) -> None:
    folder = write_year(folders)
    sensor = Sensor(folders, instance)
    key = content_key(YEAR, {name: sha256_file(folder / name) for name in EXPORT_FILES})
    job = sensor.defs.resolve_job_def("yearly_release")
    run = sensor.instance.create_run_for_job(job_def=job, tags={EXPORTS_TAG: key})  # e.g. by the schedule

    tick = sensor.tick()
    assert not tick.run_requests
    assert (
        f"{YEAR}: these exports already have a run, run {run.run_id} of yearly_release (not_started)"
        in tick.skip_message
    )
    scheduled = schedule_tick(folders, YEAR + 1, instance)
    assert not scheduled.run_requests
    assert (
        f"{YEAR}: these exports already have a run, run {run.run_id} of yearly_release (not_started)"
        in scheduled.skip_message
    )


def test_the_schedule_asks_for_the_year_that_just_ended_when_it_is_complete(
    folders: Folders, instance: dg.DagsterInstance
) -> None:
    for year in (YEAR, 2023):
        folder = write_year(folders, year)
        requests = list(schedule_tick(folders, year + 1, instance).run_requests or [])
        assert [r.partition_key for r in requests] == [str(year)]
        hashes = {name: sha256_file(folder / name) for name in EXPORT_FILES}
        assert requests[0].run_key == content_key(year, hashes)
        assert requests[0].tags[YEAR_TAG] == str(year)


def test_a_year_being_published_is_not_asked_for_until_its_publisher_ends(
    folders: Folders, instance: dg.DagsterInstance
) -> None:
    """`impact run` of exports that just arrived holds the year's lock: a run asked for meanwhile
    would stop on it and be reported as a failure."""
    write_year(folders)
    sensor = Sensor(folders)
    lock = warehouse_lock_file(Path(folders.warehouse_dir), YEAR)
    lock.parent.mkdir(parents=True)
    lock.write_text("pid 4242 on host-1, started 2026-11-29T12:40:01+00:00\n")  # a killed run's line
    assert lock_holder(lock) is None  # no flock on it: nobody
    with year_lock(YEAR, [lock]):
        busy = sensor.tick()
        assert not busy.run_requests
        assert f"{YEAR}: being published by pid {os.getpid()} on " in busy.skip_message
        scheduled = schedule_tick(folders, YEAR + 1, instance)
        assert f"{YEAR}: being published by pid {os.getpid()} on " in scheduled.skip_message
    assert lock_holder(lock) is None
    assert [r.partition_key for r in sensor.tick().run_requests] == [str(YEAR)]  # looked at again


def test_a_year_with_a_run_of_the_daemon_under_way_is_looked_at_again_once_it_has_ended(folders: Folders) -> None:
    """A run the daemon started for the year (the accepting run of another content, or its
    publishing run) that is queued or running: the sensor asks for nothing, and does not forget
    the content; once that run has ended, it asks for it."""
    from pipelines.defs.jobs import YEAR_TAG

    write_year(folders)
    sensor = Sensor(folders)
    job = sensor.defs.resolve_job_def("yearly_release")
    running = sensor.instance.create_run_for_job(
        job_def=job, tags={YEAR_TAG: str(YEAR)}, status=dg.DagsterRunStatus.STARTED
    )
    busy = sensor.tick()
    assert not busy.run_requests
    by = f"run {running.run_id} of yearly_release (started)"
    assert f"{YEAR}: being published by {by}; looked at again once it has ended" in busy.skip_message
    sensor.instance.report_run_failed(running)
    assert [r.partition_key for r in sensor.tick().run_requests] == [str(YEAR)]


def a_bad_value(folder: Path) -> None:
    """A value outside the contract (Great Expectations refuses it)."""
    cases = folder / "cases.csv"
    cases.write_text(cases.read_text(encoding="utf-8").replace(",FA,", ",NOT_A_TYPE,"), encoding="utf-8")


def not_utf8(folder: Path) -> None:
    """A file ingest cannot read."""
    (folder / "cases.csv").write_bytes(b"case_number,intake_date\n\xff\xfe\n")


@pytest.mark.parametrize("spoil", [a_bad_value, not_utf8])
def test_exports_impact_run_refused_are_not_run_again_until_they_change(
    folders: Folders, instance: dg.DagsterInstance, spoil
) -> None:
    """`impact run` refused the year at its exports (a red run): the sensor and the schedule,
    looking at the same content afterwards with a fresh cursor, ask for no second refusal; once
    an export changes, the sensor asks for a run of the new content."""
    from pipelines.runner import run_year
    from tests.exports import YearExports

    exports = YearExports.small(YEAR)
    folder = exports.write(Path(folders.raw_dir))
    spoil(folder)
    touch_marker(folder)
    refused = run_year(YEAR, folders, instance)
    assert not refused.success
    [run] = instance.get_runs()  # accept_exports, red
    key = content_key(YEAR, {name: sha256_file(folder / name) for name in EXPORT_FILES})

    tick = Sensor(folders, instance).tick()
    assert not tick.run_requests
    assert run.tags[EXPORTS_TAG] == key
    assert (
        f"{YEAR}: these exports already have a run, run {run.run_id} of accept_exports (failure)" in tick.skip_message
    )
    assert not schedule_tick(folders, YEAR + 1, instance).run_requests

    exports.write(Path(folders.raw_dir))  # corrected
    touch_marker(folder)
    [request] = Sensor(folders, instance).tick().run_requests
    assert request.run_key != key and request.tags[CHANGED_TAG] == "first release"


def test_a_run_of_some_of_the_exports_ran_no_content_of_the_year(
    folders: Folders, instance: dg.DagsterInstance
) -> None:
    """Accepting one export (a selection in the UI) says no content: the sensor still asks for
    the year's five."""
    from pipelines.defs.jobs import accepting_job
    from pipelines.runner import job_for
    from tests.exports import YearExports

    touch_marker(YearExports.small(YEAR).write(Path(folders.raw_dir)))
    one = job_for(folders, accepting_job.name).execute_in_process(
        partition_key=str(YEAR), instance=instance, asset_selection=[dg.AssetKey("raw_cases")]
    )
    assert one.success
    assert EXPORTS_TAG not in instance.get_run_by_id(one.run_id).tags
    assert [r.partition_key for r in Sensor(folders, instance).tick().run_requests] == [str(YEAR)]
