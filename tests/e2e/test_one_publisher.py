"""One publisher per year, and a run that cannot write stops before working.

A second run of a year, sharing the release folder or the warehouse with a run in progress,
exits at once with one line naming the holder and exit code 75, and touches no file of the other
(held by a real `impact run` of a backfill: tests/e2e/test_backfill.py); a Dagster run (the
sensor's, the UI's) of a busy year waits for it, then runs. A release or warehouse
folder that cannot be written is reported before the run starts (exit code 3) and nothing is
left behind. Tests run as root, which ignores permission bits: an unwritable folder here is one
whose parent is a regular file, which no user can write into.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import yaml
from click.testing import CliRunner, Result

from pipelines.cli import main
from pipelines.core.config import Folders
from pipelines.core.preflight import BUSY_EXIT_CODE, UNWRITABLE_EXIT_CODE
from pipelines.runner import run_year
from tests.conftest import run_args
from tests.exports import YearExports


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@contextmanager
def holding(lock_files: str) -> Iterator[int]:
    """A tiny process holding the year's locks ``lock_files`` (a Python expression over
    pipelines.core.preflight and Path) until the block ends; yields its pid."""
    code = (
        "import sys; from pathlib import Path\n"
        "from pipelines.core.preflight import year_lock, run_lock_files, published_lock_file\n"
        f"with year_lock(2020, {lock_files}):\n"
        "    print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        yield holder.pid
    finally:
        holder.communicate("", timeout=30)


def run_beside(raw: Path, published: Path, warehouse: Path) -> Result:
    """``impact run`` of 2020 over ``published`` and ``warehouse``, in this process."""
    return CliRunner().invoke(main, run_args(Folders(str(raw), str(published), str(warehouse)), 2020))


def exited_at_once(result: Result, holder: int) -> None:
    """Exit code 75 and one line naming the holder: the run did not wait for the lock (it would
    then publish and exit 0). No timing: the machine may be busy."""
    assert result.exit_code == BUSY_EXIT_CODE, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"year 2020 is already being published by pid {holder} on {socket.gethostname()}, started 20" in lines[0]
    assert "lock" in lines[0].lower() and "IO Error" not in result.stderr and result.stdout == ""


def refused(published: Path, warehouse: Path, holder: int, raw: Path) -> None:
    """``impact run`` of 2020 over ``published`` and ``warehouse`` exits at once naming the holder
    and does no work: no warehouse file, no release."""
    exited_at_once(run_beside(raw, published, warehouse), holder)
    assert not (warehouse / "2020.duckdb").exists()
    assert not (published / "2020").exists()


def test_a_run_sharing_either_folder_with_the_holder_of_the_year_exits_at_once(tmp_path: Path) -> None:
    """The same release folder with another warehouse, the same warehouse with another release
    folder: each is refused while a process holds the year's locks of a run (pipelines.core.preflight)."""
    raw = tmp_path / "raw"
    YearExports.small(2020).write(raw)
    published, warehouse = tmp_path / "published", tmp_path / "warehouse"
    with holding(f"run_lock_files(2020, Path({str(published)!r}), Path({str(warehouse)!r}))") as holder:
        refused(published, tmp_path / "other-warehouse", holder, raw)
        refused(tmp_path / "other-published", warehouse, holder, raw)


def wait_for_event(instance: dg.DagsterInstance, text: str, timeout: float = 120) -> dg.EventLogEntry:
    """The first event of any run of ``instance`` whose message holds ``text``, once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id):
                if text in entry.message:
                    return entry
        time.sleep(0.1)
    raise AssertionError(f"no event says {text!r}")


def test_a_run_launched_before_impact_run_but_run_after_it_is_published_from(tmp_path: Path) -> None:
    """The same race, on to the end: the daemon launched the year's accepting run (its checks
    planned), `impact run` then accepted and published the year, and the daemon's run ran after
    it, once the lock was free. The publishing run that follows the daemon's run (as
    accepted_exports_sensor starts it) finds the exports accepted by the evaluations that
    completed last, its accepting run's, although `impact run`'s were launched later: green, the
    release unchanged, nothing refused."""
    from pipelines.definitions import build_definitions
    from pipelines.defs.jobs import ACCEPTED_TAG, YEAR_TAG, accepting_job, publishing_job
    from pipelines.runner import QUIET, execute_launched, launch, run_config

    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse"))
    YearExports.small(2020).write(tmp_path / "raw")
    definitions = build_definitions()
    config = run_config(QUIET, folders)
    with dg.instance_for_test() as instance:
        daemons = launch(definitions.resolve_job_def(accepting_job.name), instance, "2020", config, {YEAR_TAG: "2020"})
        assert run_year(2020, folders, instance).publication.endswith("(new)")
        assert execute_launched(daemons, instance).success
        publishing = execute_launched(
            launch(
                definitions.resolve_job_def(publishing_job.name),
                instance,
                "2020",
                config,
                {ACCEPTED_TAG: daemons.run.run_id},
            ),
            instance,
        )
        assert publishing.success, [e.message for e in publishing.all_events if e.is_failure]
        [release] = publishing.asset_materializations_for_node("release")
        assert release.metadata["outcome"].value == "unchanged"


def test_a_sensor_run_that_finds_its_year_busy_waits_then_publishes_green(tmp_path: Path) -> None:
    """The race of a sensor's run with `impact run` of the same year: the daemon launched the
    year's accepting run just before `impact run` took the year's lock. The run waits for the
    lock, saying so once (a warning naming the holder), then runs: green, no failure, no trace;
    its publishing run follows from accepted_exports_sensor, as the daemon starts it. What the
    instance (hence the UI) shows: both runs succeeded, the year materialized, every check
    passed; the run queue's limit (dagster.yaml) keeps a second run of the daemon for the year
    queued while one is under way."""
    from dagster._utils.tags import TagConcurrencyLimitsCounter

    from pipelines.core.config import REPO_ROOT
    from pipelines.definitions import build_definitions
    from pipelines.defs.jobs import YEAR_TAG, accepting_job, publishing_job
    from pipelines.defs.sensors import ACCEPTED_SENSOR_NAME
    from tests.e2e.test_sensors import Sensor, touch_marker

    folders = Folders(str(tmp_path / "raw"), str(tmp_path / "published"), str(tmp_path / "warehouse"))
    touch_marker(YearExports.small(2020).write(tmp_path / "raw"))
    queue = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text(encoding="utf-8"))["concurrency"]
    with dg.instance_for_test(overrides={"concurrency": queue}) as instance:
        sensor = Sensor(folders, instance)
        [request] = sensor.tick().run_requests
        definitions = build_definitions(folders=folders)

        def launch(job: str, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
            return definitions.resolve_job_def(job).execute_in_process(
                partition_key=request.partition_key, tags=request.tags, instance=instance, raise_on_error=False
            )

        lock = f"run_lock_files(2020, Path({folders.published_dir!r}), Path({folders.warehouse_dir!r}))"
        with ThreadPoolExecutor(max_workers=1) as pool, holding(lock) as holder:  # the lock released first
            accepting = pool.submit(launch, accepting_job.name, request)
            waiting = wait_for_event(instance, "this run waits for it to end")
            assert waiting.level == logging.WARNING
            assert waiting.message.startswith(f"year 2020 is being published by pid {holder} on ")
            [started] = instance.get_runs()
            assert started.status == dg.DagsterRunStatus.STARTED and started.tags[YEAR_TAG] == "2020"
            # Meanwhile the queue holds any other run the daemon is asked for the year.
            limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
            counter = TagConcurrencyLimitsCounter(limits, [started])
            assert counter.is_blocked(dg.DagsterRun(job_name=publishing_job.name, tags={YEAR_TAG: "2020"}))
            assert not counter.is_blocked(dg.DagsterRun(job_name=publishing_job.name, tags={YEAR_TAG: "2021"}))
            assert not sensor.tick().run_requests  # being published: looked at again once it has ended
        accepted = accepting.result()
        assert accepted.success

        run = instance.get_run_by_id(accepted.run_id)
        success = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0].dagster_event
        chain = definitions.resolve_sensor_def(ACCEPTED_SENSOR_NAME)
        follow = chain(
            dg.build_run_status_sensor_context(
                sensor_name=ACCEPTED_SENSOR_NAME, dagster_event=success, dagster_instance=instance, dagster_run=run
            )
        )
        assert follow.tags[YEAR_TAG] == "2020" and follow.run_key == f"publish-{run.run_id}"
        assert launch(publishing_job.name, follow).success

        runs = instance.get_runs()
        assert [(r.job_name, r.status) for r in runs] == [
            (publishing_job.name, dg.DagsterRunStatus.SUCCESS),
            (accepting_job.name, dg.DagsterRunStatus.SUCCESS),
        ]
        for r in runs:
            levels = {entry.level for entry in instance.all_logs(r.run_id)}
            assert logging.ERROR not in levels, r.job_name
        for asset in ("raw_cases", "accepted_exports", "missing_children_by_state", "release"):
            [record] = instance.fetch_materializations(dg.AssetKey(asset), limit=5).records
            assert record.partition_key == "2020", asset
        evaluations = [
            e.dagster_event.event_specific_data
            for r in runs
            for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
        assert evaluations and all(e.passed for e in evaluations)
        assert len(evaluations) == len(definitions.resolve_asset_graph().asset_check_keys)
        assert not sensor.tick().run_requests  # published from these exports now
    assert (Path(folders.published_dir) / "2020" / "manifest.json").is_file()


def test_unwritable_folders_are_reported_before_the_run_starts(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    raw = tmp_path / "raw"
    YearExports.small(2020).write(raw)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    before = files(tmp_path)
    cases = [
        (blocker / "published", tmp_path / "warehouse", "release folder", blocker / "published"),
        (tmp_path / "published", blocker / "warehouse", "warehouse folder", blocker / "warehouse"),
    ]
    for published, warehouse, what, where in cases:
        result = CliRunner().invoke(main, run_args(Folders(str(raw), str(published), str(warehouse)), 2020))
        assert result.exit_code == UNWRITABLE_EXIT_CODE, result.output
        assert result.stderr == f"impact run: cannot write to the {what} {where}: Not a directory\n"
        # Nothing left behind: no folder created for the other, no warehouse, no release.
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "raw"]
        assert files(tmp_path) == before

    outcome = run_year(2020, Folders(str(raw), str(blocker / "published"), str(tmp_path / "warehouse")), instance)
    assert outcome.failures == [
        f"run failed: cannot write to the release folder {blocker / 'published'}: Not a directory"
    ]
